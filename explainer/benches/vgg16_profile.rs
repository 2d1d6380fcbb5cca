//! Where the time of an explanation on full-size VGG-16 goes: the wall time of every step of
//! the explicit engine (each layer forward, each layer backward under Gradient×Input's and
//! under LRP's rules), medians over several runs, and the totals per kind of layer.
//!
//! ```sh
//! cargo bench -p explainer --bench vgg16_profile -- --runs 7 [--batch 8]
//! ```
//!
//! Same model, input and threads as the `vgg16` bench (random weights, 224×224 inputs, one by
//! default, F32).

use std::collections::BTreeMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use explainer::attribution::explicit::{Phase, StepTime};
use explainer::{Attributor, GradientTimesInput, Lrp, Vgg, VggConfig};
use rand::{Rng, SeedableRng};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seed of the random weights (as the `vgg16` bench).
const SEED: u64 = 16;

/// `(runs, batch)` from the command line.
fn args() -> anyhow::Result<(usize, usize)> {
    let (mut runs, mut batch) = (5, 1);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let target = match a.as_str() {
            "--runs" => &mut runs,
            "--batch" => &mut batch,
            "--bench" => continue, // passed by `cargo bench`
            other => anyhow::bail!("unknown argument {other}; use --runs N, --batch N"),
        };
        *target = it.next().ok_or_else(|| anyhow::anyhow!("{a} needs a value"))?.parse()?;
        anyhow::ensure!(*target > 0, "{a} must be at least 1");
    }
    Ok((runs, batch))
}

/// Per (backward?, layer): the layer's kind and a time in milliseconds.
type Steps = BTreeMap<(bool, usize), (&'static str, f64)>;

/// Median milliseconds of each step over `runs` profiles (after one warm-up), keyed by
/// (phase, layer).
fn median_steps(
    runs: usize,
    mut profile_once: impl FnMut() -> anyhow::Result<Vec<StepTime>>,
) -> anyhow::Result<Steps> {
    profile_once()?;
    let mut samples: BTreeMap<(bool, usize), (&'static str, Vec<f64>)> = BTreeMap::new();
    for _ in 0..runs {
        for s in profile_once()? {
            let key = (s.phase == Phase::Backward, s.layer);
            samples.entry(key).or_insert((s.kind.name(), Vec::new())).1.push(s.time.as_secs_f64() * 1e3);
        }
    }
    Ok(samples
        .into_iter()
        .map(|(k, (kind, mut v))| {
            v.sort_by(f64::total_cmp);
            (k, (kind, v[v.len() / 2]))
        })
        .collect())
}

fn main() -> anyhow::Result<()> {
    let (runs, batch) = args()?;
    let device = Device::Cpu;
    let vgg = Vgg::random(&VggConfig::vgg16(), SEED, &device, DType::F32)?;
    // The same input in every run: uniform over the range of ImageNet-normalised pixels.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let pixels: Vec<f32> = (0..batch * 3 * 224 * 224).map(|_| rng.random_range(-2.1f32..2.6)).collect();
    let x = Tensor::from_vec(pixels, (batch, 3, 224, 224), &device)?;
    let class = vgg.forward(&x)?.argmax(1)?.to_vec1::<u32>()?[0] as usize;
    let threads = candle_core::utils::get_num_threads();

    let t = Instant::now();
    let gxi_prepared = GradientTimesInput.prepare(&vgg)?;
    let lrp_prepared = Lrp::default().prepare(&vgg)?;
    let gxi = median_steps(runs, || Ok(gxi_prepared.profile(&x, class)?))?;
    let lrp = median_steps(runs, || Ok(lrp_prepared.profile(&x, class)?))?;
    println!(
        "VGG-16 F32, batch {batch} of 224×224, {threads} threads, medians of {runs} runs per step ({:.1} s in all)",
        t.elapsed().as_secs_f64()
    );
    println!(
        "{:>5} {:<11} {:>10} {:>12} {:>12}",
        "layer", "kind", "forward ms", "GxI back ms", "LRP back ms"
    );
    let mut per_kind: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
    let mut total = [0.0; 3];
    for (&(backward, layer), &(kind, forward_ms)) in &gxi {
        if backward {
            continue;
        }
        let gxi_back = gxi.get(&(true, layer)).map_or(0.0, |s| s.1);
        let lrp_back = lrp.get(&(true, layer)).map_or(0.0, |s| s.1);
        println!("{layer:>5} {kind:<11} {forward_ms:>10.2} {gxi_back:>12.2} {lrp_back:>12.2}");
        let row = per_kind.entry(kind).or_default();
        for (k, v) in [forward_ms, gxi_back, lrp_back].into_iter().enumerate() {
            row[k] += v;
            total[k] += v;
        }
    }
    println!("per kind:");
    for (kind, [f, g, l]) in &per_kind {
        println!("      {kind:<11} {f:>10.2} {g:>12.2} {l:>12.2}");
    }
    println!("      {:<11} {:>10.2} {:>12.2} {:>12.2}", "total", total[0], total[1], total[2]);
    println!(
        "sum of steps: Gradient×Input {:.1} ms (forward + GxI backward), LRP {:.1} ms (forward + LRP backward)",
        total[0] + total[1],
        total[0] + total[2]
    );
    Ok(())
}
