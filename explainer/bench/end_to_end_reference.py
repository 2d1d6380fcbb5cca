"""What `explain --image IMG --weights W --method all` does, as one Python process with the sheet's code.

The yardstick of the `end_to_end` bench (explainer/benches/end_to_end.rs), which times this
script and the `explain` binary as whole processes. Run in the project's PyTorch venv:

    /work/torchvenv/bin/python explainer/bench/end_to_end_reference.py \
        --image explainer/fixtures/scene.png --weights DIR/vgg16.pth --out OUTDIR [--threads 2]

(`DIR/vgg16.pth` from explainer/bench/make_vgg16_weights.py.) In order, as a user of the sheet
would write it:

 1. import torch, torchvision, numpy, PIL and the sheet's classes (ConvPx, ConvGamma,
    make_lrpmodel, gradient_x_input, lrp, the torchvision preprocessing: all from
    explainer/fixtures/make_fixtures.py, the code the crate's fixtures come from);
    torch.set_num_threads(--threads);
 2. torchvision.models.vgg16(weights=None), then load_state_dict of torch.load(W) (a `.pth`) or
    of safetensors' load_file(W) (a `.safetensors`); eval mode, parameters frozen;
 3. the image: PIL, Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean, std)
    (what explainer/src/image.rs reproduces bit for bit);
 4. the class: --class, else the predicted one, argmax of model(X) under no_grad (what
    `explain` explains by default);
 5. the sheet's Gradient×Input: X·∂f_c/∂X;
 6. the sheet's LRP: make_lrpmodel(model) (ConvPx, the zB rule, on convolution 1, ConvGamma
    on convolutions 2–13 with γ per block 0.25/0.25/0.1/0.05/0.01, frozen like the model), then
    R = X·∂X + L·∂L + H·∂H;
 7. writes into --out what `explain` writes for an image STEM.png explained for class C:
    STEM_cC_gradient_x_input.npy and STEM_cC_lrp.npy (numpy.save, float32, 1×3×224×224) and
    STEM_cC_panel.png: the crop, then each method's heatmap with the sheet's colour law
    (channel sum, range ±10·(mean |R|³)^{1/3}, matplotlib's `seismic` darkened by 0.85, built
    here from its five anchor colours so that matplotlib's import is not timed), a title above
    each tile and a colour bar below each heatmap (PIL's default font; `explain` draws its own
    titles and bars with plotters).

Prints one JSON object on stdout: the class, its logit, the relevance sums, the output paths,
the seconds each step took inside the process (the interpreter's own start-up is not in them;
the bench times the whole process from outside) and the peak resident memory.
"""

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import numpy  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_fixtures import MEAN, STD, gradient_x_input, lrp, make_lrpmodel, preprocess  # noqa: E402

# matplotlib's `seismic` (its `_seismic_data`): five RGB anchors evenly spaced over [0, 1].
SEISMIC = numpy.array([[0.0, 0.0, 0.3], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
DARKENING = 0.85  # the sheet's `my_cmap[:, 0:3] *= 0.85`
GAP = 8  # pixels between tiles
TITLE_ROWS = 30  # pixels above each tile for its title
BAR_ROWS = 14  # pixels below each heatmap for its colour bar


def load_model(path):
    """torchvision's VGG-16 with the weights of `path` (`.pth` by torch.load, else safetensors)."""
    model = torchvision.models.vgg16(weights=None)
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    model.requires_grad_(False)
    return model


def lut():
    """The darkened seismic map as 256 RGB entries (uint8)."""
    t = numpy.linspace(0.0, 1.0, 256)
    anchors = numpy.linspace(0.0, 1.0, len(SEISMIC))
    rgb = numpy.stack([numpy.interp(t, anchors, SEISMIC[:, c]) for c in range(3)], -1) * DARKENING
    return numpy.round(rgb * 255).astype(numpy.uint8)


def heatmap(R):
    """The sheet's heatmap of one relevance `(3, H, W)`: RGB uint8 `(H, W, 3)` and its bound b."""
    r = R.sum(0)
    b = 10 * float((numpy.abs(r) ** 3).mean() ** (1.0 / 3))
    t = numpy.clip((r / max(b, 1e-30) + 1) / 2, 0, 1)
    return lut()[numpy.minimum((t * 256).astype(int), 255)], b


def panel(picture, maps, titles):
    """`picture` and the heatmaps side by side, each titled, each heatmap with a colour bar."""
    tiles = [picture] + [m for m, _ in maps]
    h, w = picture.shape[:2]
    out = Image.new("RGB", (len(tiles) * w + (len(tiles) - 1) * GAP, TITLE_ROWS + h + BAR_ROWS), "white")
    draw = ImageDraw.Draw(out)
    bar = numpy.repeat(lut()[numpy.linspace(0, 255, w).astype(int)][None], BAR_ROWS // 2, 0)
    for k, (tile, title) in enumerate(zip(tiles, titles)):
        x = k * (w + GAP)
        out.paste(Image.fromarray(numpy.ascontiguousarray(tile)), (x, TITLE_ROWS))
        draw.multiline_text((x + 2, 2), title, fill="black")
        if k > 0:
            out.paste(Image.fromarray(bar), (x, TITLE_ROWS + h + 2))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--weights", required=True, help="vgg16.pth (torch.load) or vgg16.safetensors")
    ap.add_argument("--out", required=True, help="directory for the .npy files and the panel")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--class", dest="cls", type=int, default=None, help="default: the predicted class")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = {"imports_s": time.perf_counter() - T_START}

    def step(name, t0):
        steps[name] = time.perf_counter() - t0
        return time.perf_counter()

    t = time.perf_counter()
    model = load_model(args.weights)
    t = step("load_weights_s", t)

    picture = Image.open(args.image).convert("RGB")
    # preprocess() is Resize, CenterCrop, ToTensor, Normalize: keep the crop for the panel.
    resize, center_crop, to_tensor, normalize = preprocess().transforms
    cropped = center_crop(resize(picture))
    X = normalize(to_tensor(cropped)).unsqueeze(0)
    crop = numpy.asarray(cropped)
    t = step("preprocess_s", t)

    with torch.no_grad():
        logits = model(X)
    cl = int(logits[0].argmax()) if args.cls is None else args.cls
    t = step("forward_s", t)

    _, gxi = gradient_x_input(model, X, cl)
    t = step("gradient_x_input_s", t)

    lrpmodel = make_lrpmodel(model)
    lrpmodel.requires_grad_(False)  # newlayer() makes trainable Parameters: freeze them as the model
    t = step("make_lrpmodel_s", t)
    R = lrp(lrpmodel, X, cl, torch.tensor(MEAN), torch.tensor(STD))
    t = step("lrp_s", t)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{os.path.splitext(os.path.basename(args.image))[0]}_c{cl}")
    relevance = {"gradient_x_input": gxi[0].numpy(), "lrp": R[0].numpy()}
    for name, r in relevance.items():
        numpy.save(f"{stem}_{name}.npy", r[None].astype(numpy.float32))
    logit = float(logits[0, cl])
    maps = {name: heatmap(r) for name, r in relevance.items()}
    titles = [f"class {cl}\nlogit {logit:.4f}"] + [
        f"{name}, class {cl}\nsum R = {float(relevance[name].sum()):.4f}" for name in relevance
    ]
    panel(crop, list(maps.values()), titles).save(f"{stem}_panel.png")
    step("write_s", t)

    probabilities = torch.softmax(logits[0].double(), 0)
    top5 = probabilities.topk(5)
    print(json.dumps({
        "class_index": cl,
        "logit": logit,
        "top5": [[int(i), float(p)] for p, i in zip(top5.values, top5.indices)],
        "sum_gradient_x_input": float(gxi.double().sum()),
        "sum_lrp": float(R.double().sum()),
        "outputs": [f"{stem}_panel.png"] + [f"{stem}_{name}.npy" for name in relevance],
        "threads": torch.get_num_threads(),
        **steps,
        "total_in_process_s": time.perf_counter() - T_START,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
