//! `train`: trains the shipped shapes network on synthetic scenes.
//!
//! ```text
//! RAYON_NUM_THREADS=1 train --out explainer/models/shapes_vgg.safetensors   # the shipped model, bit for bit
//! train --out /tmp/quick.safetensors --steps 200                            # a quick look
//! ```
//!
//! Every default is the shipped model's run (`TrainingConfig::default`); the weights may
//! depend on the number of candle's threads (how a product is split between them), so the
//! shipped run fixes it at one.
//!
//! Trains [`VggConfig::shapes`](explainer::VggConfig::shapes) with AdamW and cross-entropy on fresh scenes from the training
//! seeds (every batch new), shows loss and accuracy in a progress bar, measures the accuracy on
//! scenes from the test seeds, writes the weights as `.safetensors` with torchvision's names
//! and prints the path and a summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device};
use clap::Parser;
use explainer::scenes::{TEST_SEEDS, TRAIN_SEEDS};
use explainer::training::{TrainingConfig, accuracy, fine_tune, save_safetensors, train};
use explainer::{Vgg, VggConfig as Config};
use indicatif::{ProgressBar, ProgressStyle};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Train the VGG-style shapes classifier on synthetic scenes (6 classes, 64×64).
///
/// Deterministic: the same arguments (and the same number of threads, `RAYON_NUM_THREADS`)
/// give the same weights. The defaults are the shipped model's run, made with
/// `RAYON_NUM_THREADS=1`.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Where to write the weights (`.safetensors`, torchvision's parameter names).
    #[arg(long)]
    out: PathBuf,

    /// Seed of the initial weights.
    #[arg(long, default_value_t = TrainingConfig::default().seed)]
    seed: u64,

    /// Optimiser steps.
    #[arg(long, default_value_t = TrainingConfig::default().steps)]
    steps: usize,

    /// Scenes per step.
    #[arg(long, default_value_t = TrainingConfig::default().batch_size)]
    batch_size: usize,

    /// Peak learning rate (AdamW), after a linear warm-up, then a half cosine to 0.
    #[arg(long, default_value_t = TrainingConfig::default().learning_rate)]
    learning_rate: f64,

    /// Warm-up steps.
    #[arg(long, default_value_t = TrainingConfig::default().warmup)]
    warmup: usize,

    /// AdamW's weight decay.
    #[arg(long, default_value_t = TrainingConfig::default().weight_decay)]
    weight_decay: f64,

    /// Seed of the first training scene (training seeds are 0..1e9; the run uses
    /// steps × batch size consecutive seeds).
    #[arg(long, default_value_t = TRAIN_SEEDS.start)]
    first_scene_seed: u64,

    /// Continue training these weights (`.safetensors` of the shapes network) instead of
    /// starting from random ones (`--seed` is then not used).
    #[arg(long)]
    init: Option<PathBuf>,

    /// Clutter curriculum: the fraction of the steps on clean scenes, and the fraction by
    /// which the clutter has risen linearly to full (`0,0`: full clutter from the start).
    #[arg(long, value_delimiter = ',', default_values_t = default_curriculum())]
    curriculum: Vec<f64>,

    /// Label smoothing ε: the target puts 1 − ε on the label and ε/6 on every class.
    #[arg(long, default_value_t = TrainingConfig::default().label_smoothing)]
    label_smoothing: f64,

    /// Scenes from the start of the test seeds (1e9..) to measure the final accuracy on.
    #[arg(long, default_value_t = 2000)]
    test_scenes: usize,
}

/// [`TrainingConfig::default`]'s curriculum as a list.
fn default_curriculum() -> Vec<f64> {
    let (clean, full) = TrainingConfig::default().curriculum;
    vec![clean, full]
}

fn main() -> Result<()> {
    let args = Args::parse();
    let training = TrainingConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        warmup: args.warmup,
        weight_decay: args.weight_decay,
        seed: args.seed,
        first_scene_seed: args.first_scene_seed,
        curriculum: match args.curriculum[..] {
            [clean, full] => (clean, full),
            _ => bail!("--curriculum takes two comma-separated fractions, got {:?}", args.curriculum),
        },
        label_smoothing: args.label_smoothing,
    };
    let config = Config::shapes();
    let device = Device::Cpu;

    let bar = ProgressBar::new(training.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps, eta {eta} {msg}")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    // Exponential moving averages over about 50 steps, for a readable bar.
    let (mut loss, mut acc) = (None::<f64>, None::<f64>);
    let smooth = |avg: Option<f64>, x: f64| Some(avg.map_or(x, |a| 0.98 * a + 0.02 * x));
    let start = Instant::now();
    let initial = match &args.init {
        Some(path) => Some(
            Vgg::load(path, &config, &device, DType::F32)
                .with_context(|| format!("loading --init {}", path.display()))?,
        ),
        None => None,
    };
    let report = |r: explainer::training::StepReport| {
        loss = smooth(loss, r.loss);
        acc = smooth(acc, r.accuracy);
        bar.set_message(format!(
            "loss {:.4}, accuracy {:.1} %, lr {:.2e}, clutter {:.2}",
            loss.unwrap_or(f64::NAN),
            100.0 * acc.unwrap_or(f64::NAN),
            r.learning_rate,
            r.clutter
        ));
        bar.inc(1);
        if bar.is_hidden() && (r.step + 1).is_multiple_of(100) {
            // No terminal (a log file): a line per 100 steps instead of the bar.
            eprintln!("step {}/{}: {}", r.step + 1, training.steps, bar.message());
        }
    };
    let trained = match &initial {
        Some(model) => fine_tune(model, &training, report),
        None => train(&config, &training, &device, report),
    }
    .with_context(|| format!("training {}", config.name))?;
    bar.finish();
    let train_time = start.elapsed();

    let test_accuracy = accuracy(&trained.model, TEST_SEEDS.start, args.test_scenes, 250)
        .context("measuring the test accuracy")?;
    save_safetensors(&trained.model, &args.out)
        .with_context(|| format!("writing the weights to {}", args.out.display()))?;

    let seeds = training.scene_seeds();
    println!("{}", args.out.display());
    println!(
        "{}: {} steps × {} scenes (training seeds {}..{}) in {:.0} s",
        config.name,
        training.steps,
        training.batch_size,
        seeds.start,
        seeds.end,
        train_time.as_secs_f64()
    );
    println!(
        "accuracy: {:.2} % on the last tenth of the training batches (loss {:.4}), \
         {:.2} % on {} test scenes (seeds {}..{})",
        100.0 * trained.final_train_accuracy,
        trained.final_loss,
        100.0 * test_accuracy,
        args.test_scenes,
        TEST_SEEDS.start,
        TEST_SEEDS.start + args.test_scenes as u64
    );
    Ok(())
}
