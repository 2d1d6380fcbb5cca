//! What the benches share: timing, memory, and running a Python reference script.

#![allow(dead_code)]

pub mod floor;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Median wall time in seconds of `runs` calls of `f`, after one warm-up call, the mean CPU
/// time (all threads) per call, and the warm-up call's wall time.
pub fn median_seconds(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(f64, f64, f64)> {
    let t = Instant::now();
    f()?;
    let first = t.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(runs);
    let cpu = cpu_seconds();
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu) / runs as f64;
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], cpu, first))
}

/// CPU time (user + system, all threads) of this process so far, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's `USER_HZ`); NaN elsewhere.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else { return f64::NAN };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based).
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of this process (`VmHWM`), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The number after `"key":` in a flat JSON object.
pub fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Runs the PyTorch reference once and returns its JSON line.
pub fn pytorch(python: &PathBuf, threads: usize, runs: usize, batch: usize) -> anyhow::Result<String> {
    reference(python, "pytorch_reference.py", threads, runs, batch)
}

/// Runs `bench/<script>` once with the benchmark's threads, runs and batch and returns its JSON line.
pub fn reference(
    python: &PathBuf,
    script: &str,
    threads: usize,
    runs: usize,
    batch: usize,
) -> anyhow::Result<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench").join(script);
    println!(
        "reference: {} {} --threads {threads} --repeats {runs} --batch {batch}",
        python.display(),
        script.display()
    );
    let out = Command::new(python)
        .arg(&script)
        .args(["--threads", &threads.to_string(), "--repeats", &runs.to_string()])
        .args(["--batch", &batch.to_string()])
        .output()?;
    if !out.status.success() {
        anyhow::bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    }
    let json = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    println!("  {json}");
    Ok(json)
}

/// The load average over the last minute, if the system says.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}
