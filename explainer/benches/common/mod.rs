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

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Relative L2 distance `‖a − b‖ / ‖b‖`, in float64.
pub fn relative_l2(a: &candle_core::Tensor, b: &candle_core::Tensor) -> anyhow::Result<f64> {
    use candle_core::DType;
    let (a, b) = (a.to_dtype(DType::F64)?, b.to_dtype(DType::F64)?);
    let diff = a.sub(&b)?.sqr()?.sum_all()?.to_scalar::<f64>()?;
    Ok((diff / b.sqr()?.sum_all()?.to_scalar::<f64>()?).sqrt())
}

/// GNU time, which reports a child's peak memory and CPU time.
const GNU_TIME: &str = "/usr/bin/time";

/// One run of a whole process.
#[derive(Debug, Clone)]
pub struct ChildRun {
    /// Wall time from spawning to its exit, in seconds.
    pub wall_s: f64,
    /// Its peak resident memory (`VmHWM`, GNU time's `%M`), in MB; `None` without GNU time.
    pub peak_rss_mb: Option<f64>,
    /// Its CPU time, user + system, all threads, in seconds; `None` without GNU time.
    pub cpu_s: Option<f64>,
    /// What it printed on stdout.
    pub stdout: String,
}

/// Runs `command` (program and arguments) as a whole process with the extra environment `env`,
/// under `/usr/bin/time -f "%M %U %S"` when it exists, and fails if it fails.
pub fn run_whole_process(command: &[String], env: &[(&str, String)]) -> anyhow::Result<ChildRun> {
    let (program, arguments) = command.split_first().ok_or_else(|| anyhow::anyhow!("no command"))?;
    let gnu_time = std::path::Path::new(GNU_TIME).exists();
    let report = tempfile::NamedTempFile::new()?;
    let mut child = if gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M %U %S", "-o"]).arg(report.path()).arg(program);
        c
    } else {
        Command::new(program)
    };
    child.args(arguments).envs(env.iter().map(|(k, v)| (k, v)));
    let t = Instant::now();
    let out = child.output()?;
    let wall_s = t.elapsed().as_secs_f64();
    if !out.status.success() {
        anyhow::bail!("{} failed: {}", command.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    let (mut peak_rss_mb, mut cpu_s) = (None, None);
    if gnu_time {
        let text = std::fs::read_to_string(report.path())?;
        let fields: Vec<f64> = text
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if let [kb, user, system] = fields[..] {
            peak_rss_mb = Some(kb / 1024.0);
            cpu_s = Some(user + system);
        }
    }
    Ok(ChildRun { wall_s, peak_rss_mb, cpu_s, stdout: String::from_utf8_lossy(&out.stdout).into_owned() })
}
