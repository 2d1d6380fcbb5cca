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
//! (`1.96·sd/√n`) and writes it with the mean flipping curves (PNG + CSV) into `--out`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candle_core::{DType, Device};
use clap::{Parser, ValueEnum};
use explainer::evaluation::{Benchmark, Mask, Method, PixelFlipping, Replacement};
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Vgg, VggConfig};
use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure explanation quality of the shapes model on synthetic scenes with known object masks.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// The model's weights (`VggConfig::shapes()`). Default: the shipped
    /// `explainer/models/shapes_vgg.safetensors`.
    #[arg(long)]
    weights: Option<PathBuf>,

    /// Number of scenes to evaluate.
    #[arg(long, default_value_t = 500)]
    scenes: usize,

    /// Seed of the first scene; scenes use consecutive seeds. Default: the start of the test
    /// seeds (never used for training).
    #[arg(long, default_value_t = TEST_SEEDS.start)]
    seed: u64,

    /// Scenes explained per batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,

    /// Pixel-flipping steps.
    #[arg(long, default_value_t = 20)]
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

    /// Directory the table and the figure are written to (created if missing). Default:
    /// `book/src/measurements` of this workspace.
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

fn main() -> Result<()> {
    let args = Args::parse();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let weights = args.weights.clone().unwrap_or_else(|| manifest.join("models/shapes_vgg.safetensors"));
    let workspace = manifest.parent().unwrap_or(&manifest);
    let out = args.out.clone().unwrap_or_else(|| workspace.join("book/src/measurements"));
    anyhow::ensure!(args.scenes >= 2, "--scenes {} is too few: intervals need at least 2", args.scenes);
    anyhow::ensure!(args.batch >= 1, "--batch must be at least 1");

    let device = Device::Cpu;
    let dtype = DType::F32;
    let config = VggConfig::shapes();
    let model = Vgg::load(&weights, &config, &device, dtype)
        .with_context(|| format!("loading the model from {} (--weights)", weights.display()))?;
    let randomised = Vgg::random(&config, args.random_seed, &device, dtype)?;
    let flipping = PixelFlipping::new(args.steps, args.max_fraction).context("--steps / --max-fraction")?;
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
    print!("{}", summary.to_markdown());
    for path in summary.write(&out).with_context(|| format!("writing into {} (--out)", out.display()))? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
