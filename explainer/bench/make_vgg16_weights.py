"""Write a full-size VGG-16 with seeded random weights as torchvision's state dict, twice.

Run in the project's PyTorch venv (no download; the machine needs none):

    /work/torchvenv/bin/python explainer/bench/make_vgg16_weights.py --out DIR

writes into DIR

    vgg16.pth            torch.save of the state dict (what torch.load reads)
    vgg16.safetensors    the same tensors under the same names (torchvision's:
                         features.{0,2,…,28}.{weight,bias}, classifier.{0,3,6}.{weight,bias})

The network is `pytorch_reference.random_vgg16()`: every weight normal with standard deviation
sqrt(2 / fan_in) and every bias uniform in [-0.05, 0.05], from one generator seeded with 11, so
the `end_to_end` bench's two processes read the same numbers (528 MB each file, float32).
Prints one JSON object on stdout: the paths and the number of parameters.
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import random_vgg16  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory to write vgg16.pth and vgg16.safetensors into")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    state = {k: v.contiguous().clone() for k, v in random_vgg16().state_dict().items()}
    assert all(v.dtype == torch.float32 for v in state.values())
    pth = os.path.join(args.out, "vgg16.pth")
    safetensors = os.path.join(args.out, "vgg16.safetensors")
    torch.save(state, pth)
    save_file(state, safetensors)
    print(json.dumps({"pth": pth, "safetensors": safetensors,
                      "parameters": sum(v.numel() for v in state.values())}))


if __name__ == "__main__":
    main()
