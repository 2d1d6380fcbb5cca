//! The 3×3 convolutions of VGG-16, one per distinct shape, by direct `im2col` + matrix
//! product and by Winograd F(4×4, 3×3): medians of the forward and the transposed pass, and
//! the float32 error of each against the same convolution in float64.
//!
//! ```sh
//! cargo bench -p kernels --bench convolution -- --runs 7
//! ```

use std::time::Instant;

use candle_core::{DType, Device, Shape, Tensor};
use kernels::{ConvKernel, im2col, winograd};

/// mimalloc keeps freed memory for reuse (see the workspace Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runs() -> anyhow::Result<usize> {
    let mut runs = 5;
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

/// Median milliseconds of `runs` calls after one warm-up.
fn median_ms(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// max |a − b| / max |b|, in float64.
fn rel_max(a: &Tensor, b: &Tensor) -> anyhow::Result<f64> {
    let a = a.to_dtype(DType::F64)?;
    let diff = a.sub(b)?.abs()?.max_all()?.to_scalar::<f64>()?;
    Ok(diff / b.abs()?.max_all()?.to_scalar::<f64>()?)
}

fn main() -> anyhow::Result<()> {
    let runs = runs()?;
    let d = Device::Cpu;
    println!(
        "VGG-16's 3×3 convolutions, F32, batch 1, medians of {runs} runs (ms); error: max relative vs F64"
    );
    println!(
        "{:>14} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "C→O @ side", "direct", "winograd", "T direct", "T winogr", "err direct", "err winogr"
    );
    for (c, o, side) in [
        (64, 64, 224),
        (64, 128, 112),
        (128, 128, 112),
        (128, 256, 56),
        (256, 256, 56),
        (256, 512, 28),
        (512, 512, 28),
        (512, 512, 14),
    ] {
        let x = Tensor::randn(0f32, 1.0, (1, c, side, side), &d)?.relu()?;
        let weight = (Tensor::randn(0f32, 1.0, (o, c, 3, 3), &d)? * (2.0 / (9.0 * c as f64)).sqrt())?;
        let s = Tensor::randn(0f32, 1.0, (1, o, side, side), &d)?;
        let layer = ConvKernel::new(weight.clone(), 1)?;
        let t = Instant::now();
        let u = winograd::transform_kernel(&weight)?;
        let transform_ms = t.elapsed().as_secs_f64() * 1e3;
        let input = Shape::from((1, c, side, side));

        let direct = median_ms(runs, || Ok(im2col::conv2d(&x, &weight, 1).map(drop)?))?;
        let fast = median_ms(runs, || Ok(winograd::conv2d(&x, &u, 1, None, false).map(drop)?))?;
        let flipped = weight.transpose(0, 1)?.contiguous()?.flip(&[2, 3])?.contiguous()?;
        let t_direct = median_ms(runs, || Ok(im2col::conv2d(&s, &flipped, 1).map(drop)?))?;
        let t_fast = median_ms(runs, || Ok(winograd::conv2d_transposed(&s, &u, 1, (side, side)).map(drop)?))?;

        let exact = im2col::conv2d(&x.to_dtype(DType::F64)?, &weight.to_dtype(DType::F64)?, 1)?;
        let e_direct = rel_max(&im2col::conv2d(&x, &weight, 1)?, &exact)?;
        let e_fast = rel_max(&winograd::conv2d(&x, &u, 1, None, false)?, &exact)?;
        // The kernel's own transposed pass, whichever method it picks, against float64.
        let exact_t =
            ConvKernel::new(weight.to_dtype(DType::F64)?, 1)?.transposed(&s.to_dtype(DType::F64)?, &input)?;
        let e_t = rel_max(&layer.transposed(&s, &input)?, &exact_t)?;
        println!(
            "{:>14} {direct:>9.2} {fast:>9.2} {t_direct:>9.2} {t_fast:>9.2} {e_direct:>10.1e} {e_fast:>10.1e}   (kernel's transposed pass: {e_t:.1e}; kernel transform, once: {transform_ms:.1} ms)",
            format!("{c}→{o} @ {side}")
        );
    }
    Ok(())
}
