//! VGG-16's dense layers at batches of 1, 4 and 8 rows (the explicit engine explains 4
//! samples at a time): [`DenseKernel`]'s blocked passes against candle's single matrix
//! product on the whole weight, in the same run. Medians; the rate is the weight's bytes over
//! the time (these passes read `W` once), and the error the largest difference between the
//! two relative to the largest entry.
//!
//! ```sh
//! cargo bench -p kernels --bench dense -- --runs 9
//! ```

use std::time::Instant;

use candle_core::{DType, Device, Shape, Tensor};
use kernels::DenseKernel;

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runs() -> anyhow::Result<usize> {
    let mut runs = 9;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().ok_or_else(|| anyhow::anyhow!("--runs needs a value"))?.parse()?,
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other}; use --runs N"),
        }
    }
    Ok(runs.max(1))
}

/// Median milliseconds of `runs` calls after one warm-up, and the last call's result.
fn median_ms(runs: usize, f: impl Fn() -> candle_core::Result<Tensor>) -> anyhow::Result<(f64, Tensor)> {
    let mut out = f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], out))
}

/// max |a − b| / max |b|.
fn rel_max(a: &Tensor, b: &Tensor) -> anyhow::Result<f64> {
    let diff = a.sub(b)?.abs()?.max_all()?.to_scalar::<f32>()?;
    Ok(f64::from(diff / b.abs()?.max_all()?.to_scalar::<f32>()?))
}

fn main() -> anyhow::Result<()> {
    let runs = runs()?;
    let d = Device::Cpu;
    println!(
        "VGG-16's dense layers, F32, medians of {runs} runs on {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:>12} {:>2} {:>6} {:>9} {:>9} {:>6} {:>6} {:>8}",
        "weight", "N", "pass", "ours ms", "candle ms", "ratio", "GB/s", "error"
    );
    for (o, i) in [(4096usize, 25088usize), (4096, 4096), (1000, 4096)] {
        let w = Tensor::randn(0f32, 1.0, (o, i), &d)?;
        let dense = DenseKernel::new(w.clone())?;
        let gb = (o * i * DType::F32.size_in_bytes()) as f64 / 1e9;
        for n in [1usize, 4, 8] {
            let x = Tensor::randn(0f32, 1.0, (n, i), &d)?;
            let s = Tensor::randn(0f32, 1.0, (n, o), &d)?;
            let (ours_f, y) = median_ms(runs, || dense.forward(&x, None, false))?;
            let (candle_f, y_ref) = median_ms(runs, || w.matmul(&x.t()?)?.t()?.contiguous())?;
            let (ours_t, c) = median_ms(runs, || dense.transposed(&s, &Shape::from((n, i))))?;
            let (candle_t, c_ref) = median_ms(runs, || s.matmul(&w))?;
            let name = format!("{o}×{i}");
            for (pass, ours, candle, error) in [
                ("fwd", ours_f, candle_f, rel_max(&y, &y_ref)?),
                ("transp", ours_t, candle_t, rel_max(&c, &c_ref)?),
            ] {
                println!(
                    "{name:>12} {n:>2} {pass:>6} {ours:>9.2} {candle:>9.2} {:>5.2}× {:>6.1} {error:>8.1e}",
                    ours / candle,
                    gb / ours * 1e3,
                );
            }
        }
    }
    Ok(())
}
