"""Time torchvision's ResNet-50 and zennit's LRP on it on the CPU: the yardstick for the ResNet bench.

Run in the project's PyTorch venv with zennit 0.5.1 (see explainer/fixtures/README.md):

    /work/torchvenv/bin/python explainer/bench/resnet50_reference.py [--threads 2] [--repeats 7] [--batch 1]

It builds `torchvision.models.resnet50(weights=None)` (torchvision's own random initialisation,
seeded; no download), in eval mode with frozen weights, and a seeded random 224×224 input, and
takes the class c = argmax of the first sample's logits. After one warm-up it times, `--repeats`
times each, and reports the medians:

  forward_s             model(X) under torch.no_grad()
  gradient_x_input_s    X.requires_grad_(), model(X)[:, c].sum().backward(), R = X * X.grad
  zennit_epsilon_gamma_box_s
                        zennit's Gradient attributor with EpsilonGammaBox(low, high,
                        canonizers=[ResNetCanonizer()]), registered once (not timed); each timed
                        call is one attributor(X, one_hot(c) * logits)

(low, high) = ((0 − mean)/std, (1 − mean)/std), ImageNet mean/std. Prints one JSON object on stdout.
"""

import argparse
import importlib.metadata
import json
import os
import statistics
import sys

import torch
import torchvision
from zennit.attribution import Gradient
from zennit.composites import EpsilonGammaBox
from zennit.torchvision import ResNetCanonizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_fixtures import MEAN, STD  # noqa: E402
from pytorch_reference import gradient_x_input, run_info, timed  # noqa: E402
from zennit_reference import one_hot_times_logits  # noqa: E402

SEED = 11


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    if args.threads < 1 or args.repeats < 1 or args.batch < 1:
        ap.error("--threads, --repeats and --batch must be at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    model = torchvision.models.resnet50(weights=None)
    model.eval()
    model.requires_grad_(False)
    X = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        cl = int(model(X)[0].argmax())

    def forward():
        with torch.no_grad():
            return model(X)

    t_fwd = timed(forward, args.repeats)
    t_gxi = timed(gradient_x_input, args.repeats, model, X, cl)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    composite = EpsilonGammaBox(low=(0 - mean) / std, high=(1 - mean) / std, canonizers=[ResNetCanonizer()])
    with Gradient(model=model, composite=composite) as attributor:
        t_egb = timed(lambda: attributor(X, one_hot_times_logits(cl)), args.repeats)

    result = {
        "threads": args.threads,
        "batch": args.batch,
        "repeats": args.repeats,
        "forward_s": statistics.median(t_fwd),
        "gradient_x_input_s": statistics.median(t_gxi),
        "zennit_epsilon_gamma_box_s": statistics.median(t_egb),
        "forward_min_s": min(t_fwd),
        "gradient_x_input_min_s": min(t_gxi),
        "zennit_epsilon_gamma_box_min_s": min(t_egb),
        "class_index": cl,
        "zennit": importlib.metadata.version("zennit"),
        **run_info(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
