//! `prototypes`: class prototypes of a VGG network by activation maximisation, with the three
//! penalties of exercise 1 (L2, a Gaussian prior, a linear generator).
//!
//! ```text
//! prototypes                                   # shipped scene model: 6 classes × 3 penalties
//! prototypes --class ring --penalty gaussian --rank 16
//! prototypes --weights vgg16.safetensors --class castle --penalty l2
//! prototypes --weights vgg16.safetensors --class castle --prior-images photos/
//! ```
//!
//! Writes a grid PNG (rows = classes, columns = penalties) with a CSV of each prototype's class
//! probability, logit, penalty and log-density under the fitted prior, and each prototype as
//! `.npy` (`3 × H × W`, pixel values in [0, 1]); prints the paths and a line per prototype.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor};
use clap::{Parser, ValueEnum};
use explainer::arguments::Architecture;
use explainer::classes::{ClassSelector, imagenet_classes};
use explainer::prototypes::figure::write_grid;
use explainer::prototypes::pixels;
use explainer::prototypes::{
    Ascent, LowRankGaussian, NetworkScore, PenaltyKind, Prototype, Settings, find_prototype,
};
use explainer::scenes::{Shape, TRAIN_SEEDS};
use explainer::{Vgg, image, npy, shipped};
use indicatif::{ProgressBar, ProgressStyle};
use nalgebra::{DMatrix, DVector};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Class prototypes by activation maximisation: the image x* that maximises the logit f_c(x)
/// minus a penalty Ω, for the three penalties of exercise 1 of sheet 11.
///
/// (a) l2: Ω(x) = λ‖x − x₀‖², x₀ the mean training image. (b) gaussian: Ω(x) = −λ log N(x; μ, Σ),
/// μ, Σ fitted to training images by probabilistic PCA (the top --rank principal components
/// plus isotropic noise). (c) generator: x = Az + c with A, c from the same fit and
/// Ω(z) = λ‖z‖², maximised over z. Projected gradient ascent with a backtracking step size;
/// pixels are clamped to [0, 1].
///
/// Without arguments: the shipped scene model, all six classes × three penalties, the prior
/// fitted to 1000 training scenes.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Only this class: an index or a name (a shape: `ring`; an ImageNet class: `castle`).
    /// Required with --weights.
    #[arg(long)]
    class: Option<ClassSelector>,

    /// Only this penalty. Default: all three (only l2 for --weights without --prior-images).
    #[arg(long, value_enum)]
    penalty: Option<PenaltyArg>,

    /// λ of the penalty (of every penalty, without --penalty). Defaults, chosen for the shipped
    /// model: 0.5 (l2), 0.01 (gaussian; the exercise's −log N is λ = 1), 0.005 (generator).
    #[arg(long)]
    lambda: Option<f64>,

    /// Principal components of the Gaussian prior and the generator.
    #[arg(long, default_value_t = 32)]
    rank: usize,

    /// Training scenes the prior is fitted to (shipped model; seeds from 0).
    #[arg(long, default_value_t = 1000)]
    prior_scenes: usize,

    /// Fit the prior to these images instead (PNG or JPEG; for VGG-16 resized and centre-cropped
    /// to 224×224, for the shipped model they must be 64×64).
    #[arg(long)]
    prior_images: Option<PathBuf>,

    /// Weights of another VGG network (torchvision `.pth` or `.safetensors`). Default: the
    /// shipped scene model.
    #[arg(long)]
    weights: Option<PathBuf>,

    /// The architecture of --weights.
    #[arg(long, value_enum, default_value_t = Architecture::Vgg16, requires = "weights")]
    arch: Architecture,

    /// Gradient-ascent iterations per prototype at most.
    #[arg(long, default_value_t = 300)]
    iterations: usize,

    /// Directory for the grid (`prototypes.png`, `prototypes.csv`) and the `.npy` files.
    #[arg(long, default_value = "prototypes")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PenaltyArg {
    /// (a) λ‖x − x₀‖².
    L2,
    /// (b) −log N(x; μ, Σ).
    Gaussian,
    /// (c) x = Az + c, λ‖z‖².
    Generator,
}

/// How much the grid enlarges the shipped model's 64×64 prototypes.
const SCENE_ZOOM: u32 = 3;

fn main() -> Result<()> {
    let args = Args::parse();
    let device = Device::Cpu;
    let (model, class_names) = match &args.weights {
        None => {
            let model = shipped::shapes_model(&device, DType::F32).context("loading the shipped model")?;
            (model, Shape::ALL.iter().map(|s| s.name()).collect::<Vec<_>>())
        }
        Some(path) => {
            let config = args
                .arch
                .vgg_config()
                .with_context(|| format!("--arch {:?}: prototypes are made for VGG networks", args.arch))?;
            let model = Vgg::load(path, &config, &device, DType::F32)
                .with_context(|| format!("loading {} weights from {}", config.name, path.display()))?;
            (model, imagenet_classes())
        }
    };
    let score = NetworkScore::new(&model)?;
    let side = score.side();

    let classes = match (&args.class, &args.weights) {
        (Some(selector), _) => vec![selector.resolve(&class_names).context("--class")?],
        (None, None) => (0..class_names.len()).collect(),
        (None, Some(_)) => bail!("--weights needs --class (one of its {} classes)", class_names.len()),
    };

    let progress = spinner("fitting the prior");
    let prior = match (&args.prior_images, &args.weights) {
        (Some(dir), _) => Some(fit(&read_images(dir, side)?, args.rank)?),
        (None, None) => Some(fit(&pixels::scene_pixels(TRAIN_SEEDS.start, args.prior_scenes), args.rank)?),
        (None, Some(_)) => None,
    };
    progress.finish_and_clear();

    let penalties: Vec<PenaltyKind> = match (args.penalty, &prior) {
        (Some(PenaltyArg::L2), _) => vec![PenaltyKind::L2],
        (Some(PenaltyArg::Gaussian | PenaltyArg::Generator), None) => {
            bail!("--penalty gaussian and generator need a prior: pass --prior-images DIR")
        }
        (Some(PenaltyArg::Gaussian), Some(_)) => vec![PenaltyKind::Gaussian],
        (Some(PenaltyArg::Generator), Some(_)) => vec![PenaltyKind::Generator],
        (None, Some(_)) => PenaltyKind::ALL.to_vec(),
        (None, None) => vec![PenaltyKind::L2],
    };
    let anchor = match &prior {
        Some(p) => p.mean().clone(),
        None => mean_colour_image(side),
    };
    let defaults = Settings::default();
    let settings = Settings {
        l2_lambda: args.lambda.unwrap_or(defaults.l2_lambda),
        gaussian_lambda: args.lambda.unwrap_or(defaults.gaussian_lambda),
        generator_lambda: args.lambda.unwrap_or(defaults.generator_lambda),
        ascent: Ascent { max_iterations: args.iterations, ..defaults.ascent },
        ..defaults
    };
    settings.ascent.validate().context("--iterations")?;

    let bar = ProgressBar::new((classes.len() * penalties.len() * args.iterations) as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg} (eta {eta})")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    let mut prototypes = Vec::new();
    for (k, (&class, &penalty)) in
        classes.iter().flat_map(|c| penalties.iter().map(move |p| (c, p))).enumerate()
    {
        let name = class_names[class];
        let slot = (k * args.iterations) as u64;
        let prototype =
            find_prototype(&score, class, penalty, &anchor, prior.as_ref(), &settings, |i, value| {
                bar.set_position(slot + i as u64);
                bar.set_message(format!("{name}, {}: f − Ω = {value:.3}", penalty.name()));
            })
            .with_context(|| format!("the {} prototype of {name}", penalty.name()))?;
        bar.set_position(slot + args.iterations as u64);
        prototypes.push(prototype);
    }
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let zoom = if args.weights.is_none() { SCENE_ZOOM } else { 1 };
    let files = write_grid(&args.out, "prototypes", &prototypes, &class_names, side, zoom)
        .with_context(|| format!("writing the grid into {}", args.out.display()))?;
    println!("prototypes of {} (pixels clamped to [0, 1]):", model.config().name);
    for p in &prototypes {
        let path = args.out.join(format!("{}_{}.npy", class_names[p.class], p.penalty.name()));
        let tensor = Tensor::from_vec(
            p.input.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            (3, side, side),
            &device,
        )?;
        npy::write_npy(&path, &tensor).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", line(p, &class_names, &path));
    }
    println!("{}", files.png.display());
    println!("{}", files.csv.display());
    Ok(())
}

/// A prototype's summary line.
fn line(p: &Prototype, class_names: &[&str], path: &Path) -> String {
    let predicted = class_names[p.predicted()];
    let density = p.log_density.map_or("—".to_string(), |d| format!("{d:.0}"));
    format!(
        "  {:<10} {:<9} p {:.3} (predicted {predicted:<8}) logit {:7.3}  Ω {:9.3}  log N {density:>8}  {} steps{}  {}",
        class_names[p.class],
        p.penalty.name(),
        p.probability(),
        p.logit(),
        p.penalty_value,
        p.ascent.iterations,
        if p.ascent.converged { " (converged)" } else { "" },
        path.display()
    )
}

/// The prior fitted to the rows of `pixels`.
fn fit(pixels: &DMatrix<f64>, rank: usize) -> Result<LowRankGaussian> {
    LowRankGaussian::fit(pixels, rank)
        .with_context(|| format!("fitting the prior (--rank {rank}) to {} images", pixels.nrows()))
}

/// The images of `dir` (PNG and JPEG, sorted by name) as rows of channel-major pixel values.
fn read_images(dir: &Path, side: usize) -> Result<DMatrix<f64>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading --prior-images {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).map(str::to_lowercase);
            matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("--prior-images {}: no PNG or JPEG files", dir.display());
    }
    let mut images = Vec::new();
    for path in &paths {
        let rgb = image::load_rgb(path).with_context(|| format!("reading {}", path.display()))?;
        let rgb = if rgb.dimensions() == (side as u32, side as u32) {
            rgb
        } else if side == 224 {
            image::resize_and_center_crop(&rgb)
        } else {
            bail!("{}: is {:?}, the model needs {side}×{side} images", path.display(), rgb.dimensions());
        };
        images.push(pixels::channel_major(&rgb));
    }
    Ok(pixels::rows(&images))
}

/// An image of ImageNet's mean colour (the L2 reference without a prior).
fn mean_colour_image(side: usize) -> DVector<f64> {
    let plane = side * side;
    DVector::from_fn(3 * plane, |i, _| image::IMAGENET_MEAN[i / plane])
}

/// A spinner on stderr for a slow step (hidden when stderr is not a terminal).
fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
