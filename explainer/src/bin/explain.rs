//! `explain`: why does a VGG network see this class in this image?
//!
//! ```text
//! explain                                               # the shipped model on synthetic scenes
//! explain --image castle.jpg --class castle            # torchvision's cached VGG-16 weights
//! explain --weights vgg16.safetensors --image x.png --method lrp --gamma 0.25,0.25,0.1,0.05,0.01
//! ```
//!
//! With an image: writes a panel `image | Gradient×Input | LRP` (the sheet's colours) and the
//! raw relevance as `.npy`, and prints the top-5 classes, the explained logit and the
//! relevance sums. Without one: explains one synthetic scene of each class with the model
//! that ships inside the crate, as panels `scene | mask | Gradient×Input | LRP`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor};
use clap::{Parser, ValueEnum};
use explainer::classes::{ClassSelector, imagenet_classes};
use explainer::heatmap::{RelevanceMap, Tile, method_title, titled_panel};
use explainer::scene_panels::{explain_scene, one_scene_per_class};
use explainer::{Attribution, Attributor, Engine, GammaSchedule, GradientTimesInput, Lrp, Vgg, VggConfig};
use explainer::{Gradient, checkpoint, image, npy, prediction, scenes, shipped};
use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Explain a VGG image classifier's decision with Gradient, Gradient×Input and LRP.
///
/// LRP uses the composite of exercise sheet 11: the zB rule on the first convolution (pixel
/// bounds of the normalised [0, 1] range), LRP-γ on the other convolutions with one γ per
/// block, and the plain gradient through max-pooling, ReLU and dense layers.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Weights: torchvision's `.pth` or a `.safetensors` file with torchvision's or timm's
    /// parameter names. Default: torchvision's cached `vgg16-397923af.pth`
    /// (`$TORCH_HOME/hub/checkpoints/`, else `~/.cache/torch/hub/checkpoints/`).
    #[arg(long)]
    weights: Option<PathBuf>,

    /// The architecture the weights belong to.
    #[arg(long, value_enum, default_value_t = Architecture::Vgg16)]
    arch: Architecture,

    /// The image (JPEG or PNG): resized so its shorter side is 256 pixels and centre-cropped
    /// to 224×224 as torchvision does; a 224×224 image is used as it is.
    /// Without it, the shipped scene model explains synthetic scenes (no files needed).
    #[arg(long)]
    image: Option<PathBuf>,

    /// Without --image: the number of synthetic scenes to explain (one per class first).
    #[arg(long, default_value_t = 6, conflicts_with = "image")]
    scenes: usize,

    /// Without --image: the first scene seed (the test range, which training never saw).
    #[arg(long, default_value_t = scenes::TEST_SEEDS.start, conflicts_with = "image")]
    seed: u64,

    /// The class to explain: an index (`483`) or an ImageNet name (`castle`).
    /// Default: the predicted class.
    #[arg(long)]
    class: Option<ClassSelector>,

    /// What to compute.
    #[arg(long, value_enum, default_value_t = Method::All)]
    method: Method,

    /// LRP-γ per block of convolutions 2–13 (block 1 holds convolution 2): five
    /// comma-separated values, or one value for every block.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true,
          default_values_t = GammaSchedule::default().gammas())]
    gamma: Vec<f64>,

    /// How LRP's modified gradient is computed. Both compute the same relevance; in float32
    /// they round differently (about 4e-4 relative on VGG-16: the explicit engine's Winograd
    /// convolutions round more than autograd's direct ones).
    #[arg(long, value_enum, default_value_t = EngineChoice::Explicit)]
    engine: EngineChoice,

    /// Floating-point precision of the computation.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    precision: Precision,

    /// Directory the panel and the `.npy` files are written to (created if missing).
    #[arg(long, default_value = "explanations")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Architecture {
    /// torchvision's VGG-16 (ImageNet, 1000 classes).
    Vgg16,
    /// VGG-16's layers at 1/16 width (the test fixture in explainer/fixtures/).
    Vgg16Tiny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Method {
    /// The gradient ∂f_c/∂x.
    Gradient,
    /// Gradient×Input, x ⊙ ∂f_c/∂x.
    GradientXInput,
    /// LRP with the sheet's composite.
    Lrp,
    /// Gradient×Input and LRP side by side.
    All,
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
    /// 32-bit floats.
    F32,
    /// 64-bit floats (a reference to the last digits).
    F64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dtype = match args.precision {
        Precision::F32 => DType::F32,
        Precision::F64 => DType::F64,
    };
    let lrp = Lrp::new(gamma_schedule(&args.gamma)?).with_engine(match args.engine {
        EngineChoice::Explicit => Engine::Explicit,
        EngineChoice::Autograd => Engine::Autograd,
    });
    let methods: Vec<(&str, &dyn Attributor)> = match args.method {
        Method::Gradient => vec![("gradient", &Gradient)],
        Method::GradientXInput => vec![("gradient_x_input", &GradientTimesInput)],
        Method::Lrp => vec![("lrp", &lrp)],
        Method::All => vec![("gradient_x_input", &GradientTimesInput), ("lrp", &lrp)],
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    match &args.image {
        Some(image_path) => explain_image(&args, image_path, dtype, &methods),
        None => explain_scenes(&args, dtype, &methods),
    }
}

/// The default run: the shipped model on synthetic scenes with known object masks.
fn explain_scenes(args: &Args, dtype: DType, methods: &[(&str, &dyn Attributor)]) -> Result<()> {
    if args.weights.is_some() || args.class.is_some() {
        bail!(
            "--weights and --class need --image; without --image the shipped scene model explains synthetic scenes"
        );
    }
    let model = shipped::shapes_model(&Device::Cpu, dtype).context("loading the shipped scene model")?;
    let per_class = one_scene_per_class(args.seed);
    let mut next_seed = per_class.iter().map(|(seed, _)| seed + 1).max().unwrap_or(args.seed);
    let mut chosen: Vec<(u64, scenes::Scene)> = per_class.into_iter().take(args.scenes).collect();
    while chosen.len() < args.scenes {
        chosen.push((next_seed, scenes::generate_scene(next_seed)));
        next_seed += 1;
    }
    chosen.sort_by_key(|(seed, _)| *seed);

    let progress = ProgressBar::new(chosen.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} scenes explained") {
        progress.set_style(style);
    }
    let columns: Vec<&str> = ["scene", "mask"].into_iter().chain(methods.iter().map(|(n, _)| *n)).collect();
    let mut lines = Vec::new();
    for (seed, scene) in chosen {
        let explained =
            explain_scene(&model, seed, scene, methods).with_context(|| format!("scene {seed}"))?;
        let truth = explained.scene.shape().name();
        let path = args.out.join(format!("scene_{seed}_{truth}_panel.png"));
        explained.image.save(&path).with_context(|| format!("writing {}", path.display()))?;
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
        progress.inc(1);
    }
    progress.finish_and_clear();
    println!(
        "the shipped scene model ({}) explaining the true class of synthetic scenes:",
        VggConfig::shapes().name
    );
    for line in lines {
        println!("{line}");
    }
    println!("panels ({}) in {}", columns.join(" | "), args.out.display());
    println!("to explain a photo with VGG-16: explain --image PHOTO [--weights FILE] (see --help)");
    Ok(())
}

/// Explains one image with a VGG network loaded from weights.
fn explain_image(
    args: &Args,
    image_path: &Path,
    dtype: DType,
    methods: &[(&str, &dyn Attributor)],
) -> Result<()> {
    let device = Device::Cpu;
    let config = match args.arch {
        Architecture::Vgg16 => VggConfig::vgg16(),
        Architecture::Vgg16Tiny => VggConfig::vgg16_tiny(),
    };
    let weights = weights_path(args.weights.as_deref())?;

    let progress = spinner();
    progress.set_message(format!("loading {}", weights.display()));
    let model = Vgg::load(&weights, &config, &device, dtype)
        .with_context(|| format!("loading {} weights from {}", config.name, weights.display()))?;
    progress.set_message(format!("reading {}", image_path.display()));
    let (input, picture) = image::load_input(image_path, &device, dtype)
        .with_context(|| format!("--image {}", image_path.display()))?;

    let names = imagenet_classes();
    let names: &[&str] = if model.classes() == names.len() { &names } else { &[] };
    progress.set_message("classifying");
    let logits = model.forward(&input).context("forward pass")?;
    let class = match &args.class {
        Some(selector) => selector.resolve(names).or_else(|e| match selector {
            ClassSelector::Index(i) if names.is_empty() && *i < model.classes() => Ok(*i),
            _ => Err(e),
        })?,
        None => prediction::top_predictions(&logits, 0, names, 1)?[0].class,
    };

    let mut explanations: Vec<(&str, Attribution, f64)> = Vec::new();
    for (name, attributor) in methods {
        progress.set_message(format!("explaining with {name}"));
        let start = Instant::now();
        let attribution =
            attributor.attribute(&model, &input, class).with_context(|| format!("computing {name}"))?;
        explanations.push((name, attribution, start.elapsed().as_secs_f64()));
    }
    progress.finish_and_clear();

    let stem = image_path.file_stem().map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
    println!("top-5 classes of {}:", image_path.display());
    for p in prediction::top_predictions(&logits, 0, names, 5)? {
        println!("  {:>4}  {:<30} logit {:>10.4}  p {:.4}", p.class, p.name, p.logit, p.probability);
    }
    let explained = logit_of(&logits, class)?;
    let class_name = names.get(class).map_or_else(|| format!("class {class}"), |n| (*n).to_string());
    println!("explaining class {class} ({class_name}), logit {explained:.6}");

    // Titles of about 30 characters fit a 224-pixel tile: long ImageNet names are cut.
    let class_title = match names.get(class) {
        Some(name) => format!("class {class}: {}", name.chars().take(22).collect::<String>()),
        None => format!("class {class}"),
    };
    let input_title = [class_title, format!("logit {explained:.4}")];
    let mut tiles = vec![Tile::picture(picture, &[&input_title[0], &input_title[1]])];
    for (name, attribution, seconds) in &explanations {
        let map = RelevanceMap::from_tensor(&attribution.relevance, 0)
            .with_context(|| format!("{name} heatmap"))?;
        let npy_path = args.out.join(format!("{stem}_{name}.npy"));
        npy::write_npy(&npy_path, &attribution.relevance)
            .with_context(|| format!("writing {}", npy_path.display()))?;
        println!(
            "  {name:<17} sum of relevance {:>12.6}   ({seconds:.2} s)   {}",
            map.sum(),
            npy_path.display()
        );
        let title = format!("{}, class {class}", method_title(name));
        tiles.push(Tile::heatmap(&map, &[&title, &format!("ΣR = {:.4}", map.sum())], 1));
    }
    let panel_path = args.out.join(format!("{stem}_panel.png"));
    titled_panel(&tiles)
        .context("drawing the panel")?
        .save(&panel_path)
        .with_context(|| format!("writing {}", panel_path.display()))?;
    let order: Vec<&str> = std::iter::once("image").chain(explanations.iter().map(|(n, _, _)| *n)).collect();
    println!("panel ({}): {}", order.join(" | "), panel_path.display());
    Ok(())
}

/// `--gamma` as a schedule: five values, or one for every block.
fn gamma_schedule(values: &[f64]) -> Result<GammaSchedule> {
    let schedule = match values {
        [single] => GammaSchedule::uniform(*single),
        many => GammaSchedule::from_slice(many),
    };
    schedule.context("--gamma")
}

/// `--weights`, or torchvision's cached VGG-16 file; otherwise how to get one.
fn weights_path(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    match checkpoint::find_cached_vgg16() {
        Some(path) => Ok(path),
        None => bail!(
            "no --weights given and torchvision's cache has no {}.\n{}",
            checkpoint::TORCHVISION_VGG16_FILE,
            checkpoint::HOW_TO_GET_WEIGHTS
        ),
    }
}

/// The logit of `class` for the first image.
fn logit_of(logits: &Tensor, class: usize) -> Result<f64> {
    Ok(logits.get(0)?.get(class)?.to_dtype(DType::F64)?.to_scalar::<f64>()?)
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
