//! `evaluate`: how good are the explanations of the shipped shapes model, in numbers?
//!
//! ```text
//! cargo run --release -p explainer --bin evaluate                    # the book's measurements
//! cargo run --release -p explainer --bin evaluate -- --scenes 2000 --replacement noise
//! ```
//!
//! Explains each synthetic test scene's true class with every method of
//! [`standard_methods`] (Gradient, Gradient×Input, SmoothGrad, Integrated Gradients, Occlusion,
//! four LRP composites, a random baseline), times it, and scores it with every metric of
//! [`standard_metrics`]: relevance mass and rank accuracy and the pointing game against the
//! object's mask, pixel flipping (AOPC, and its gain over a random pixel order), the cascading
//! model-parameter randomisation test, and input-shift invariance. Writes every value per scene
//! (`scenes.csv`), the table of means with 95 % intervals computed from it (`evaluation.md`,
//! `evaluation.csv`) and the mean flipping and randomisation curves (PNG + CSV) into `--out`
//! (by default the book's `book/src/measurements/` in this workspace's source tree).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, ensure};
use candle_core::{DType, Device};
use clap::{Parser, ValueEnum};
use explainer::arguments::count_in;
use explainer::console::{self, Console};
use explainer::evaluation::{
    Batch, Mask, MethodSettings, MetricSettings, PixelFlipping, Replacement, Suite, standard_methods,
    standard_metrics,
};
use explainer::output_files::check_output_directory;
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Vgg, VggConfig};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Most scenes evaluated in one run.
const MAX_SCENES: usize = 100_000;
/// Most scenes per batch.
const MAX_BATCH: usize = 500;
/// Most pixel-flipping steps (a 64×64 scene has 4096 pixels; more steps than this add nothing
/// to the curve but time).
const MAX_STEPS: usize = 100;
/// Most SmoothGrad copies and Integrated Gradients nodes.
const MAX_SAMPLES: usize = 1024;

/// Measure explanation quality of the shapes model on synthetic scenes with known object masks.
///
/// Writes `scenes.csv` (every value of every method on every scene), `evaluation.md` and
/// `evaluation.csv` (means with 95 % intervals, computed from `scenes.csv`) and the mean
/// pixel-flipping and cascading-randomisation curves (PNG and CSV) into --out, by default the
/// book's `book/src/measurements/` in this workspace's source tree (the book shows them): give
/// --out to keep the book's files as they are. At its defaults it takes a few minutes on two
/// cores.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// The model's weights (`VggConfig::shapes()`). Default: the shipped
    /// `explainer/models/shapes_vgg.safetensors`.
    #[arg(long)]
    weights: Option<PathBuf>,

    /// Number of scenes to evaluate, 2..=100000.
    #[arg(long, default_value_t = DEFAULT_SCENES, value_parser = scene_count)]
    scenes: usize,

    /// Seed of the first scene; scenes use consecutive seeds, all within the test seeds
    /// 1000000000..2000000000 (never used for training). Default: the first test seed.
    #[arg(long, default_value_t = TEST_SEEDS.start)]
    seed: u64,

    /// Scenes explained per batch, 1..=500.
    #[arg(long, default_value_t = 10, value_parser = batch_size)]
    batch: usize,

    /// Only the methods with these names (comma-separated, as in the table, e.g.
    /// `Gradient,LRP sheet`). Default: all.
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,

    /// Pixel-flipping steps, 1..=100.
    #[arg(long, default_value_t = 20, value_parser = step_count)]
    steps: usize,

    /// Share of the pixels removed by the last pixel-flipping step.
    #[arg(long, default_value_t = 0.2)]
    max_fraction: f64,

    /// What a removed pixel becomes.
    #[arg(long, value_enum, default_value_t = ReplacementChoice::BackgroundMean)]
    replacement: ReplacementChoice,

    /// SmoothGrad's noisy copies per scene, 1..=1024.
    #[arg(long, default_value_t = 16, value_parser = sample_count)]
    samples: usize,

    /// SmoothGrad's noise level, a share of each scene's value range.
    #[arg(long, default_value_t = 0.15)]
    noise_level: f64,

    /// Integrated Gradients' nodes (trapezoid rule), 2..=1024.
    #[arg(long, default_value_t = 16, value_parser = sample_count)]
    ig_steps: usize,

    /// Occlusion's patch side in pixels.
    #[arg(long, default_value_t = 8)]
    patch: usize,

    /// Occlusion's stride in pixels (1..=patch).
    #[arg(long, default_value_t = 8)]
    stride: usize,

    /// The constant the input-shift test adds to every input value (normalised space).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    shift: f64,

    /// Seed of the random baseline, SmoothGrad's noise, the random pixel orders, the noise
    /// replacement and the randomised network of the cascading test.
    #[arg(long, default_value_t = 1)]
    random_seed: u64,

    /// Directory the table and the figures are written to (created if missing; checked before
    /// any work). Default: `book/src/measurements` of this workspace's source tree, which the
    /// book shows.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Scenes at the defaults: every method and metric on them fits in 10 minutes on two cores.
const DEFAULT_SCENES: usize = 100;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReplacementChoice {
    /// The mean colour of the pixels outside the object, per scene.
    BackgroundMean,
    /// Seeded uniform noise within each channel's range in the scene.
    Noise,
}

impl ReplacementChoice {
    /// The choice in words, for the table's heading.
    fn describe(self) -> &'static str {
        match self {
            Self::BackgroundMean => "the background mean (mean colour of the scene's non-object pixels)",
            Self::Noise => "seeded uniform noise (within each channel's range in the scene)",
        }
    }
}

/// `--scenes`: 2..=[`MAX_SCENES`] (intervals need two).
fn scene_count(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 2..=MAX_SCENES, "scenes")
}

/// `--batch`: 1..=[`MAX_BATCH`].
fn batch_size(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 1..=MAX_BATCH, "scenes per batch")
}

/// `--steps`: 1..=[`MAX_STEPS`].
fn step_count(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 1..=MAX_STEPS, "pixel-flipping steps")
}

/// `--samples`, `--ig-steps`: 1..=[`MAX_SAMPLES`].
fn sample_count(text: &str) -> std::result::Result<usize, String> {
    count_in(text, 1..=MAX_SAMPLES, "samples")
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut console = Console::new();
    console::finish(run(&args, &mut console).map(|()| true))
}

fn run(args: &Args, console: &mut Console) -> Result<()> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let weights = args.weights.clone().unwrap_or_else(|| manifest.join("models/shapes_vgg.safetensors"));
    let workspace = manifest.parent().unwrap_or(&manifest);
    let out = args.out.clone().unwrap_or_else(|| workspace.join("book/src/measurements"));
    let last = args.seed.checked_add(args.scenes as u64 - 1);
    ensure!(
        TEST_SEEDS.contains(&args.seed) && last.is_some_and(|last| TEST_SEEDS.contains(&last)),
        "--seed {} with --scenes {}: the scenes' seeds must lie within the test seeds {}..{} (training uses the \
         seeds below)",
        args.seed,
        args.scenes,
        TEST_SEEDS.start,
        TEST_SEEDS.end
    );
    check_output_directory(&out).with_context(|| format!("--out {}", out.display()))?;
    let flipping = PixelFlipping::new(args.steps, args.max_fraction).context("--steps / --max-fraction")?;
    ensure!(args.shift.is_finite(), "--shift {} is not a finite number", args.shift);

    let device = Device::Cpu;
    let dtype = DType::F32;
    let config = VggConfig::shapes();
    let model = Vgg::load(&weights, &config, &device, dtype)
        .with_context(|| format!("loading the model from {} (--weights)", weights.display()))?;
    let replacement = match args.replacement {
        ReplacementChoice::BackgroundMean => Replacement::BackgroundMean,
        ReplacementChoice::Noise => Replacement::UniformNoise { seed: args.random_seed },
    };
    let metric_settings =
        MetricSettings { flipping, replacement, random_seed: args.random_seed, shift: args.shift };
    let metrics = standard_metrics(&model, &metric_settings)?;
    let method_settings = MethodSettings {
        smooth_grad_samples: args.samples,
        noise_level: args.noise_level,
        ig_steps: args.ig_steps,
        occlusion: (args.patch, args.stride),
        seed: args.random_seed,
    };
    let mut methods =
        standard_methods(&method_settings).context("--samples / --noise-level / --patch / --stride")?;
    if !args.methods.is_empty() {
        let known: Vec<String> = methods.iter().map(|m| m.name().to_owned()).collect();
        for name in &args.methods {
            ensure!(
                known.contains(name),
                "--methods: no method {name:?}; the methods are {}",
                known.join(", ")
            );
        }
        methods.retain(|m| args.methods.iter().any(|n| n == m.name()));
    }
    let mut suite = Suite::new(methods, metrics);

    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>22} {bar:30} {pos}/{len} scenes, {elapsed}")?;
    let progress: Vec<ProgressBar> = suite
        .methods()
        .iter()
        .map(|m| {
            let bar = bars.add(ProgressBar::new(args.scenes as u64));
            bar.set_style(style.clone());
            bar.set_prefix(m.name().to_owned());
            bar
        })
        .collect();
    let size = SCENE_SIZE as usize;
    let mut first = args.seed;
    let end = args.seed + args.scenes as u64;
    while first < end {
        let count = (end - first).min(args.batch as u64) as usize;
        let scenes = generate_scenes(first, count);
        let input = scenes_to_input(&scenes, &device, dtype)?;
        let classes: Vec<usize> = scenes.iter().map(|s| s.class).collect();
        let masks = scenes
            .iter()
            .zip(first..)
            .map(|(s, seed)| Mask::new(size, size, s.mask.clone()).with_context(|| format!("scene {seed}")))
            .collect::<Result<Vec<_>>>()?;
        let seeds: Vec<u64> = (first..first + count as u64).collect();
        let batch = Batch { model: &model, input: &input, classes: &classes, masks: &masks, scenes: &seeds };
        suite
            .add(&batch, |method, n| progress[method].inc(n as u64))
            .with_context(|| format!("scenes {first}..{}", first + count as u64))?;
        first += count as u64;
    }
    progress.iter().for_each(ProgressBar::finish);

    let command: Vec<String> =
        std::iter::once("evaluate".to_string()).chain(std::env::args().skip(1)).collect();
    let setup = format!(
        "`{}`: scenes {}..{end} (test seeds), weights `{}`, removed pixels replaced by {}, pixel flipping up \
         to {} of the pixels in {} steps, SmoothGrad {} copies at noise level {}, Integrated Gradients \
         {} trapezoid nodes from a zero baseline, Occlusion {}×{} patches at stride {}, input shift {}, \
         random seed {}.",
        command.join(" "),
        args.seed,
        weights.file_name().unwrap_or_default().to_string_lossy(),
        args.replacement.describe(),
        args.max_fraction,
        args.steps,
        args.samples,
        args.noise_level,
        args.ig_steps,
        args.patch,
        args.patch,
        args.stride,
        args.shift,
        args.random_seed
    );
    console.line(suite.table().summary()?.to_markdown(&setup).trim_end());
    for path in
        suite.write(&out, &setup).with_context(|| format!("writing into {} (--out)", out.display()))?
    {
        console.line(format!("wrote {}", path.display()));
    }
    Ok(())
}
