"""Full-size VGG-16 in float64: the sheet's PyTorch code against `explain --precision f64`.

The test `explainer/tests/flat_regions.rs` checks float64 against the sheet's code on the
fixture network (VGG-16 at 1/16 width). This script makes the same comparison at full size,
on a 256×256 picture of flat regions (the fixture's picture, scaled: `Resize(256)` leaves it as
it is, so both sides see the same pixels) and seeded random weights:

    /work/torchvenv/bin/python explainer/bench/make_vgg16_weights.py --out DIR
    /work/torchvenv/bin/python explainer/bench/float64_full_size.py --weights DIR/vgg16.pth \
        --explain target/release/explain --out DIR/f64

It writes the picture, runs `explain --image PICTURE --weights DIR/vgg16.safetensors
--method all --precision f64` into `--out`, computes the sheet's Gradient×Input and LRP in
float64 on torchvision's float32 preprocessing widened to float64 (what `--precision f64`
does), and prints the relative L2 distance of each and the tied max-pool windows per pool as
one JSON object.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

import numpy
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from end_to_end_reference import load_model  # noqa: E402
from make_fixtures import MEAN, STD, gradient_x_input, lrp, make_lrpmodel, preprocess  # noqa: E402
from make_flat_fixtures import flat_picture, tied_windows  # noqa: E402

SIDE = 256
BAND = 36  # the fixture's 32 rows of stripes, scaled


def rel_l2(a, b):
    a, b = numpy.asarray(a, numpy.float64), numpy.asarray(b, numpy.float64)
    return float(numpy.linalg.norm(a - b) / numpy.linalg.norm(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="vgg16.pth; vgg16.safetensors beside it is what explain reads")
    ap.add_argument("--explain", required=True, help="the explain binary")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    picture_path = os.path.join(args.out, "flat.png")
    Image.fromarray(flat_picture(SIDE, BAND), "RGB").save(picture_path)

    safetensors = os.path.splitext(args.weights)[0] + ".safetensors"
    subprocess.run([args.explain, "--image", picture_path, "--weights", safetensors, "--method", "all",
                    "--precision", "f64", "--force", "--out", args.out], check=True, capture_output=True)

    model = load_model(args.weights).double()
    X = preprocess()(Image.open(picture_path).convert("RGB")).unsqueeze(0).double()
    with torch.no_grad():
        logits = model(X)
    cl = int(logits.argmax())
    _, gxi = gradient_x_input(model, X, cl)
    R = lrp(make_lrpmodel(model), X, cl, torch.tensor(MEAN, dtype=torch.float64),
            torch.tensor(STD, dtype=torch.float64))
    ours = {}
    for name in ("gradient_x_input", "lrp"):
        found = glob.glob(os.path.join(args.out, f"flat_c*_{name}.npy"))
        assert len(found) == 1, found
        ours[name] = numpy.load(found[0])
    print(json.dumps({
        "class_index": cl,
        "explain_files": sorted(os.path.basename(p) for p in glob.glob(os.path.join(args.out, "*.npy"))),
        "dtype_ours": str(ours["lrp"].dtype),
        "rel_l2_gradient_x_input": rel_l2(ours["gradient_x_input"], gxi.numpy()),
        "rel_l2_lrp": rel_l2(ours["lrp"], R.numpy()),
        "tied_windows_per_pool": tied_windows(model, X),
    }))


if __name__ == "__main__":
    main()
