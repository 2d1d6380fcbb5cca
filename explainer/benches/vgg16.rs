//! Benchmark on full-size VGG-16 (random weights made in process, one 224×224 input, F32):
//! medians of forward, Gradient×Input and LRP (explicit engine), peak memory, and, with
//! `--python PATH` (or `XAI_PYTHON`), the same numbers from the sheet's PyTorch code
//! (`explainer/bench/pytorch_reference.py`), run just before and just after ours, and the
//! ratios against the faster of the two PyTorch runs.
//!
//! ```sh
//! cargo bench -p explainer -- --runs 7 --python /work/torchvenv/bin/python
//! ```
//!
//! Threads: candle and PyTorch both use `RAYON_NUM_THREADS` / the core count (passed on as
//! `--threads`). Add `--autograd` to time the autograd LRP engine once (slow).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use explainer::{Attributor, Engine, GradientTimesInput, Lrp, Vgg, VggConfig};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seed of the random weights.
const SEED: u64 = 16;
/// Default number of timed runs per measurement (after one warm-up).
const RUNS: usize = 5;

struct Args {
    runs: usize,
    python: Option<PathBuf>,
    autograd: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut args =
        Args { runs: RUNS, python: std::env::var_os("XAI_PYTHON").map(PathBuf::from), autograd: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                args.runs = it.next().ok_or_else(|| anyhow::anyhow!("--runs needs a value"))?.parse()?
            }
            "--python" => {
                args.python = Some(it.next().ok_or_else(|| anyhow::anyhow!("--python needs a path"))?.into())
            }
            "--autograd" => args.autograd = true,
            "--bench" => {} // passed by `cargo bench`
            other => anyhow::bail!("unknown argument {other}; use --runs N, --python PATH, --autograd"),
        }
    }
    Ok(args)
}

/// Median wall time in seconds of `runs` calls of `f`, after one warm-up call, and the mean
/// CPU time (all threads) per call.
fn median_seconds(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(f64, f64)> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    let cpu = cpu_seconds();
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu) / runs as f64;
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], cpu))
}

/// CPU time (user + system, all threads) of this process so far, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's `USER_HZ`); NaN elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else { return f64::NAN };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based).
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of this process (`VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The number after `"key":` in a flat JSON object.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Runs the PyTorch reference once and returns its JSON line.
fn pytorch(python: &PathBuf, threads: usize, runs: usize) -> anyhow::Result<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench").join("pytorch_reference.py");
    println!("PyTorch: {} {} --threads {threads} --repeats {runs}", python.display(), script.display());
    let out = Command::new(python)
        .arg(&script)
        .args(["--threads", &threads.to_string(), "--repeats", &runs.to_string()])
        .output()?;
    if !out.status.success() {
        anyhow::bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    }
    let json = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    println!("  {json}");
    Ok(json)
}

/// The load average over the last minute, if the system says.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let threads = candle_core::utils::get_num_threads();
    let runs = args.runs;
    // PyTorch runs before and after ours; the ratios use the faster of its two runs, so that
    // load from other processes on a shared machine does not flatter us.
    let mut references = Vec::new();
    if let Some(python) = &args.python {
        references.push(pytorch(python, threads, runs)?);
    }

    let device = Device::Cpu;
    let t = Instant::now();
    let vgg = Vgg::random(&VggConfig::vgg16(), SEED, &device, DType::F32)?;
    println!(
        "VGG-16, random weights (seed {SEED}), F32, {threads} threads; built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let x = (Tensor::randn(0f32, 1.0, (1, 3, 224, 224), &device)?).clamp(-2.1f32, 2.6f32)?;
    let class = vgg.forward(&x)?.argmax(1)?.to_vec1::<u32>()?[0] as usize;

    let forward = median_seconds(runs, || Ok(vgg.forward(&x).map(drop)?))?;
    let gxi = median_seconds(runs, || Ok(GradientTimesInput.attribute(&vgg, &x, class).map(drop)?))?;
    let lrp = median_seconds(runs, || Ok(Lrp::default().attribute(&vgg, &x, class).map(drop)?))?;
    println!(
        "ours, medians of {runs} runs (class {class}, load average {:.1}):",
        load_average().unwrap_or(f64::NAN)
    );
    for (name, (s, cpu)) in [("forward", forward), ("gradient_x_input", gxi), ("lrp", lrp)] {
        println!("  {name:<18} {s:>8.3} s   (CPU {cpu:.3} s per run, all threads)");
    }
    let ours = [("forward", forward.0), ("gradient_x_input", gxi.0), ("lrp", lrp.0)];
    let peak = peak_rss_mb();
    match peak {
        Some(mb) => println!("  peak RSS           {mb:>8.0} MB"),
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
    drop(vgg);

    if let Some(python) = &args.python {
        references.push(pytorch(python, threads, runs)?);
        println!("{:<18} {:>9} {:>9} {:>7}", "", "ours", "pytorch", "ratio");
        for (name, s) in ours {
            let best = references
                .iter()
                .filter_map(|json| json_number(json, &format!("{name}_s")))
                .min_by(f64::total_cmp);
            match best {
                Some(r) => println!("{name:<18} {s:>8.3}s {r:>8.3}s {:>6.2}×", s / r),
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
