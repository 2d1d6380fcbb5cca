//! Benchmark on full-size ResNet-50 (random weights made in process, canonized exactly, a batch
//! of 224×224 inputs, one by default, F32): medians of forward, Gradient×Input and LRP with
//! zennit's `epsilon_gamma_box` (explicit engine), and, with `--python PATH` (or `XAI_PYTHON`),
//! the same from torchvision's ResNet-50 and zennit (`ResNetCanonizer` + `EpsilonGammaBox`;
//! `explainer/bench/resnet50_reference.py`), run just before and just after ours, with the
//! ratios against the faster of its two runs. `epsilon_gamma_box` is also timed with its
//! modified kernels kept ([`ModifiedKernels::Kept`]) against made per step.
//!
//! ```sh
//! cargo bench -p explainer --bench resnet50 -- --runs 7 --python /work/torchvenv/bin/python
//! cargo bench -p explainer --bench resnet50 -- --runs 5 --batch 8 --python /work/torchvenv/bin/python
//! ```

mod common;

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use common::{json_number, load_average, median_seconds, peak_rss_mb, reference};
use explainer::{
    Attributor, Canonization, GradientTimesInput, Lrp, ModifiedKernels, Preset, ResNet, ResNetConfig,
};
use rand::{Rng, SeedableRng};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seed of the random weights and input.
const SEED: u64 = 50;

struct Args {
    runs: usize,
    batch: usize,
    python: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args { runs: 5, batch: 1, python: std::env::var_os("XAI_PYTHON").map(PathBuf::from) };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"));
        match a.as_str() {
            "--runs" => args.runs = value("--runs")?.parse()?,
            "--batch" => args.batch = value("--batch")?.parse()?,
            "--python" => args.python = Some(value("--python")?.into()),
            "--bench" => {} // passed by `cargo bench`
            other => anyhow::bail!("unknown argument {other}; use --runs N, --batch N, --python PATH"),
        }
    }
    anyhow::ensure!(args.runs > 0 && args.batch > 0, "--runs and --batch must be at least 1");
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let threads = candle_core::utils::get_num_threads();
    let (runs, batch) = (args.runs, args.batch);
    let script = "resnet50_reference.py";
    let mut references = Vec::new();
    if let Some(python) = &args.python {
        references.push(reference(python, script, threads, runs, batch)?);
    }

    let device = Device::Cpu;
    let t = Instant::now();
    let model = ResNet::random(&ResNetConfig::resnet50(), SEED, &device, DType::F32)?
        .canonized(Canonization::Exact)?;
    println!(
        "ResNet-50, random weights (seed {SEED}), canonized, F32, {threads} threads; built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let pixels: Vec<f32> = (0..batch * 3 * 224 * 224).map(|_| rng.random_range(-2.1f32..2.6)).collect();
    let x = Tensor::from_vec(pixels, (batch, 3, 224, 224), &device)?;
    let network = model.prepare()?;
    let t = Instant::now();
    let class = network.forward(&x)?.argmax(1)?.to_vec1::<u32>()?[0] as usize;
    let first_forward = t.elapsed().as_secs_f64();
    let forward = median_seconds(runs, || Ok(network.forward(&x).map(drop)?))?;
    drop(network);
    let time = |attributor: &dyn Attributor| -> anyhow::Result<(f64, f64, f64)> {
        let prepared = attributor.prepare(&model)?;
        median_seconds(runs, || Ok(prepared.attribute(&x, class).map(drop)?))
    };
    let gxi = time(&GradientTimesInput)?;
    let egb = time(&Lrp::new(Preset::EpsilonGammaBox.composite(&Default::default())?))?;
    println!(
        "ours, batch {batch}, medians of {runs} runs (class {class}, load average {:.1}):",
        load_average().unwrap_or(f64::NAN)
    );
    let ours = [("forward", forward), ("gradient_x_input", gxi), ("epsilon_gamma_box", egb)];
    for (name, (s, cpu, first)) in ours {
        println!(
            "  {name:<18} {s:>8.3} s   {:>6.2} images/s   (CPU {cpu:.3} s per run; first call {first:.3} s)",
            batch as f64 / s
        );
    }
    println!("  first forward (kernel transforms made): {first_forward:.3} s");
    let peak = peak_rss_mb();
    println!("  peak RSS           {:>8.0} MB", peak.unwrap_or(f64::NAN));
    // Kept modified kernels (after the peak above, so that it stays the default's).
    let composite = Preset::EpsilonGammaBox.composite(&Default::default())?;
    let (s, _, first) = time(&Lrp::new(composite).with_modified_kernels(ModifiedKernels::Kept))?;
    println!(
        "  epsilon_gamma_box with the modified kernels kept: {s:.3} s, {:.2}× made per step (first call {first:.3} s; peak RSS now {:.0} MB)",
        s / egb.0,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    drop(model);

    if let Some(python) = &args.python {
        references.push(reference(python, script, threads, runs, batch)?);
        println!("batch {batch}{:<16} {:>9} {:>9} {:>7}", "", "ours", "reference", "ratio");
        let keys = [
            ("forward", "forward_s", "PyTorch"),
            ("gradient_x_input", "gradient_x_input_s", "PyTorch"),
            ("epsilon_gamma_box", "zennit_epsilon_gamma_box_s", "zennit"),
        ];
        for ((name, (s, _, _)), (_, key, against)) in ours.iter().zip(keys) {
            let best = references.iter().filter_map(|json| json_number(json, key)).min_by(f64::total_cmp);
            match best {
                Some(r) => println!("{name:<22} {s:>8.3}s {r:>8.3}s {:>6.2}× {against}", s / r),
                None => println!("{name:<22} {s:>8.3}s (no {key} in the output)"),
            }
        }
        if let Some(mb) =
            references.iter().filter_map(|json| json_number(json, "peak_rss_mb")).reduce(f64::max)
        {
            println!("{:<22} {:>7.0}MB {mb:>7.0}MB", "peak RSS", peak.unwrap_or(f64::NAN));
        }
    }
    Ok(())
}
