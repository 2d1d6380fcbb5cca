//! 2-D convolutions with stride 1 and symmetric zero padding, and their transposes.
//!
//! `y = W ⋆ x + b` with `W` of shape `(O, C, k, k)`; the transposed map `c = Wᵀ s` is the
//! gradient of `⟨s, W ⋆ x⟩` with respect to `x`. A [`ConvKernel`] is a weight prepared for
//! repeated passes: it picks the algorithm per pass and keeps what it derives from the weight
//! (the Winograd kernel transform, the transposed-and-flipped kernel) for its own lifetime.

use std::sync::OnceLock;

use candle_core::{DType, Result, Shape, Tensor, WithDType};

use crate::elementwise::with_slice;
use crate::{im2col, winograd};

/// A convolution weight `(O, C, k, k)` with its padding, prepared for fast passes.
///
/// On a 3×3 kernel with enough channels ([`winograd::suits`]), on the CPU and outside candle's
/// autograd, both passes run by Winograd F(4×4, 3×3) with one kernel transform, made on the
/// first pass and kept. Otherwise the convolution is `im2col` and a matrix product, and the
/// transpose a convolution with the kernel transposed and flipped (kept), or, with fewer input
/// than output channels, a fold of `Wᵀ s` ([`im2col::conv2d_transposed_by_fold`]).
///
/// The weight must not change while the kernel lives (a training step makes a new one).
#[derive(Debug)]
pub struct ConvKernel {
    weight: Tensor,
    padding: usize,
    winograd: OnceLock<Tensor>,
    flipped: OnceLock<Tensor>,
}

impl ConvKernel {
    /// A kernel for `weight` `(O, C, k, k)` (square, `k ≥ 1`) with zero padding `padding < k`
    /// on each side (so that the transpose is a convolution too).
    pub fn new(weight: Tensor, padding: usize) -> Result<Self> {
        let (o, c, kh, kw) = weight.dims4()?;
        if kh != kw || kh == 0 || o == 0 || c == 0 {
            candle_core::bail!("a convolution kernel must be (O ≥ 1, C ≥ 1, k, k), got {:?}", weight.dims());
        }
        if padding >= kh {
            candle_core::bail!("padding {padding} must be less than the kernel side {kh}");
        }
        Ok(Self { weight, padding, winograd: OnceLock::new(), flipped: OnceLock::new() })
    }

    /// The weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The zero padding on each side.
    pub fn padding(&self) -> usize {
        self.padding
    }

    /// `W ⋆ x + b` (no bias for `None`), followed by `max(0, ·)` when `relu` (fused into the
    /// Winograd output transform on that path).
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        if self.by_winograd(x)? {
            return winograd::conv2d(&x.contiguous()?, self.transform()?, self.padding, bias, relu);
        }
        let y = with_bias(im2col::conv2d(x, &self.weight, self.padding)?, bias)?;
        if relu { y.relu() } else { Ok(y) }
    }

    // ANCHOR: conv_transposed
    /// The transposed map `c = Wᵀ s` for an input of shape `input` `(N, C, H, W)`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        let (o, c, k, _) = self.weight.dims4()?;
        let dims = input.dims4()?;
        if self.by_winograd(s)? {
            return winograd::conv2d_transposed(
                &s.contiguous()?,
                self.transform()?,
                self.padding,
                (dims.2, dims.3),
            );
        }
        let cols_bytes = c * k * k * dims.2 * dims.3 * self.weight.dtype().size_in_bytes();
        let untracked = !s.track_op() && !self.weight.track_op() && s.device().is_cpu();
        if c < o && cols_bytes <= im2col::FOLD_BYTES && untracked {
            return im2col::conv2d_transposed_by_fold(s, &self.weight, self.padding, dims);
        }
        let flipped = match self.flipped.get() {
            Some(f) => f,
            None => {
                let f = transposed_and_flipped(&self.weight)?;
                self.flipped.get_or_init(|| f)
            }
        };
        let out = im2col::conv2d(s, flipped, k - 1 - self.padding)?;
        if out.shape() != input {
            candle_core::bail!("transposed convolution gave {:?}, expected {input:?}", out.shape());
        }
        Ok(out)
    }
    // ANCHOR_END: conv_transposed

    /// Whether a pass over `data` runs by Winograd.
    fn by_winograd(&self, data: &Tensor) -> Result<bool> {
        let (o, c, kh, kw) = self.weight.dims4()?;
        Ok(winograd::suits((kh, kw), c, o)
            && self.padding <= 2
            && data.device().is_cpu()
            && !data.track_op()
            && !self.weight.track_op()
            && matches!(self.weight.dtype(), DType::F32 | DType::F64))
    }

    /// The Winograd kernel transform, made on first use.
    fn transform(&self) -> Result<&Tensor> {
        if let Some(u) = self.winograd.get() {
            return Ok(u);
        }
        let u = winograd::transform_kernel(&self.weight)?;
        Ok(self.winograd.get_or_init(|| u))
    }
}

/// `W ⋆ x + b` for a weight used once (nothing kept): Winograd where it suits, else `im2col`;
/// differentiable by candle's autograd when `x` or `weight` is tracked (then always `im2col`).
pub fn conv2d(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, padding: usize) -> Result<Tensor> {
    ConvKernel::new(weight.clone(), padding)?.forward(x, bias, false)
}

/// `y + b` with `b` broadcast over the channels (axis 1) of `y` `(N, O, H, W)`.
fn with_bias(y: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(b) => y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?),
        None => Ok(y),
    }
}

/// The kernel `(O, C, k, k)` as `(C, O, k, k)`, flipped in both spatial axes, in one pass
/// (candle's `transpose` + `flip` take four copies).
pub fn transposed_and_flipped(weight: &Tensor) -> Result<Tensor> {
    fn permute<T: WithDType>(w: &[T], (o, c, kh, kw): (usize, usize, usize, usize)) -> Vec<T> {
        let mut out = vec![T::zero(); w.len()];
        for co in 0..o {
            for ci in 0..c {
                let src = &w[(co * c + ci) * kh * kw..(co * c + ci + 1) * kh * kw];
                let dst = &mut out[(ci * o + co) * kh * kw..(ci * o + co + 1) * kh * kw];
                for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
                    *d = *s;
                }
            }
        }
        out
    }
    let dims = weight.dims4()?;
    let (o, c, kh, kw) = dims;
    match weight.dtype() {
        DType::F32 => Tensor::from_vec(
            with_slice(weight, |w: &[f32]| permute(w, dims))?,
            (c, o, kh, kw),
            weight.device(),
        ),
        DType::F64 => Tensor::from_vec(
            with_slice(weight, |w: &[f64]| permute(w, dims))?,
            (c, o, kh, kw),
            weight.device(),
        ),
        _ => weight.transpose(0, 1)?.contiguous()?.flip(&[2, 3])?.contiguous(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn max_abs(t: &Tensor) -> f64 {
        t.abs().unwrap().max_all().unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
    }

    /// The transposed map is the adjoint, ⟨s, W⋆x⟩ = ⟨Wᵀs, x⟩, on every path: the fold (fewer
    /// input than output channels), the flipped kernel and Winograd.
    #[test]
    fn transposed_is_the_adjoint_on_every_path() {
        let d = Device::Cpu;
        for (o, c) in [(5, 3), (3, 5), (16, 16)] {
            let w = Tensor::randn(0f64, 1.0, (o, c, 3, 3), &d).unwrap();
            let conv = ConvKernel::new(w.clone(), 1).unwrap();
            let x = Tensor::randn(0f64, 1.0, (2, c, 6, 6), &d).unwrap();
            let s = Tensor::randn(0f64, 1.0, (2, o, 6, 6), &d).unwrap();
            let y = conv.forward(&x, None, false).unwrap();
            let direct = im2col::conv2d(&x, &w, 1).unwrap();
            assert!(max_abs(&(&y - &direct).unwrap()) < 1e-12, "forward {o}x{c}");
            let lhs = (&s * &y).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
            let transposed = conv.transposed(&s, x.shape()).unwrap();
            let rhs = (&transposed * &x).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
            approx::assert_relative_eq!(lhs, rhs, max_relative = 1e-12);
            // Twice: the kept transform or flip gives the same result.
            let again = conv.transposed(&s, x.shape()).unwrap();
            assert_eq!(max_abs(&(&again - &transposed).unwrap()), 0.0);
        }
    }

    #[test]
    fn kernel_flip_matches_candles_transpose_and_flip() {
        let w = Tensor::randn(0f32, 1.0, (4, 3, 3, 2), &Device::Cpu).unwrap();
        let ours = transposed_and_flipped(&w).unwrap();
        let theirs = w.transpose(0, 1).unwrap().contiguous().unwrap().flip(&[2, 3]).unwrap();
        assert_eq!(ours.dims(), theirs.dims());
        assert_eq!(max_abs(&(&ours - &theirs).unwrap()), 0.0);
    }

    #[test]
    fn invalid_kernels_are_errors() {
        let d = Device::Cpu;
        let w = Tensor::zeros((4, 3, 3, 3), DType::F32, &d).unwrap();
        assert!(ConvKernel::new(w.clone(), 3).is_err());
        assert!(ConvKernel::new(Tensor::zeros((4, 0, 3, 3), DType::F32, &d).unwrap(), 1).is_err());
        assert!(ConvKernel::new(Tensor::zeros((4, 3, 3, 2), DType::F32, &d).unwrap(), 1).is_err());
        assert!(ConvKernel::new(w, 2).is_ok());
    }
}
