//! The 3×3 convolutions of VGG-16, one per distinct shape, by direct `im2col` + matrix
//! product and by Winograd F(4×4, 3×3): medians of the forward and the transposed pass, and
//! the float32 error of each against the same convolution in float64. Then VGG-16's first
//! convolution (3 input channels, and zB's 9 stacked ones), ResNet-50's strided and 1×1
//! convolutions and its stem max-pool, by [`ConvKernel`] and [`MaxPool2d`] against candle's
//! own `conv2d`, `conv_transpose2d` and `max_pool2d` (candle's pool without padding).
//!
//! ```sh
//! cargo bench -p kernels --bench convolution -- --runs 7
//! ```

use std::time::Instant;

use candle_core::{DType, Device, Shape, Tensor};
use kernels::{Conv2dConfig, ConvKernel, MaxPool2d, im2col, winograd};

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
    against_candle(
        runs,
        "VGG-16's first convolution and zB's stacked input [x, l, h] on it",
        &[(3, 64, 3, 1, 1, 224), (9, 64, 3, 1, 1, 224)],
    )?;
    against_candle(
        runs,
        "ResNet-50's strided and 1×1 convolutions",
        &[
            (3, 64, 7, 2, 3, 224),
            (64, 256, 1, 1, 0, 56),
            (256, 64, 1, 1, 0, 56),
            (128, 128, 3, 2, 1, 56),
            (256, 512, 1, 2, 0, 56),
            (256, 256, 3, 2, 1, 28),
            (512, 1024, 1, 2, 0, 28),
            (512, 512, 3, 2, 1, 14),
            (1024, 2048, 1, 2, 0, 14),
        ],
    )?;
    max_pool(runs)
}

/// Convolutions that Winograd does not take (few input channels, strided, 1×1), each
/// `(C, O, k, stride, padding, side)`, batch 1, F32: the kernel's forward and transposed passes
/// (im2col, and the fold) against candle's.
fn against_candle(
    runs: usize,
    title: &str,
    shapes: &[(usize, usize, usize, usize, usize, usize)],
) -> anyhow::Result<()> {
    let d = Device::Cpu;
    println!("\n{title}, F32, batch 1, medians of {runs} runs (ms)");
    println!("{:>26} {:>9} {:>9} {:>9} {:>9}", "C→O k/s/p @ side", "ours", "candle", "T ours", "T candle");
    for &(c, o, k, stride, padding, side) in shapes {
        let config = Conv2dConfig::new(padding, stride)?;
        let x = Tensor::randn(0f32, 1.0, (1, c, side, side), &d)?.relu()?;
        let weight = (Tensor::randn(0f32, 1.0, (o, c, k, k), &d)? * (2.0 / (k * k * c) as f64).sqrt())?;
        let layer = ConvKernel::with_config(weight.clone(), config)?;
        let out = config.output_side(side, k)?;
        let s = Tensor::randn(0f32, 1.0, (1, o, out, out), &d)?;
        let input = Shape::from((1, c, side, side));
        let restore = side + 2 * padding - k - (out - 1) * stride;
        let ours = median_ms(runs, || Ok(layer.forward(&x, None, false).map(drop)?))?;
        let theirs = median_ms(runs, || Ok(x.conv2d(&weight, padding, stride, 1, 1).map(drop)?))?;
        let t_ours = median_ms(runs, || Ok(layer.transposed(&s, &input).map(drop)?))?;
        let t_theirs =
            median_ms(runs, || Ok(s.conv_transpose2d(&weight, padding, restore, stride, 1).map(drop)?))?;
        println!(
            "{:>26} {ours:>9.2} {theirs:>9.2} {t_ours:>9.2} {t_theirs:>9.2}",
            format!("{c}→{o} {k}/{stride}/{padding} @ {side}")
        );
    }
    Ok(())
}

/// ResNet-50's stem max-pool against candle's (zero-padded, without the argmax).
fn max_pool(runs: usize) -> anyhow::Result<()> {
    let x = Tensor::randn(0f32, 1.0, (1, 64, 112, 112), &Device::Cpu)?;
    let pool = MaxPool2d::new(3, 2, 1)?;
    let ours = median_ms(runs, || Ok(pool.forward_with_argmax(&x).map(drop)?))?;
    let theirs = median_ms(runs, || {
        Ok(x.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?.max_pool2d_with_stride(3, 2).map(drop)?)
    })?;
    println!(
        "max-pool 3/2/1, 64 @ 112: ours (with argmax) {ours:.2}, candle (zero-padded, no argmax) {theirs:.2}"
    );
    Ok(())
}
