//! `composites`: the LRP rules and composites side by side on the shipped shapes model.
//!
//! ```text
//! cargo run --release -p explainer --bin composites        # writes book/src/composites/
//! ```
//!
//! Explains one scene of each class with LRP-0, LRP-ε, LRP-γ and αβ on every layer, zennit's
//! `epsilon_gamma_box` and `epsilon_plus`, and the sheet's composite, and draws them side by
//! side (`scene | mask | one heatmap per method`, one row per scene); then scores every method
//! on `--scenes` test scenes as `evaluate` does (relevance mass and rank accuracy, pointing game,
//! pixel flipping, randomisation) and writes the table and the flipping curves.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candle_core::{DType, Device};
use clap::Parser;
use explainer::attribution::AnyAttributor;
use explainer::evaluation::{Benchmark, Mask, Method, PixelFlipping, Replacement, compared_composites};
use explainer::scene_panels::{explain_scene, one_scene_per_class};
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Vgg, VggConfig, shipped};
use image::{Rgb, RgbImage};
use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Compare LRP rules and composites on the shipped shapes model: a figure of one scene per class
/// and the explanation-quality table of `evaluate`, written into the book by default.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Number of test scenes scored (at least 2).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..=100_000))]
    scenes: u64,

    /// Seed of the first scene of the figure and of the scored scenes (consecutive seeds from
    /// it; default: the first test seed, never used for training).
    #[arg(long, default_value_t = TEST_SEEDS.start, value_parser = clap::value_parser!(u64).range(TEST_SEEDS.start..TEST_SEEDS.end - 100_000))]
    seed: u64,

    /// Directory written (created if missing): `composites.png`, `evaluation.md`/`.csv`,
    /// `pixel_flipping.png`/`.csv`. Default: `book/src/composites` of this workspace.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Scenes explained per batch.
const BATCH: usize = 50;
/// Seed of the randomised model, the random pixel orders and the random baseline (as `evaluate`).
const RANDOM_SEED: u64 = 1;

fn main() -> Result<()> {
    let args = Args::parse();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap_or(&manifest);
    let out = args.out.clone().unwrap_or_else(|| workspace.join("book/src/composites"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {} (--out)", out.display()))?;

    let device = Device::Cpu;
    let model = shipped::shapes_model(&device, DType::F32).context("loading the shipped scene model")?;
    let methods = compared_composites()?;
    let figure = out.join("composites.png");
    draw(&model, &methods, args.seed)?
        .save(&figure)
        .with_context(|| format!("writing {}", figure.display()))?;
    println!("wrote {}", figure.display());

    let randomised = Vgg::random(&VggConfig::shapes(), RANDOM_SEED, &device, DType::F32)?;
    let flipping = PixelFlipping::new(20, 0.2)?;
    let mut benchmark =
        Benchmark::new(methods, flipping, Replacement::BackgroundMean, randomised, RANDOM_SEED);
    let progress = ProgressBar::new(args.scenes);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} scenes, {elapsed} (eta {eta})")?);
    let size = SCENE_SIZE as usize;
    let end = args.seed + args.scenes;
    let mut first = args.seed;
    while first < end {
        let count = (end - first).min(BATCH as u64) as usize;
        let scenes = generate_scenes(first, count);
        let input = scenes_to_input(&scenes, &device, DType::F32)?;
        let classes: Vec<usize> = scenes.iter().map(|s| s.class).collect();
        let masks =
            scenes.iter().map(|s| Mask::new(size, size, s.mask.clone())).collect::<Result<Vec<_>, _>>()?;
        let seeds: Vec<u64> = (first..first + count as u64).collect();
        benchmark.add(&model, &input, &classes, &masks, &seeds)?;
        progress.inc(count as u64);
        first += count as u64;
    }
    progress.finish();
    let mut summary = benchmark.summary()?;
    summary.setup = format!(
        "`composites --scenes {}`: test scenes {}..{end}, the shipped weights, removed pixels replaced \
         by the background mean, pixel flipping up to 0.2 of the pixels, random seed {RANDOM_SEED}.",
        args.scenes, args.seed
    );
    print!("{}", summary.to_markdown());
    for path in summary.write(&out).with_context(|| format!("writing into {}", out.display()))? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// One row per class (`scene | mask | one heatmap per method`), rows stacked.
fn draw(model: &Vgg, methods: &[Method], first_seed: u64) -> Result<RgbImage> {
    let lrps: Vec<(&str, &dyn AnyAttributor)> = methods
        .iter()
        .filter_map(|m| match m {
            Method::Lrp { name, lrp } => Some((name.as_str(), lrp as &dyn AnyAttributor)),
            _ => None,
        })
        .collect();
    let rows = one_scene_per_class(first_seed)
        .into_iter()
        .map(|(seed, scene)| Ok(explain_scene(model, seed, scene, &lrps)?.image))
        .collect::<Result<Vec<_>>>()?;
    let width = rows.iter().map(RgbImage::width).max().unwrap_or(0);
    let gap = 8;
    let height = rows.iter().map(|r| r.height() + gap).sum::<u32>();
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut top = 0;
    for row in &rows {
        image::imageops::replace(&mut canvas, row, 0, i64::from(top));
        top += row.height() + gap;
    }
    Ok(canvas)
}
