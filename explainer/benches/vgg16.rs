//! Benchmark on full-size VGG-16 (random weights made in process, a batch of 224×224 inputs,
//! one by default, F32): medians of forward, Gradient×Input and LRP (explicit engine), images
//! per second, peak memory, and, with `--python PATH` (or `XAI_PYTHON`), the same numbers
//! from the sheet's PyTorch code (`explainer/bench/pytorch_reference.py`), run just before and
//! just after ours, and the ratios against the faster of the two PyTorch runs. It also times
//! two zennit presets (`epsilon_gamma_box`, `epsilon_alpha2_beta1_flat`); with `--zennit`,
//! zennit's own (`explainer/bench/zennit_reference.py`, same venv) runs after ours and the
//! ratios are printed.
//!
//! ```sh
//! cargo bench -p explainer --bench vgg16 -- --runs 7 --python /work/torchvenv/bin/python --zennit
//! cargo bench -p explainer --bench vgg16 -- --runs 3 --batch 8 --python /work/torchvenv/bin/python
//! ```
//!
//! Every attributor is prepared once ([`Attributor::prepare`]) and timed on repeated calls; the
//! first call, which makes its kernel transforms, is printed apart. The sheet's LRP and
//! `epsilon_alpha2_beta1` are also timed with their modified kernels kept
//! ([`ModifiedKernels::Kept`]) against made per step, after the peak memory is read.
//!
//! Threads: candle and PyTorch both use `RAYON_NUM_THREADS` / the core count (passed on as
//! `--threads`). Add `--autograd` to time the autograd LRP engine once (slow), and
//! `--accuracy` to compare float32 Winograd (explicit engine) and float32 direct convolution
//! (autograd engine) with float64 on the same network and input.

mod common;

use common::floor::{Machine, Method};

use std::path::PathBuf;
use std::time::Instant;

use common::{json_number, load_average, median_seconds, peak_rss_mb, pytorch, reference};

use candle_core::{DType, Device, Tensor};
use explainer::{
    Attributor, Composite, Engine, GradientTimesInput, Lrp, ModifiedKernels, Preset, PresetOptions, Vgg,
    VggConfig,
};
use rand::{Rng, SeedableRng};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seed of the random weights.
const SEED: u64 = 16;
/// Default number of timed runs per measurement (after one warm-up).
const RUNS: usize = 5;

struct Args {
    runs: usize,
    batch: usize,
    python: Option<PathBuf>,
    zennit: bool,
    autograd: bool,
    accuracy: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        runs: RUNS,
        batch: 1,
        python: std::env::var_os("XAI_PYTHON").map(PathBuf::from),
        zennit: false,
        autograd: false,
        accuracy: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                args.runs = it.next().ok_or_else(|| anyhow::anyhow!("--runs needs a value"))?.parse()?
            }
            "--python" => {
                args.python = Some(it.next().ok_or_else(|| anyhow::anyhow!("--python needs a path"))?.into())
            }
            "--batch" => {
                args.batch = it.next().ok_or_else(|| anyhow::anyhow!("--batch needs a value"))?.parse()?;
                anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
            }
            "--autograd" => args.autograd = true,
            "--zennit" => args.zennit = true,
            "--accuracy" => args.accuracy = true,
            "--bench" => {} // passed by `cargo bench`
            other => {
                anyhow::bail!(
                    "unknown argument {other}; use --runs N, --batch N, --python PATH, --zennit, --autograd, --accuracy"
                )
            }
        }
    }
    Ok(args)
}

/// Relative L2 distance `‖a − b‖ / ‖b‖`, in float64.
fn rel_l2(a: &Tensor, b: &Tensor) -> anyhow::Result<f64> {
    let (a, b) = (a.to_dtype(DType::F64)?, b.to_dtype(DType::F64)?);
    let diff = a.sub(&b)?.sqr()?.sum_all()?.to_scalar::<f64>()?;
    Ok((diff / b.sqr()?.sum_all()?.to_scalar::<f64>()?).sqrt())
}

/// Float32 LRP and Gradient×Input by the explicit engine (Winograd) and float32 LRP by the
/// autograd engine (direct convolution), each against float64 (explicit engine, direct
/// convolutions) on the same network (seed) and input.
fn accuracy(vgg: &Vgg, x: &Tensor, class: usize) -> anyhow::Result<()> {
    let vgg64 = Vgg::random(&VggConfig::vgg16(), SEED, x.device(), DType::F64)?;
    let x64 = x.to_dtype(DType::F64)?;
    let lrp64 = Lrp::default().attribute(&vgg64, &x64, class)?.relevance;
    let gxi64 = GradientTimesInput.attribute(&vgg64, &x64, class)?.relevance;
    drop(vgg64);
    let lrp_winograd = Lrp::default().attribute(vgg, x, class)?.relevance;
    let lrp_direct = Lrp::default().with_engine(Engine::Autograd).attribute(vgg, x, class)?.relevance;
    let gxi = GradientTimesInput.attribute(vgg, x, class)?.relevance;
    let gxi_direct =
        Lrp::new(Composite::gradient()).with_engine(Engine::Autograd).attribute(vgg, x, class)?.relevance;
    println!("float32 against float64 (relative L2 of the relevance):");
    println!("  lrp, Winograd (explicit engine)         {:.2e}", rel_l2(&lrp_winograd, &lrp64)?);
    println!("  lrp, direct convolution (autograd)      {:.2e}", rel_l2(&lrp_direct, &lrp64)?);
    println!("  lrp, Winograd against direct, float32   {:.2e}", rel_l2(&lrp_winograd, &lrp_direct)?);
    println!("  gradient×input, Winograd                {:.2e}", rel_l2(&gxi, &gxi64)?);
    println!("  gradient×input, direct (autograd)       {:.2e}", rel_l2(&gxi_direct, &gxi64)?);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let threads = candle_core::utils::get_num_threads();
    let runs = args.runs;
    // PyTorch runs before and after ours; the ratios use the faster of its two runs, so that
    // load from other processes on a shared machine does not flatter us.
    let mut references = Vec::new();
    if let Some(python) = &args.python {
        references.push(pytorch(python, threads, runs, args.batch)?);
    }

    let device = Device::Cpu;
    let t = Instant::now();
    let vgg = Vgg::random(&VggConfig::vgg16(), SEED, &device, DType::F32)?;
    println!(
        "VGG-16, random weights (seed {SEED}), F32, {threads} threads; built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let batch = args.batch;
    // The same input in every run: uniform over the range of ImageNet-normalised pixels.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let pixels: Vec<f32> = (0..batch * 3 * 224 * 224).map(|_| rng.random_range(-2.1f32..2.6)).collect();
    let x = Tensor::from_vec(pixels, (batch, 3, 224, 224), &device)?;
    // The first pass makes the Winograd kernel transforms of the layers' weights (kept by
    // the prepared model).
    let network = vgg.prepare()?;
    let t = Instant::now();
    let class = network.forward(&x)?.argmax(1)?.to_vec1::<u32>()?[0] as usize;
    let first_forward = t.elapsed().as_secs_f64();

    let forward = median_seconds(runs, || Ok(network.forward(&x).map(drop)?))?;
    drop(network);
    // Each prepared attributor owns its kernels; dropped after its runs.
    let time = |lrp: &dyn Attributor| -> anyhow::Result<(f64, f64, f64)> {
        let prepared = lrp.prepare(&vgg)?;
        median_seconds(runs, || Ok(prepared.attribute(&x, class).map(drop)?))
    };
    let gxi = time(&GradientTimesInput)?;
    let lrp = time(&Lrp::default())?;
    // The peak of the forward pass, Gradient×Input and the sheet's LRP (what the PyTorch
    // reference runs), before the other composites and the floor's measurements allocate more.
    let peak = peak_rss_mb();
    let defaults = PresetOptions::default();
    let mut presets = Vec::new();
    for preset in Preset::ALL.into_iter().filter(|p| *p != Preset::Sheet) {
        presets.push((preset.name(), time(&Lrp::new(preset.composite(&defaults)?))?));
    }
    println!(
        "ours, batch {batch}, medians of {runs} runs (class {class}, load average {:.1}):",
        load_average().unwrap_or(f64::NAN)
    );
    let timed = [("forward", forward), ("gradient_x_input", gxi), ("lrp", lrp)];
    for (name, (s, cpu, _)) in timed.iter().chain(&presets) {
        let rate = batch as f64 / s;
        println!("  {name:<26} {s:>8.3} s   {rate:>6.2} images/s   (CPU {cpu:.3} s per run, all threads)");
    }
    println!(
        "  first calls (the model's kernel transforms made and kept): forward {first_forward:.3} s, LRP {:.3} s",
        lrp.2
    );
    // The sheet's composite is the yardstick for the others.
    println!("  against the sheet's composite (its first call {:.3} s):", lrp.2);
    for (name, (s, _, first)) in &presets {
        println!("    {name:<26} {:>5.2}×   (first call {first:.3} s)", s / lrp.0);
    }
    // Kept modified kernels: later calls skip making them, for more memory (after the peak
    // above, so that it stays the default's).
    println!("  with the modified kernels kept (ModifiedKernels::Kept), against made per step:");
    let alpha_beta = Preset::EpsilonAlpha2Beta1;
    let per_step = |name: &str| presets.iter().find(|(n, _)| *n == name).map_or(f64::NAN, |(_, t)| t.0);
    for (name, preset, per_step) in
        [("lrp", Preset::Sheet, lrp.0), (alpha_beta.name(), alpha_beta, per_step(alpha_beta.name()))]
    {
        let kept = Lrp::new(preset.composite(&defaults)?).with_modified_kernels(ModifiedKernels::Kept);
        let (s, _, first) = time(&kept)?;
        println!(
            "    {name:<26} {s:>8.3} s   {:>5.2}×   (first call {first:.3} s; peak RSS now {:.0} MB)",
            s / per_step,
            peak_rss_mb().unwrap_or(f64::NAN)
        );
    }
    let machine = Machine::measure()?;
    let input = (batch, 3, 224, 224);
    println!(
        "  floor (roofline: {:.0} GFLOP/s matrix product, {:.1} GB/s STREAM triad, measured now):",
        machine.flops / 1e9,
        machine.bandwidth / 1e9
    );
    for (name, method, (s, _, _)) in [
        ("forward", Method::Forward, forward),
        ("gradient_x_input", Method::GradientTimesInput, gxi),
        ("lrp", Method::SheetLrp, lrp),
    ] {
        let floor = machine.floor(&vgg, input, method);
        println!("    {name:<18} floor {floor:>7.3} s   ours {:>5.2}× the floor", s / floor);
    }
    let ours = [("forward", forward.0), ("gradient_x_input", gxi.0), ("lrp", lrp.0)];
    match peak {
        Some(mb) => println!("  peak RSS (forward, Gradient×Input, sheet's LRP) {mb:>8.0} MB"),
        None => println!("  peak RSS           unknown (no /proc/self/status)"),
    }
    if args.autograd {
        let t = Instant::now();
        Lrp::default().with_engine(Engine::Autograd).attribute(&vgg, &x, class)?;
        println!(
            "  lrp (autograd)     {:>8.3} s (one run; peak RSS now {:.0} MB)",
            t.elapsed().as_secs_f64(),
            peak_rss_mb().unwrap_or(f64::NAN)
        );
    }
    if args.accuracy {
        accuracy(&vgg, &x, class)?;
    }
    drop(vgg);

    if let (Some(python), true) = (&args.python, args.zennit) {
        let json = reference(python, "zennit_reference.py", threads, runs, args.batch)?;
        for (name, (s, _, _)) in presets.iter().filter(|(name, _)| json.contains(&format!("zennit_{name}_s")))
        {
            match json_number(&json, &format!("zennit_{name}_s")) {
                Some(z) => println!("{name:<26} ours {s:>7.3}s  zennit {z:>7.3}s  {:>6.3}× zennit", s / z),
                None => println!("{name:<26} (no zennit_{name}_s in the output)"),
            }
        }
    }
    if let Some(python) = &args.python {
        references.push(pytorch(python, threads, runs, args.batch)?);
        println!(
            "batch {batch}{:<12} {:>9} {:>9} {:>7} {:>12} {:>12}",
            "", "ours", "pytorch", "ratio", "ours img/s", "torch img/s"
        );
        for (name, s) in ours {
            let best = references
                .iter()
                .filter_map(|json| json_number(json, &format!("{name}_s")))
                .min_by(f64::total_cmp);
            let rate = batch as f64 / s;
            match best {
                Some(r) => println!(
                    "{name:<18} {s:>8.3}s {r:>8.3}s {:>6.2}× {rate:>12.2} {:>12.2}",
                    s / r,
                    batch as f64 / r
                ),
                None => println!("{name:<18} {s:>8.3}s (no {name}_s in the output)"),
            }
        }
        if let Some(mb) =
            references.iter().filter_map(|json| json_number(json, "peak_rss_mb")).reduce(f64::max)
        {
            println!("{:<18} {:>7.0}MB {mb:>7.0}MB", "peak RSS", peak.unwrap_or(f64::NAN));
        }
    }
    Ok(())
}
