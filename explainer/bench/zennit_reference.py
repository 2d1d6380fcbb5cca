"""Time zennit's LRP on full VGG-16 on the CPU: the yardstick for the explainer's general composites.

Run in the project's PyTorch venv with zennit 0.5.1 (see explainer/fixtures/README.md):

    /work/torchvenv/bin/python explainer/bench/zennit_reference.py [--threads 2] [--repeats 7] [--batch 1]

The network, input and class are pytorch_reference.py's: `torchvision.models.vgg16(weights=None)`
with seeded random weights and non-zero biases (`random_vgg16`, imported from there), eval mode,
frozen, float32, a seeded random 224×224 input, and the class c = argmax of the first sample's
logits. For each composite the composite is registered once (`with Gradient(model, composite)`,
not timed); after one warm-up, each timed call is one `attributor(X, seed)`: zennit's forward
pass with its hooks, the modified backward pass and the relevance at the input. The seed is
one_hot(c) * logits for every sample. Medians of `--repeats` calls:

  zennit_epsilon_gamma_box_s           EpsilonGammaBox(low, high): ZBox on convolution 1, Gamma(0.25)
                                       on convolutions 2–13, Epsilon(1e-6) on the dense layers
  zennit_epsilon_alpha2_beta1_flat_s   EpsilonAlpha2Beta1Flat(): Flat on convolution 1, AlphaBeta(2, 1)
                                       on convolutions 2–13, Epsilon(1e-6) on the dense layers

(low, high) = ((0 − mean)/std, (1 − mean)/std), ImageNet mean/std, shape (1, 3, 1, 1).
Prints one JSON object on stdout.
"""

import importlib.metadata
import json
import os
import statistics
import sys

import torch
from zennit.attribution import Gradient
from zennit.composites import EpsilonAlpha2Beta1Flat, EpsilonGammaBox

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_fixtures import MEAN, STD  # noqa: E402
from pytorch_reference import parse_args, run_info, timed  # noqa: E402


def one_hot_times_logits(cl):
    """zennit's output attribution: the logit of class `cl`, 0 elsewhere, for every sample."""

    def seed(out):
        one_hot = torch.zeros_like(out)
        one_hot[:, cl] = 1
        return one_hot * out.detach()

    return seed


def time_composite(model, composite, X, cl, repeats):
    """Register `composite` once, then time `repeats` attributions after one warm-up."""
    seed = one_hot_times_logits(cl)
    with Gradient(model=model, composite=composite) as attributor:
        return timed(lambda: attributor(X, seed), repeats)


def main():
    args, model, X = parse_args(__doc__)
    with torch.no_grad():
        cl = int(model(X)[0].argmax())
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    low, high = (0 - mean) / std, (1 - mean) / std

    t_egb = time_composite(model, EpsilonGammaBox(low=low, high=high), X, cl, args.repeats)
    t_eabf = time_composite(model, EpsilonAlpha2Beta1Flat(), X, cl, args.repeats)

    result = {
        "threads": args.threads,
        "batch": args.batch,
        "repeats": args.repeats,
        "zennit_epsilon_gamma_box_s": statistics.median(t_egb),
        "zennit_epsilon_alpha2_beta1_flat_s": statistics.median(t_eabf),
        "zennit_epsilon_gamma_box_min_s": min(t_egb),
        "zennit_epsilon_alpha2_beta1_flat_min_s": min(t_eabf),
        "class_index": cl,
        "zennit": importlib.metadata.version("zennit"),
        **run_info(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
