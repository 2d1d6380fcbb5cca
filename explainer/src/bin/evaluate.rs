//! `evaluate`: how good are the explanations of the shipped shapes model, in numbers?
//!
//! ```text
//! cargo run --release -p explainer --bin evaluate                    # 500 test scenes
//! cargo run --release -p explainer --bin evaluate -- --scenes 2000 --replacement noise
//! ```
//!
//! Explains each synthetic test scene's true class with Gradient, Gradient×Input, LRP (the
//! sheet's composite) and a random baseline, scores every explanation against the object's
//! mask (relevance mass and rank accuracy, pointing game), flips the most relevant pixels
//! first (AOPC, and its gain over a random pixel order), and compares with the explanations of
//! a randomised model (Spearman's ρ of |R|). Prints the table of means with 95 % intervals
//! (`1.96·sd/√n`) and writes it with the mean flipping curves (PNG + CSV) into `--out`
//! (by default the book's `book/src/measurements/` in this workspace's source tree).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, ensure};
use candle_core::{DType, Device};
use clap::{Parser, ValueEnum};
use explainer::arguments::count_in;
use explainer::console::{self, Console};
use explainer::evaluation::{Benchmark, Mask, Method, PixelFlipping, Replacement};
use explainer::output_files::check_output_directory;
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Vgg, VggConfig};
use indicatif::{ProgressBar, ProgressStyle};

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

/// Measure explanation quality of the shapes model on synthetic scenes with known object masks.
///
/// Writes `evaluation.md`, `evaluation.csv` and the mean pixel-flipping curves (PNG and CSV)
/// into --out, by default the book's `book/src/measurements/` in this workspace's source tree
/// (the book shows them): give --out to keep the book's files as they are.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// The model's weights (`VggConfig::shapes()`). Default: the shipped
    /// `explainer/models/shapes_vgg.safetensors`.
    #[arg(long)]
    weights: Option<PathBuf>,

    /// Number of scenes to evaluate, 2..=100000.
    #[arg(long, default_value_t = 500, value_parser = scene_count)]
    scenes: usize,

    /// Seed of the first scene; scenes use consecutive seeds, all within the test seeds
    /// 1000000000..2000000000 (never used for training). Default: the first test seed.
    #[arg(long, default_value_t = TEST_SEEDS.start)]
    seed: u64,

    /// Scenes explained per batch, 1..=500.
    #[arg(long, default_value_t = 50, value_parser = batch_size)]
    batch: usize,

    /// Pixel-flipping steps, 1..=100.
    #[arg(long, default_value_t = 20, value_parser = step_count)]
    steps: usize,

    /// Share of the pixels removed by the last pixel-flipping step.
    #[arg(long, default_value_t = 0.2)]
    max_fraction: f64,

    /// What a removed pixel becomes.
    #[arg(long, value_enum, default_value_t = ReplacementChoice::BackgroundMean)]
    replacement: ReplacementChoice,

    /// Seed of the random baseline, the random pixel orders, the noise replacement and the
    /// randomised model of the sanity check.
    #[arg(long, default_value_t = 1)]
    random_seed: u64,

    /// Directory the table and the figure are written to (created if missing; checked before
    /// any work). Default: `book/src/measurements` of this workspace's source tree, which the
    /// book shows.
    #[arg(long)]
    out: Option<PathBuf>,
}

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

    let device = Device::Cpu;
    let dtype = DType::F32;
    let config = VggConfig::shapes();
    let model = Vgg::load(&weights, &config, &device, dtype)
        .with_context(|| format!("loading the model from {} (--weights)", weights.display()))?;
    let randomised = Vgg::random(&config, args.random_seed, &device, dtype)?;
    let replacement = match args.replacement {
        ReplacementChoice::BackgroundMean => Replacement::BackgroundMean,
        ReplacementChoice::Noise => Replacement::UniformNoise { seed: args.random_seed },
    };
    let mut benchmark = Benchmark::new(
        Method::standard(args.random_seed),
        flipping,
        replacement,
        randomised,
        args.random_seed,
    );

    let progress = ProgressBar::new(args.scenes as u64);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} scenes, {elapsed} (eta {eta})")?);
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
        benchmark
            .add(&model, &input, &classes, &masks, &seeds)
            .with_context(|| format!("scenes {first}..{}", first + count as u64))?;
        progress.inc(count as u64);
        first += count as u64;
    }
    progress.finish();

    let mut summary = benchmark.summary()?;
    let command: Vec<String> =
        std::iter::once("evaluate".to_string()).chain(std::env::args().skip(1)).collect();
    summary.setup = format!(
        "`{}`: scenes {}..{end} (test seeds), weights `{}`, removed pixels replaced by {}, pixel \
         flipping up to {} of the pixels, random seed {}.",
        command.join(" "),
        args.seed,
        weights.file_name().unwrap_or_default().to_string_lossy(),
        args.replacement.describe(),
        args.max_fraction,
        args.random_seed
    );
    console.line(summary.to_markdown().trim_end());
    for path in summary.write(&out).with_context(|| format!("writing into {} (--out)", out.display()))? {
        console.line(format!("wrote {}", path.display()));
    }
    Ok(())
}
