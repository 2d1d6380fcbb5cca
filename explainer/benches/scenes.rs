//! Time per scene of explaining the shipped shapes model (`models/shapes_vgg.safetensors`,
//! F32, CPU): LRP (`Lrp::default()`, explicit engine) and Gradient×Input, at batch 1 and
//! batched, on 64×64 test scenes. Target: under 20 ms per scene for LRP.
//!
//! ```sh
//! cargo bench -p explainer --bench scenes -- --runs 15 --batch 32
//! ```
//!
//! Each measurement is the median over `--runs` timed calls (after one warm-up) of explaining
//! a batch for its first scene's class, divided by the batch size.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device};
use explainer::scenes::{TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Attributor, GradientTimesInput, Lrp, Vgg, VggConfig};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Default number of timed runs per measurement.
const RUNS: usize = 15;
/// Default size of the batched measurement.
const BATCH: usize = 32;

struct Args {
    runs: usize,
    batch: usize,
    weights: PathBuf,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        runs: RUNS,
        batch: BATCH,
        weights: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/shapes_vgg.safetensors"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().with_context(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--runs" => args.runs = value("--runs")?.parse()?,
            "--batch" => args.batch = value("--batch")?.parse()?,
            "--weights" => args.weights = value("--weights")?.into(),
            "--bench" => {} // passed by `cargo bench`
            other => anyhow::bail!("unknown argument {other}; use --runs N, --batch N, --weights PATH"),
        }
    }
    anyhow::ensure!(args.runs >= 1 && args.batch >= 1, "--runs and --batch must be at least 1");
    Ok(args)
}

/// Median wall time in seconds of `runs` calls of `f`, after one warm-up call.
fn median_seconds(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let device = Device::Cpu;
    let model = Vgg::load(&args.weights, &VggConfig::shapes(), &device, DType::F32)
        .with_context(|| format!("loading {}", args.weights.display()))?;
    let scenes = generate_scenes(TEST_SEEDS.start, args.batch);
    let class = scenes[0].class;
    let batched = scenes_to_input(&scenes, &device, DType::F32)?;
    let single = batched.narrow(0, 0, 1)?;
    println!(
        "shapes model, F32, {} threads, median of {} runs; ms per scene:",
        candle_core::utils::get_num_threads(),
        args.runs
    );
    let lrp = Lrp::default();
    let methods: [(&str, &dyn Attributor); 2] = [("LRP", &lrp), ("Gradient×Input", &GradientTimesInput)];
    for (name, attributor) in methods {
        let prepared = attributor.prepare(&model)?;
        for (batch, input) in [(1, &single), (args.batch, &batched)] {
            let seconds = median_seconds(args.runs, || {
                prepared.attribute(input, class)?;
                Ok(())
            })?;
            println!("  {name:<15} batch {batch:>3}: {:8.3} ms/scene", 1e3 * seconds / batch as f64);
        }
    }
    let seconds = median_seconds(args.runs, || {
        model.forward(&batched)?;
        Ok(())
    })?;
    println!(
        "  {:<15} batch {:>3}: {:8.3} ms/scene",
        "forward only",
        args.batch,
        1e3 * seconds / args.batch as f64
    );
    Ok(())
}
