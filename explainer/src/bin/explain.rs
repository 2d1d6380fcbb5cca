//! `explain`: why does a VGG or ResNet see this class in this image?
//!
//! ```text
//! explain                                               # the shipped model on synthetic scenes
//! explain --image castle.jpg --class castle            # torchvision's cached VGG-16 weights
//! explain --arch resnet50 --image castle.jpg --composite epsilon_gamma_box   # a ResNet
//! explain --weights vgg16.safetensors --image photos/ --method lrp --gamma 0.25,0.25,0.1,0.05,0.01
//! explain --weights vgg16.safetensors --images-from list.txt --batch 8 --force
//! ```
//!
//! With images: for each, writes a panel `image | Gradient×Input | LRP` (the sheet's colours)
//! and the raw relevance as `.npy`, named by image, class and method, and prints the top-5
//! classes, the explained logit and the relevance sums; many images go through the network in
//! batches, with a progress bar and a summary. Without: explains one synthetic scene of each
//! class with the model that ships inside the crate, as panels `scene | mask | Gradient×Input
//! | LRP`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use candle_core::{DType, Device, Tensor};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use explainer::arguments::{Architecture, count_in};
use explainer::attribution::{
    AnyAttributor, Baseline, IntegratedGradients, Occlusion, Quadrature, SmoothGrad,
};
use explainer::classes::{ClassSelector, imagenet_classes};
use explainer::console::{self, Console};
use explainer::heatmap::{RelevanceMap, Tile, method_title, titled_panel};
use explainer::model::Network;
use explainer::output_files::{OutputSet, check_output_directory};
use explainer::scene_panels::{explain_scene, one_scene_per_class};
use explainer::{Canonization, Engine, GradientTimesInput, Lrp, Preset, PresetOptions, VggConfig};
use explainer::{Gradient, checkpoint, image, npy, prediction, scenes, shipped};
use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Most images explained in one batch.
const MAX_BATCH: usize = 64;
/// Most synthetic scenes explained in one run.
const MAX_SCENES: usize = 1000;
/// Largest --images-from list read (a million paths).
const MAX_LIST_BYTES: u64 = 256 << 20;
/// File extensions taken from a directory given to --image.
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];
/// The γ schedule's default as --help shows it (a test checks it equals `GammaSchedule::default()`).
const DEFAULT_GAMMA: &str = "0.25,0.25,0.1,0.05,0.01";

/// Explain a VGG or ResNet image classifier's decision with Gradient, Gradient×Input and LRP.
///
/// LRP uses a composite (--composite; every one is listed with --list-composites): by default
/// the one of exercise sheet 11, the zB rule on the first convolution (pixel bounds of the
/// normalised [0, 1] range), LRP-γ on the other convolutions with one γ per block, and the plain
/// gradient through max-pooling, ReLU and dense layers; or one of zennit's presets, by name.
///
/// Files written into --out. With images, for an image `STEM.jpg` explained for class C:
/// `STEM_cC_panel.png` (the image and one heatmap per method) and `STEM_cC_METHOD.npy` for
/// each method (`gradient`, `gradient_x_input`, `lrp`: the relevance of every input value,
/// 1×3×224×224); two images with the same stem are told apart by their extension
/// (`STEM_jpg_cC_…`). Without images: `scene_SEED_SHAPE_panel.png`. Every file is written
/// under a temporary name and renamed, so none is ever half-written; a run that fails writes
/// nothing, and existing outputs are kept (the image skipped) unless --force.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Weights: torchvision's `.pth` (zip or legacy) or a `.safetensors` file with torchvision's
    /// or timm's parameter names. Default: torchvision's cached file of --arch
    /// (`$TORCH_HOME/hub/checkpoints/`, else `~/.cache/torch/hub/checkpoints/`:
    /// `vgg16-397923af.pth`, `resnet18-f37072fd.pth`, `resnet34-b627a593.pth`,
    /// `resnet50-11ad3fa6.pth` or `resnet50-0676ba61.pth`).
    #[arg(long)]
    weights: Option<PathBuf>,

    /// The architecture the weights belong to.
    #[arg(long, value_enum, default_value_t = Architecture::Vgg16)]
    arch: Architecture,

    /// How a ResNet's BatchNorms are folded into the convolutions before them when it is
    /// loaded (LRP's rules need the folded form): `exact` removes them (the same function),
    /// `zennit` leaves each as x/√(1 + ε) as zennit 0.5.1 does (its relevance, to the last
    /// digits). VGG has no BatchNorm: nothing to fold.
    #[arg(long, value_enum, default_value_t = CanonizerChoice::Exact)]
    canonizer: CanonizerChoice,

    /// Images (JPEG or PNG), or directories of them (their .jpg, .jpeg and .png files, not
    /// recursively). Each is resized so its shorter side is 256 pixels and centre-cropped to
    /// 224×224 as torchvision does; a 224×224 image is used as it is. An image that cannot be
    /// read is reported and skipped; the others are explained. Without images (and without
    /// --images-from) the shipped scene model explains synthetic scenes (no files needed).
    #[arg(long, num_args = 1.., value_name = "IMAGE|DIR")]
    image: Vec<PathBuf>,

    /// A text file listing images, one path per line (blank lines and lines starting with `#`
    /// are skipped; relative paths are relative to the current directory).
    #[arg(long, value_name = "LIST")]
    images_from: Option<PathBuf>,

    /// Images explained together in one batch (1..=64): one forward and backward pass per
    /// batch and class instead of per image.
    #[arg(long, default_value_t = 8, value_parser = batch_size)]
    batch: usize,

    /// Overwrite outputs that exist. Without it, an image whose outputs all exist is skipped
    /// (re-running a batch explains only what is missing).
    #[arg(long)]
    force: bool,

    /// Without images: the number of synthetic scenes to explain (one per class first), 1..=1000.
    #[arg(long, default_value_t = 6, value_parser = scene_count, conflicts_with_all = ["image", "images_from"])]
    scenes: usize,

    /// Without images: the first scene seed, within the test seeds 1000000000..2000000000
    /// (which training never saw).
    #[arg(long, default_value_t = scenes::TEST_SEEDS.start, conflicts_with_all = ["image", "images_from"])]
    seed: u64,

    /// The class to explain: an index (`483`, 0..=999 for ImageNet) or an ImageNet name
    /// (`castle`; exact case first, then ignoring case). Default: each image's predicted class.
    #[arg(long, allow_hyphen_values = true)]
    class: Option<ClassSelector>,

    /// What to compute.
    #[arg(long, value_enum, default_value_t = Method::All)]
    method: Method,

    /// The LRP composite: `sheet` (the sheet's), or zennit's `epsilon_gamma_box`,
    /// `epsilon_plus`, `epsilon_plus_flat`, `epsilon_alpha2_beta1`, `epsilon_alpha2_beta1_flat`
    /// (--list-composites says what each applies where).
    #[arg(long, default_value = "sheet", value_parser = composite_name)]
    composite: Preset,

    /// Print every composite and what it applies to each kind of layer, then exit.
    #[arg(long)]
    list_composites: bool,

    /// LRP-γ. With `--composite sheet`: one γ per block of convolutions 2–13 (block 1 holds
    /// convolution 2), five values or one for every block, separated by commas or spaces
    /// (`0.25,0.25,0.1,0.05,0.01` or `0.25 0.25 0.1 0.05 0.01`). With `epsilon_gamma_box`: one
    /// γ for every convolution but the first (default 0.25). Other composites take none.
    #[arg(long, num_args = 1..=5, allow_negative_numbers = true, default_value = DEFAULT_GAMMA)]
    gamma: Vec<String>,

    /// ε of LRP-ε on the dense layers of zennit's composites (default 1e-6; > 0).
    #[arg(long, allow_negative_numbers = true)]
    epsilon: Option<f64>,

    /// α of the αβ rule of the `epsilon_alpha2_beta1*` composites, with β = α − 1 (default 2).
    #[arg(long, allow_negative_numbers = true)]
    alpha: Option<f64>,

    /// How LRP's modified gradient is computed. Both compute the same relevance; in float32
    /// they round differently (about 4e-4 relative on VGG-16: the explicit engine's Winograd
    /// convolutions round more than autograd's direct ones).
    #[arg(long, value_enum, default_value_t = EngineChoice::Explicit)]
    engine: EngineChoice,

    /// Floating-point precision of the computation.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    precision: Precision,

    /// SmoothGrad: the noise's standard deviation as a share of each image's value range.
    #[arg(long, default_value_t = 0.15)]
    noise_level: f64,

    /// SmoothGrad: noisy copies per image (≥ 1).
    #[arg(long, default_value_t = 16)]
    samples: usize,

    /// SmoothGrad: the seed of the noise (ChaCha8; each image's noise also depends on its values).
    #[arg(long, default_value_t = 0)]
    noise_seed: u64,

    /// Integrated Gradients: where the path starts.
    #[arg(long, value_enum, default_value_t = BaselineChoice::Zeros)]
    baseline: BaselineChoice,

    /// Integrated Gradients with `--baseline blurred`: the blur's standard deviation in pixels.
    #[arg(long, default_value_t = 5.0)]
    blur_sigma: f64,

    /// Integrated Gradients: nodes of the quadrature (≥ 2 for the trapezoid rule).
    #[arg(long, default_value_t = 128)]
    steps: usize,

    /// Integrated Gradients: the quadrature rule.
    #[arg(long, value_enum, default_value_t = QuadratureChoice::Trapezoid)]
    quadrature: QuadratureChoice,

    /// Occlusion: the side of the square patch in pixels.
    #[arg(long, default_value_t = 8)]
    patch: usize,

    /// Occlusion: how far the patch moves, 1..=patch pixels.
    #[arg(long, default_value_t = 4)]
    stride: usize,

    /// Occlusion: the value the patch writes (in the normalised input space; 0 is the mean colour).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    fill: f64,

    /// Whether --gamma was on the command line (set from the matches, not a flag).
    #[arg(skip)]
    gamma_given: bool,

    /// Directory the panels and `.npy` files are written to (created with the first file).
    #[arg(long, default_value = "explanations")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Method {
    /// The gradient ∂f_c/∂x.
    Gradient,
    /// Gradient×Input, x ⊙ ∂f_c/∂x.
    GradientXInput,
    /// LRP with the sheet's composite, or the one --composite names.
    Lrp,
    /// SmoothGrad: the gradient averaged over noisy copies (--noise-level, --samples, --noise-seed).
    SmoothGrad,
    /// SmoothGrad×Input: each noisy copy times its gradient, averaged.
    SmoothGradXInput,
    /// Integrated Gradients (--baseline, --steps, --quadrature); prints the completeness residual
    /// ΣR − (f(x) − f(baseline)).
    IntegratedGradients,
    /// Occlusion: the logit's drop when a patch is filled (--patch, --stride, --fill).
    Occlusion,
    /// Gradient×Input and LRP side by side.
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BaselineChoice {
    /// Zeros in the normalised input space (the mean colour).
    Zeros,
    /// The image blurred by a Gaussian of --blur-sigma pixels.
    Blurred,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QuadratureChoice {
    /// The trapezoid rule on equally spaced nodes.
    Trapezoid,
    /// Gauss–Legendre nodes (exact for polynomials of degree 2·steps − 1).
    GaussLegendre,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CanonizerChoice {
    /// Fold each BatchNorm into its convolution and remove it.
    Exact,
    /// Fold as zennit's `SequentialMergeBatchNorm`, leaving x/√(1 + ε).
    Zennit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineChoice {
    /// A hand-written relevance pass with Winograd convolutions (fast).
    Explicit,
    /// The sheet's `z ← p·[z/p]_cst` trick through autograd, direct convolutions (slow; a
    /// reference).
    Autograd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Precision {
    /// 32-bit floats (Winograd convolutions: fast, rounding about 1e-5 per layer).
    F32,
    /// 64-bit floats, the reference: direct convolutions, so flat image regions tie in the
    /// max-pools exactly as in PyTorch's float64 (equal to it to about 1e-15); slower.
    F64,
}

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let mut args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Whether --gamma was given, not its default: composites other than `sheet` read its
    // absence as their own default, and methods without LRP refuse it.
    args.gamma_given = matches.value_source("gamma") == Some(ValueSource::CommandLine);
    let mut console = Console::new();
    if args.list_composites {
        for preset in Preset::ALL {
            let (epsilon, gamma, alpha) = preset.takes();
            let flags: Vec<&str> = [(epsilon, "--epsilon"), (gamma, "--gamma"), (alpha, "--alpha")]
                .into_iter()
                .filter_map(|(takes, flag)| takes.then_some(flag))
                .collect();
            let takes = if flags.is_empty() { "no parameters".to_string() } else { flags.join(", ") };
            console.line(format!("{:<26} {} (takes {takes})", preset.name(), preset.description()));
        }
        return ExitCode::SUCCESS;
    }
    console::finish(run(&args, &mut console))
}

/// `--composite`: a preset's name.
fn composite_name(text: &str) -> std::result::Result<Preset, String> {
    Preset::from_name(text).map_err(|e| e.to_string())
}

/// The whole run: `Ok(false)` when some images failed (they are listed).
fn run(args: &Args, console: &mut Console) -> Result<bool> {
    let dtype = match args.precision {
        Precision::F32 => DType::F32,
        Precision::F64 => DType::F64,
    };
    let (lrp_name, lrp) = lrp_attributor(args)?;
    let other = other_attributor(args)?;
    let methods: Vec<(&str, &dyn AnyAttributor)> = match (args.method, &other) {
        (_, Some((name, attributor))) => vec![(name, attributor.as_ref())],
        (Method::Gradient, _) => vec![("gradient", &Gradient)],
        (Method::GradientXInput, _) => vec![("gradient_x_input", &GradientTimesInput)],
        (Method::All, _) => vec![("gradient_x_input", &GradientTimesInput), (&lrp_name, &lrp)],
        _ => vec![(&lrp_name, &lrp)],
    };
    check_output_directory(&args.out).with_context(|| format!("--out {}", args.out.display()))?;
    if args.image.is_empty() && args.images_from.is_none() {
        explain_scenes(args, dtype, &methods, console).map(|()| true)
    } else {
        explain_images(args, dtype, &methods, console)
    }
}

/// The LRP attributor that `--composite`, `--gamma`, `--epsilon`, `--alpha` and `--engine` ask
/// for, and the name its outputs carry (`lrp` for the sheet's composite, `lrp_NAME` for the
/// others). LRP parameters with a method that computes no LRP are an error.
fn lrp_attributor(args: &Args) -> Result<(String, Lrp)> {
    let engine = match args.engine {
        EngineChoice::Explicit => Engine::Explicit,
        EngineChoice::Autograd => Engine::Autograd,
    };
    // The LRP parameters on the command line.
    let given: Vec<&str> = [
        (args.composite != Preset::Sheet, "--composite"),
        (args.gamma_given, "--gamma"),
        (args.epsilon.is_some(), "--epsilon"),
        (args.alpha.is_some(), "--alpha"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect();
    if let Some(flag) = given.first()
        && !matches!(args.method, Method::Lrp | Method::All)
    {
        bail!("{flag} sets LRP, but --method {:?} computes no LRP", args.method);
    }
    let gamma = if args.gamma_given { Some(gamma_values(&args.gamma)?) } else { None };
    let options = PresetOptions { epsilon: args.epsilon, gamma, alpha: args.alpha };
    let parameters: Vec<&str> = given.iter().copied().filter(|flag| *flag != "--composite").collect();
    let composite = args
        .composite
        .composite(&options)
        .with_context(|| format!("--composite {} {}", args.composite.name(), parameters.join(" ")))?;
    let name = match args.composite {
        Preset::Sheet => "lrp".to_string(),
        other => format!("lrp_{}", other.name()),
    };
    Ok((name, Lrp::new(composite).with_engine(engine)))
}

/// The attributor of `--method smooth-grad`, `smooth-grad-x-input`, `integrated-gradients` or
/// `occlusion` from its flags, with the name its outputs carry; `None` for the other methods.
fn other_attributor(args: &Args) -> Result<Option<(&'static str, Box<dyn AnyAttributor>)>> {
    let smooth = || {
        SmoothGrad::new(args.noise_level, args.samples, args.noise_seed).context("--noise-level / --samples")
    };
    Ok(Some(match args.method {
        Method::SmoothGrad => ("smooth_grad", Box::new(smooth()?)),
        Method::SmoothGradXInput => ("smooth_grad_x_input", Box::new(smooth()?.times_input())),
        Method::IntegratedGradients => ("integrated_gradients", Box::new(integrated_gradients(args)?)),
        Method::Occlusion => (
            "occlusion",
            Box::new(
                Occlusion::new(args.patch, args.stride, args.fill).context("--patch / --stride / --fill")?,
            ),
        ),
        _ => return Ok(None),
    }))
}

/// Integrated Gradients as `--baseline`, `--blur-sigma`, `--steps` and `--quadrature` ask.
fn integrated_gradients(args: &Args) -> Result<IntegratedGradients> {
    let baseline = match args.baseline {
        BaselineChoice::Zeros => Baseline::Zeros,
        BaselineChoice::Blurred => Baseline::blurred(args.blur_sigma).context("--blur-sigma")?,
    };
    let quadrature = match args.quadrature {
        QuadratureChoice::Trapezoid => Quadrature::Trapezoid,
        QuadratureChoice::GaussLegendre => Quadrature::GaussLegendre,
    };
    IntegratedGradients::new(baseline, args.steps, quadrature).context("--steps / --quadrature")
}

/// With `--method integrated-gradients`: the completeness residual `ΣR − (f_c(x) − f_c(x̄))` of
/// one image (`input` `(1, 3, H, W)`, the sum of its relevance, its class), as a line to print.
fn completeness_line(args: &Args, model: &Network, input: &Tensor, sum: f64, class: usize) -> Result<String> {
    let ig = integrated_gradients(args)?;
    let baseline = ig.baseline().images(input)?;
    let logit = |x: &Tensor| -> Result<f64> {
        Ok(model.forward(x)?.to_dtype(DType::F64)?.get(0)?.get(class)?.to_scalar()?)
    };
    let (fx, fb) = (logit(input)?, logit(&baseline)?);
    let residual = sum - (fx - fb);
    Ok(format!(
        "    completeness: ΣR {sum:.6}, f(x) − f(baseline) {:.6}, residual {residual:.3e} ({:.3} % of |f(x) − f(baseline)|)",
        fx - fb,
        100.0 * residual.abs() / (fx - fb).abs().max(f64::MIN_POSITIVE)
    ))
}

/// `--gamma`'s values, each argument split at commas and spaces.
fn gamma_values(arguments: &[String]) -> Result<Vec<f64>> {
    arguments
        .iter()
        .flat_map(|argument| argument.split([',', ' ']))
        .filter(|value| !value.is_empty())
        .map(|value| {
            value.trim().parse::<f64>().with_context(|| format!("--gamma: {value:?} is not a number"))
        })
        .collect()
}

/// `--gamma` as the sheet's schedule: five values, or one for every block.
#[cfg(test)]
fn gamma_schedule(arguments: &[String]) -> Result<explainer::GammaSchedule> {
    let values = gamma_values(arguments)?;
    let schedule = match values.as_slice() {
        [single] => explainer::GammaSchedule::uniform(*single),
        many => explainer::GammaSchedule::from_slice(many),
    };
    schedule.context("--gamma")
}

/// `--batch`: 1..=[`MAX_BATCH`].
fn batch_size(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 1..=MAX_BATCH, "images per batch")
}

/// `--scenes`: 1..=[`MAX_SCENES`].
fn scene_count(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 1..=MAX_SCENES, "scenes")
}

/// The default run: the shipped model on synthetic scenes with known object masks.
fn explain_scenes(
    args: &Args,
    dtype: DType,
    methods: &[(&str, &dyn AnyAttributor)],
    console: &mut Console,
) -> Result<()> {
    if args.weights.is_some() || args.class.is_some() || args.arch != Architecture::Vgg16 {
        bail!(
            "--weights, --arch and --class need --image; without --image the shipped scene model explains \
             synthetic scenes"
        );
    }
    let test = scenes::TEST_SEEDS;
    ensure!(
        test.contains(&args.seed),
        "--seed {} is outside the test seeds {}..{} (training uses {}..{}, which the model has seen)",
        args.seed,
        test.start,
        test.end,
        scenes::TRAIN_SEEDS.start,
        scenes::TRAIN_SEEDS.end
    );
    let model = shipped::shapes_model(&Device::Cpu, dtype).context("loading the shipped scene model")?;
    let per_class = one_scene_per_class(args.seed);
    let mut next_seed = per_class.iter().map(|(seed, _)| seed + 1).max().unwrap_or(args.seed);
    let mut chosen: Vec<(u64, scenes::Scene)> = per_class.into_iter().take(args.scenes).collect();
    while chosen.len() < args.scenes {
        chosen.push((next_seed, scenes::generate_scene(next_seed)));
        next_seed += 1;
    }
    chosen.sort_by_key(|(seed, _)| *seed);
    if let Some((last, _)) = chosen.iter().find(|(seed, _)| !test.contains(seed)) {
        bail!(
            "--seed {} with --scenes {} reaches seed {last}, beyond the test seeds {}..{}",
            args.seed,
            args.scenes,
            test.start,
            test.end
        );
    }

    let progress = ProgressBar::new(chosen.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} scenes explained") {
        progress.set_style(style);
    }
    let columns: Vec<&str> = ["scene", "mask"].into_iter().chain(methods.iter().map(|(n, _)| *n)).collect();
    let mut lines = Vec::new();
    let mut outputs = OutputSet::new();
    for (seed, scene) in chosen {
        let explained =
            explain_scene(&model, seed, scene, methods).with_context(|| format!("scene {seed}"))?;
        let truth = explained.scene.shape().name();
        let completeness = match explained.relevance_sums.first() {
            Some((_, sum)) if args.method == Method::IntegratedGradients => {
                let input =
                    scenes::scenes_to_input(std::slice::from_ref(&explained.scene), &Device::Cpu, dtype)?;
                Some(completeness_line(args, &model, &input, *sum, explained.scene.class)?)
            }
            _ => None,
        };
        let path = args.out.join(format!("scene_{seed}_{truth}_panel.png"));
        outputs.add(path.clone(), png_bytes(&explained.image)?);
        let sums: Vec<String> =
            explained.relevance_sums.iter().map(|(name, sum)| format!("Σ {name} {sum:>8.3}")).collect();
        let verdict = if explained.prediction.class == explained.scene.class { "right" } else { "WRONG" };
        lines.push(format!(
            "  {seed}  {truth:<8} predicted {:<8} p {:.3} ({verdict})  {}  {}",
            explained.prediction.name,
            explained.prediction.probability,
            sums.join("  "),
            path.display()
        ));
        lines.extend(completeness);
        progress.inc(1);
    }
    progress.finish_and_clear();
    // Every panel is written only once every scene is explained: a failing run writes nothing.
    outputs.commit().with_context(|| format!("writing the panels into {}", args.out.display()))?;
    console.line(format!(
        "the shipped scene model ({}) explaining the true class of synthetic scenes:",
        VggConfig::shapes().name
    ));
    for line in lines {
        console.line(line);
    }
    console.line(format!("panels ({}) in {}", columns.join(" | "), args.out.display()));
    console.line(
        "to explain a photo with VGG-16 or a ResNet: explain --image PHOTO [--arch resnet50] [--weights FILE] \
         (see --help)",
    );
    Ok(())
}

/// One image to explain: where it is and the stem its outputs are named by.
struct Input {
    path: PathBuf,
    label: String,
}

/// Explains every image of `--image` and `--images-from`: `Ok(false)` if some failed.
fn explain_images(
    args: &Args,
    dtype: DType,
    methods: &[(&str, &dyn AnyAttributor)],
    console: &mut Console,
) -> Result<bool> {
    let device = Device::Cpu;
    let config = args.arch.config();
    // Everything that can be checked is checked before the weights are loaded.
    let paths = image_paths(args)?;
    let mut failures: Vec<(PathBuf, anyhow::Error)> = Vec::new();
    let mut readable = Vec::new();
    for path in paths {
        match image::check_image_file(&path) {
            Ok(_) => readable.push(path),
            Err(error) => failures.push((path, error.into())),
        }
    }
    if readable.is_empty() {
        return Err(match failures.pop() {
            Some((path, error)) if failures.is_empty() => {
                error.context(format!("--image {}", path.display()))
            }
            _ => {
                report_failures(&failures);
                anyhow::anyhow!("none of the {} images can be read", failures.len() + 1)
            }
        });
    }
    let inputs = labelled(readable);
    let names = imagenet_classes();
    let names: Vec<&str> = if config.classes() == names.len() { names } else { Vec::new() };
    let class = match &args.class {
        Some(selector) => Some(resolve_class(selector, &names, config.classes())?),
        None => None,
    };
    let weights = weights_path(args.weights.as_deref(), args.arch)?;

    let spinner = spinner();
    spinner.set_message(format!("loading {}", weights.display()));
    let canonization = match args.canonizer {
        CanonizerChoice::Exact => Canonization::Exact,
        CanonizerChoice::Zennit => Canonization::Zennit,
    };
    let model = args
        .arch
        .load(&weights, &device, dtype, canonization)
        .with_context(|| format!("loading {} weights from {}", config.name(), weights.display()))?;
    spinner.finish_and_clear();

    let progress = ProgressBar::new(inputs.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} images, {per_sec}, eta {eta}") {
        progress.set_style(style);
    }
    let start = Instant::now();
    let run = Run { args, model: &model, names: &names, class, methods, dtype };
    let mut tally = Tally::default();
    for chunk in inputs.chunks(args.batch) {
        run.explain_batch(chunk, &progress, console, &mut tally, &mut failures);
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let total = tally.explained + tally.skipped + failures.len();
    console.line(format!(
        "{total} images: {} explained in {seconds:.1} s ({:.2} images/s), {} skipped (outputs exist; --force \
         overwrites), {} failed; outputs in {}",
        tally.explained,
        tally.explained as f64 / seconds.max(1e-9),
        tally.skipped,
        failures.len(),
        args.out.display()
    ));
    report_failures(&failures);
    Ok(failures.is_empty())
}

/// What a batch run has done so far.
#[derive(Default)]
struct Tally {
    explained: usize,
    skipped: usize,
}

/// What every batch of one run shares.
struct Run<'a> {
    args: &'a Args,
    model: &'a Network,
    names: &'a [&'a str],
    class: Option<usize>,
    methods: &'a [(&'a str, &'a dyn AnyAttributor)],
    dtype: DType,
}

/// One decoded image of a batch: its input tensor, its cropped picture and its class.
struct Loaded<'a> {
    input: &'a Input,
    tensor: Tensor,
    picture: ::image::RgbImage,
    logits: Tensor,
    class: usize,
}

impl Run<'_> {
    /// Explains `chunk`: decodes, classifies, skips images whose outputs exist, explains the
    /// rest grouped by class, writes each image's outputs and prints them. Failures are
    /// recorded per image.
    fn explain_batch(
        &self,
        chunk: &[Input],
        progress: &ProgressBar,
        console: &mut Console,
        tally: &mut Tally,
        failures: &mut Vec<(PathBuf, anyhow::Error)>,
    ) {
        let mut decoded = Vec::new();
        for input in chunk {
            match image::load_input(&input.path, self.model.device(), self.dtype) {
                Ok((tensor, picture)) => decoded.push((input, tensor, picture)),
                Err(error) => failures.push((input.path.clone(), error.into())),
            }
        }
        let loaded = match self.classify(decoded) {
            Ok(loaded) => loaded,
            Err((inputs, error)) => {
                for input in inputs {
                    failures.push((input.path.clone(), anyhow::anyhow!("{error:#}")));
                }
                return;
            }
        };
        let mut by_class: BTreeMap<usize, Vec<Loaded>> = BTreeMap::new();
        for image in loaded {
            let paths = self.output_paths(image.input, image.class);
            if !self.args.force && paths.iter().all(|p| p.exists()) {
                tally.skipped += 1;
                let line = format!(
                    "skipped {}: its outputs exist ({}, …); --force overwrites them",
                    image.input.path.display(),
                    paths[0].display()
                );
                progress.suspend(|| console.line(line));
                continue;
            }
            by_class.entry(image.class).or_default().push(image);
        }
        for (class, group) in by_class {
            match self.explain_group(class, &group) {
                Ok(relevance) => {
                    for (k, image) in group.iter().enumerate() {
                        match self.write_outputs(image, k, &relevance) {
                            Ok(lines) => {
                                tally.explained += 1;
                                progress.suspend(|| lines.iter().for_each(|line| console.line(line)));
                            }
                            Err(error) => failures.push((image.input.path.clone(), error)),
                        }
                    }
                }
                Err(error) => {
                    for image in &group {
                        failures.push((image.input.path.clone(), anyhow::anyhow!("{error:#}")));
                    }
                }
            }
        }
    }

    /// One forward pass over the decoded images: each with its logits and class.
    #[allow(clippy::type_complexity)]
    fn classify<'a>(
        &self,
        decoded: Vec<(&'a Input, Tensor, ::image::RgbImage)>,
    ) -> std::result::Result<Vec<Loaded<'a>>, (Vec<&'a Input>, anyhow::Error)> {
        if decoded.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<&Input> = decoded.iter().map(|(input, _, _)| *input).collect();
        let forward = || -> Result<Vec<(Tensor, usize)>> {
            let tensors: Vec<&Tensor> = decoded.iter().map(|(_, tensor, _)| tensor).collect();
            let logits = self.model.forward(&Tensor::cat(&tensors, 0)?).context("forward pass")?;
            (0..decoded.len())
                .map(|k| {
                    let class = match self.class {
                        Some(class) => class,
                        None => prediction::top_predictions(&logits, k, self.names, 1)?[0].class,
                    };
                    Ok((logits.narrow(0, k, 1)?, class))
                })
                .collect()
        };
        let classified = forward().map_err(|error| (inputs, error))?;
        Ok(decoded
            .into_iter()
            .zip(classified)
            .map(|((input, tensor, picture), (logits, class))| Loaded {
                input,
                tensor,
                picture,
                logits,
                class,
            })
            .collect())
    }

    /// Every method's relevance for `class` over `group`, as one batch: `(method, N×3×H×W)`.
    fn explain_group(&self, class: usize, group: &[Loaded]) -> Result<Vec<Tensor>> {
        let tensors: Vec<&Tensor> = group.iter().map(|image| &image.tensor).collect();
        let batch = Tensor::cat(&tensors, 0)?;
        self.methods
            .iter()
            .map(|(name, attributor)| {
                Ok(attributor
                    .prepare_any(self.model)
                    .and_then(|prepared| prepared.attribute(&batch, class))
                    .with_context(|| format!("computing {name}"))?
                    .relevance)
            })
            .collect()
    }

    /// The files of `input` explained for `class`: the panel, then one `.npy` per method.
    fn output_paths(&self, input: &Input, class: usize) -> Vec<PathBuf> {
        let stem = format!("{}_c{class}", input.label);
        std::iter::once(self.args.out.join(format!("{stem}_panel.png")))
            .chain(self.methods.iter().map(|(name, _)| self.args.out.join(format!("{stem}_{name}.npy"))))
            .collect()
    }

    /// Writes the panel and the `.npy` files of image `k` of a group (all or none) and returns
    /// the lines that describe it.
    fn write_outputs(&self, image: &Loaded, k: usize, relevance: &[Tensor]) -> Result<Vec<String>> {
        let paths = self.output_paths(image.input, image.class);
        let mut lines = vec![format!("top-5 classes of {}:", image.input.path.display())];
        for p in prediction::top_predictions(&image.logits, 0, self.names, 5)? {
            lines.push(format!(
                "  {:>4}  {:<30} logit {:>10.4}  p {:.4}",
                p.class, p.name, p.logit, p.probability
            ));
        }
        let logit = image.logits.get(0)?.get(image.class)?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let class_name = self
            .names
            .get(image.class)
            .map_or_else(|| format!("class {}", image.class), |n| (*n).to_string());
        lines.push(format!("explaining class {} ({class_name}), logit {logit:.6}", image.class));
        let mut outputs = OutputSet::new();
        // Titles of about 30 characters fit a 224-pixel tile: long ImageNet names are cut.
        let class_title = match self.names.get(image.class) {
            Some(name) => format!("class {}: {}", image.class, name.chars().take(22).collect::<String>()),
            None => format!("class {}", image.class),
        };
        let logit_title = format!("logit {logit:.4}");
        let mut tiles = vec![Tile::picture(image.picture.clone(), &[&class_title, &logit_title])];
        for ((name, _), (relevance, npy_path)) in self.methods.iter().zip(relevance.iter().zip(&paths[1..])) {
            let map = RelevanceMap::from_tensor(relevance, k).with_context(|| format!("{name} heatmap"))?;
            outputs.add(npy_path.clone(), npy::to_npy_bytes(&relevance.narrow(0, k, 1)?)?);
            lines.push(format!("  {name:<17} sum of relevance {:>12.6}   {}", map.sum(), npy_path.display()));
            if self.args.method == Method::IntegratedGradients {
                let input = image.tensor.narrow(0, 0, 1)?;
                lines.push(completeness_line(self.args, self.model, &input, map.sum(), image.class)?);
            }
            let title = format!("{}, class {}", method_title(name), image.class);
            tiles.push(Tile::heatmap(&map, &[&title, &format!("ΣR = {:.4}", map.sum())], 1));
        }
        outputs.add(paths[0].clone(), png_bytes(&titled_panel(&tiles).context("drawing the panel")?)?);
        outputs.commit().context("writing the outputs")?;
        let order: Vec<&str> = std::iter::once("image").chain(self.methods.iter().map(|(n, _)| *n)).collect();
        lines.push(format!("panel ({}): {}", order.join(" | "), paths[0].display()));
        Ok(lines)
    }
}

/// The images of `--image` (files, and the images in directories) and `--images-from`, in
/// order, each once.
fn image_paths(args: &Args) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for given in &args.image {
        if given.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(given)
                .with_context(|| format!("--image {}", given.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.is_file() && has_image_extension(path))
                .collect();
            found.sort();
            ensure!(
                !found.is_empty(),
                "--image {}: the directory holds no .jpg, .jpeg or .png file",
                given.display()
            );
            paths.extend(found);
        } else {
            paths.push(given.clone());
        }
    }
    if let Some(list) = &args.images_from {
        let context = || format!("--images-from {}", list.display());
        let meta = std::fs::metadata(list).with_context(context)?;
        ensure!(
            meta.is_file() && meta.len() <= MAX_LIST_BYTES,
            "--images-from {}: not a regular file of at most {MAX_LIST_BYTES} bytes",
            list.display()
        );
        let text = std::fs::read_to_string(list).with_context(context)?;
        let listed: Vec<PathBuf> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(PathBuf::from)
            .collect();
        ensure!(!listed.is_empty(), "--images-from {}: the list names no image", list.display());
        paths.extend(listed);
    }
    let mut seen = HashSet::new();
    paths.retain(|path| seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())));
    Ok(paths)
}

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`] (any case).
fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Each path with the stem its outputs are named by: the file stem, or stem and extension
/// (`ok_png`, `ok_jpg`) where two images share a stem; a stem still shared (`a/ok.png`,
/// `b/ok.png`) gets the image's position (`ok_png_2`).
fn labelled(paths: Vec<PathBuf>) -> Vec<Input> {
    let stem =
        |path: &Path| path.file_stem().map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
    let mut stems: HashMap<String, usize> = HashMap::new();
    for path in &paths {
        *stems.entry(stem(path)).or_default() += 1;
    }
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut inputs: Vec<Input> = paths
        .into_iter()
        .map(|path| {
            let mut label = stem(&path);
            if stems[&label] > 1 {
                let extension =
                    path.extension().map_or_else(String::new, |e| e.to_string_lossy().into_owned());
                label = format!("{label}_{extension}");
            }
            *labels.entry(label.clone()).or_default() += 1;
            Input { path, label }
        })
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for input in &mut inputs {
        if labels[&input.label] > 1 {
            let n = seen.entry(input.label.clone()).or_default();
            *n += 1;
            input.label = format!("{}_{n}", input.label);
        }
    }
    inputs
}

/// The class `selector` means for a model with `classes` outputs named `names` (empty when
/// the classes have no names).
fn resolve_class(selector: &ClassSelector, names: &[&str], classes: usize) -> Result<usize> {
    Ok(match selector {
        ClassSelector::Index(index) if names.is_empty() && *index < classes => *index,
        ClassSelector::Name(name) if names.is_empty() => {
            bail!("--class {name}: this model's classes have no names; give an index in 0..={}", classes - 1)
        }
        _ => selector.resolve(names)?,
    })
}

/// Prints each failed image and why, to stderr.
fn report_failures(failures: &[(PathBuf, anyhow::Error)]) {
    for (path, error) in failures {
        eprintln!("failed: {}: {}", path.display(), console::error_lines(error).join(": "));
    }
}

/// The bytes of `image` as a PNG file.
fn png_bytes(image: &::image::RgbImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), ::image::ImageFormat::Png).context("encoding a PNG")?;
    Ok(bytes)
}

/// `--weights`, or torchvision's cached VGG-16 file; otherwise how to get one.
fn weights_path(given: Option<&Path>, arch: Architecture) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    match checkpoint::find_cached(arch) {
        Some(path) => Ok(path),
        None if arch.torchvision_files().is_empty() => {
            bail!("no --weights given for {arch:?}.\n{}", arch.how_to_get_weights())
        }
        None => bail!(
            "no --weights given and torchvision's cache has no {}.\n{}",
            arch.torchvision_files().join(" or "),
            arch.how_to_get_weights()
        ),
    }
}

/// A spinner on stderr for the slow steps (hidden when stderr is not a terminal).
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gamma_default_shown_in_help_is_the_schedules_default() {
        let shown = gamma_schedule(&[DEFAULT_GAMMA.to_string()]).unwrap();
        assert_eq!(shown.gammas(), explainer::GammaSchedule::default().gammas());
    }

    #[test]
    fn gamma_accepts_commas_and_spaces() {
        let want = [0.25, 0.2, 0.1, 0.05, 0.01];
        let forms: [Vec<String>; 3] = [
            vec!["0.25,0.2,0.1,0.05,0.01".into()],
            ["0.25", "0.2", "0.1", "0.05", "0.01"].map(String::from).to_vec(),
            vec!["0.25 0.2, 0.1 0.05,0.01".into()],
        ];
        for form in forms {
            assert_eq!(gamma_schedule(&form).unwrap().gammas(), want, "{form:?}");
        }
        assert_eq!(gamma_schedule(&["0.5".into()]).unwrap().gammas(), [0.5; 5]);
        let error = gamma_schedule(&["0.1,x".into()]).unwrap_err();
        assert!(format!("{error:#}").contains("\"x\" is not a number"), "{error:#}");
    }

    #[test]
    fn shared_stems_are_told_apart() {
        let inputs =
            labelled(["ok.png", "ok.jpg", "a/x.png", "b/x.png", "solo.jpeg"].map(PathBuf::from).to_vec());
        let labels: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["ok_png", "ok_jpg", "x_png_1", "x_png_2", "solo"]);
    }

    #[test]
    fn bounds_are_stated() {
        assert_eq!(batch_size("8"), Ok(8));
        assert!(batch_size("0").unwrap_err().contains("1..=64"));
        assert!(scene_count("18446744073709551616").unwrap_err().contains("1..=1000"));
    }
}
