"""Time the exercise sheet's PyTorch code on full VGG-16 on the CPU: the yardstick for `explainer`.

Run in the project's PyTorch venv (see explainer/fixtures/README.md):

    /work/torchvenv/bin/python explainer/bench/pytorch_reference.py [--threads 2] [--repeats 7] [--batch 1]

It builds `torchvision.models.vgg16(weights=None)` with seeded random weights (He-style normal)
and non-zero random biases (no download), in eval mode with frozen weights, and a seeded random
input. After one warm-up it times, `--repeats` times each, and reports the medians:

  forward_s            model(X) under torch.no_grad()
  gradient_x_input_s   the sheet's Gradient×Input: X.requires_grad_(), model(X)[:, c].sum().backward(),
                       R = X * X.grad
  lrp_s                the sheet's LRP: lrpmodel((X, L, H))[:, c].sum().backward(),
                       R = X*X.grad + L*L.grad + H*H.grad, with ConvPx on convolution 1 and
                       LRP-γ (ConvGamma) on convolutions 2–13, γ per block 0.25/0.25/0.1/0.05/0.01
                       (the same classes as explainer/fixtures/make_fixtures.py)

(For batch 1, `[:, c].sum()` is the sheet's `[0, c]`.) Building the LRP model is not timed.
Prints one JSON object on stdout.
"""

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision

# The sheet's LRP classes (ConvPx, ConvGamma, newlayer) and the model surgery live with the
# fixture generator, so that the code timed here is the code the fixtures come from.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_fixtures import GAMMA_PER_BLOCK, MEAN, STD, make_lrpmodel  # noqa: E402

SEED = 11
BIAS = 0.05


def random_vgg16():
    """Full torchvision VGG-16 with seeded He-style weights and biases uniform in ±BIAS."""
    model = torchvision.models.vgg16(weights=None)
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * BIAS)
    model.eval()
    model.requires_grad_(False)
    return model


def forward(model, X, cl):
    with torch.no_grad():
        return model(X)


def gradient_x_input(model, X, cl):
    X = X.detach().clone().requires_grad_(True)
    model.forward(X)[:, cl].sum().backward()
    return X * X.grad


def lrp(lrpmodel, X, cl):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    X = X.detach().clone()
    L = (X * 0 + ((0 - mean) / std).view(1, 3, 1, 1)).data
    H = (X * 0 + ((1 - mean) / std).view(1, 3, 1, 1)).data
    X.requires_grad_(True)
    L.requires_grad_(True)
    H.requires_grad_(True)
    lrpmodel.forward((X, L, H))[:, cl].sum().backward()
    return X * X.grad + L * L.grad + H * H.grad


def timed(fn, repeats, *args):
    """One untimed warm-up, then `repeats` timed calls; returns the list of seconds."""
    fn(*args)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - t0)
    return out


def run_info():
    """The tail of the JSON object: peak memory and what the timing ran on."""
    return {
        # ru_maxrss is in KiB on Linux: whole-process peak (weights, models, activations).
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg_1min_at_end": os.getloadavg()[0],
    }


def parse_args(doc):
    """--threads, --repeats, --batch (each at least 1); sets torch's threads and seed.

    Returns the arguments, the seeded random VGG-16 and the seeded random input X.
    """
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    if args.threads < 1 or args.repeats < 1 or args.batch < 1:
        ap.error("--threads, --repeats and --batch must be at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    model = random_vgg16()
    X = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    return args, model, X


def main():
    args, model, X = parse_args(__doc__)
    lrpmodel = make_lrpmodel(model)  # ConvPx + ConvGamma with the default γ schedule
    lrpmodel.requires_grad_(False)  # newlayer() makes trainable Parameters: freeze them too
    with torch.no_grad():
        cl = int(model(X)[0].argmax())

    t_fwd = timed(forward, args.repeats, model, X, cl)
    t_gxi = timed(gradient_x_input, args.repeats, model, X, cl)
    t_lrp = timed(lrp, args.repeats, lrpmodel, X, cl)

    result = {
        "threads": args.threads,
        "batch": args.batch,
        "repeats": args.repeats,
        "forward_s": statistics.median(t_fwd),
        "gradient_x_input_s": statistics.median(t_gxi),
        "lrp_s": statistics.median(t_lrp),
        "forward_min_s": min(t_fwd),
        "gradient_x_input_min_s": min(t_gxi),
        "lrp_min_s": min(t_lrp),
        "class_index": cl,
        "gamma_per_block": GAMMA_PER_BLOCK,
        **run_info(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
