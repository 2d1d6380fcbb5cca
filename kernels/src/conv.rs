//! 2-D convolutions with a stride and symmetric zero padding, and their transposes.
//!
//! `y = W ⋆ x + b` with `W` of shape `(O, C, k, k)`, padding `p` and stride `s`:
//! `y[o, u, v] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x[c, s·u + i − p, s·v + j − p]` (0 outside
//! the input), on an output of side `⌊(n + 2p − k)/s⌋ + 1` for an input side `n` (floor, as
//! PyTorch). The transposed map `c = Wᵀ s` is the adjoint, `⟨s, W ⋆ x⟩ = ⟨Wᵀ s, x⟩` for every
//! `x` and `s`: the gradient of `⟨s, W ⋆ x⟩` with respect to `x`. With a stride the input side
//! cannot be recovered from the output side (several sides floor to the same), so the
//! transposed map is told the input's shape. A [`ConvKernel`] is a weight prepared for repeated
//! passes: it picks the algorithm per pass and keeps what it derives from the weight (the
//! Winograd kernel transform, the transposed-and-flipped kernel, the transposed weight matrix)
//! for its own lifetime.

use std::sync::OnceLock;

use candle_core::{DType, Result, Shape, Tensor, WithDType};

use crate::elementwise::with_slice;
use crate::{im2col, winograd};

/// A convolution's zero padding on each side and its stride (as candle-nn's `Conv2dConfig`,
/// without dilation and groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dConfig {
    /// Zero padding on each side, `p`.
    pub padding: usize,
    /// Step between neighbouring outputs' windows, `s ≥ 1`.
    pub stride: usize,
}

impl Default for Conv2dConfig {
    /// Padding 0, stride 1.
    fn default() -> Self {
        Self { padding: 0, stride: 1 }
    }
}

impl Conv2dConfig {
    /// A configuration with `padding` and `stride`; a stride of 0 is an error.
    pub fn new(padding: usize, stride: usize) -> Result<Self> {
        let config = Self { padding, stride };
        config.validate()?;
        Ok(config)
    }

    /// An error for a stride of 0 (the fields are public, so every pass checks again).
    pub fn validate(&self) -> Result<()> {
        if self.stride == 0 {
            candle_core::bail!("a convolution's stride must be at least 1");
        }
        Ok(())
    }

    /// The output side `⌊(n + 2p − k)/s⌋ + 1` of an input side `n` for a kernel side `k`; an
    /// error when the padded input is shorter than the kernel or the stride is 0.
    pub fn output_side(&self, n: usize, k: usize) -> Result<usize> {
        self.validate()?;
        match (n + 2 * self.padding).checked_sub(k) {
            Some(room) if k > 0 => Ok(room / self.stride + 1),
            _ => candle_core::bail!(
                "a {k}×{k} kernel with padding {} does not fit a side of {n}",
                self.padding
            ),
        }
    }
}

/// A convolution weight `(O, C, k, k)` with its padding and stride, prepared for fast passes.
///
/// On a 3×3 kernel with stride 1, padding ≤ 2 and enough channels ([`winograd::suits`]), in
/// float32, on the CPU and outside candle's autograd, both passes run by Winograd F(4×4, 3×3)
/// with one kernel transform, made on the first pass and kept. Float64 is the reference
/// precision and always takes the direct path below: it computes every output by the same
/// sum, so outputs of identical input windows (a flat image region) are bit-identical and tie
/// in a max-pool exactly as in PyTorch, where Winograd's output transform computes the
/// positions of a tile by different sums and breaks such ties by rounding (which moves a
/// gradient to another pixel). Otherwise the convolution is `im2col`
/// and a matrix product ([`im2col::conv2d_with_config`]; a 1×1 kernel with stride 1 and no
/// padding multiplies the input itself, a strided 1×1 kernel a subsample of it). The transpose
/// is, with stride 1, a convolution with the kernel transposed and flipped (kept), or, with
/// fewer input than output channels, a fold of `Wᵀ s`; with a stride, a padding of at least
/// `k` or a 1×1 kernel it is always the fold of `Wᵀ s`
/// ([`im2col::conv2d_transposed_by_fold`], with the matrix `Wᵀ` made contiguous once and kept).
///
/// The weight must not change while the kernel lives (a training step makes a new one).
#[derive(Debug)]
pub struct ConvKernel {
    weight: Tensor,
    config: Conv2dConfig,
    winograd: OnceLock<Tensor>,
    flipped: OnceLock<Tensor>,
    /// `W2ᵀ` `(C·k·k, O)`, contiguous, for the fold.
    columns: OnceLock<Tensor>,
}

impl ConvKernel {
    /// A kernel for `weight` `(O, C, k, k)` (square, `k ≥ 1`) with stride 1 and zero padding
    /// `padding` on each side.
    pub fn new(weight: Tensor, padding: usize) -> Result<Self> {
        Self::with_config(weight, Conv2dConfig { padding, stride: 1 })
    }

    /// A kernel for `weight` `(O, C, k, k)` (square, `k ≥ 1`) with the padding and stride of
    /// `config` (stride ≥ 1).
    pub fn with_config(weight: Tensor, config: Conv2dConfig) -> Result<Self> {
        let (o, c, kh, kw) = weight.dims4()?;
        if kh != kw || kh == 0 || o == 0 || c == 0 {
            candle_core::bail!("a convolution kernel must be (O ≥ 1, C ≥ 1, k, k), got {:?}", weight.dims());
        }
        config.validate()?;
        Ok(Self {
            weight,
            config,
            winograd: OnceLock::new(),
            flipped: OnceLock::new(),
            columns: OnceLock::new(),
        })
    }

    /// The weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The zero padding on each side.
    pub fn padding(&self) -> usize {
        self.config.padding
    }

    /// The padding and stride.
    pub fn config(&self) -> Conv2dConfig {
        self.config
    }

    /// `W ⋆ x + b` (no bias for `None`), followed by `max(0, ·)` when `relu` (fused into the
    /// Winograd output transform on that path): `(N, C, H, W) → (N, O, Ho, Wo)` with
    /// `Ho = ⌊(H + 2p − k)/s⌋ + 1` (and `Wo` alike).
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        if self.by_winograd(x)? {
            return winograd::conv2d(&x.contiguous()?, self.transform()?, self.config.padding, bias, relu);
        }
        let y = with_bias(im2col::conv2d_with_config(x, &self.weight, self.config)?, bias)?;
        if relu { y.relu() } else { Ok(y) }
    }

    // ANCHOR: conv_transposed
    /// The transposed map `c = Wᵀ s` for an input of shape `input` `(N, C, H, W)`: the adjoint
    /// of [`ConvKernel::forward`] (without bias), `⟨s, W ⋆ x⟩ = ⟨Wᵀ s, x⟩`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        let (o, c, k, _) = self.weight.dims4()?;
        let dims = input.dims4()?;
        let Conv2dConfig { padding, stride } = self.config;
        if self.by_winograd(s)? {
            return winograd::conv2d_transposed(
                &s.contiguous()?,
                self.transform()?,
                padding,
                (dims.2, dims.3),
            );
        }
        let cols_bytes = c * k * k * dims.2 * dims.3 * self.weight.dtype().size_in_bytes();
        let untracked = !s.track_op() && !self.weight.track_op() && s.device().is_cpu();
        let fewer_inputs = c < o && cols_bytes <= im2col::FOLD_BYTES && untracked;
        // A convolution with the flipped kernel needs stride 1 and a padding k − 1 − p ≥ 0.
        if fewer_inputs || stride > 1 || padding >= k || k == 1 {
            let w2t = match self.columns.get() {
                Some(w2t) => w2t,
                None => {
                    let w2t = matrix_transposed(&self.weight.contiguous()?.reshape((o, c * k * k))?)?;
                    self.columns.get_or_init(|| w2t)
                }
            };
            return im2col::fold_of_product(s, w2t, k, self.config, dims);
        }
        let flipped = match self.flipped.get() {
            Some(f) => f,
            None => {
                let f = transposed_and_flipped(&self.weight)?;
                self.flipped.get_or_init(|| f)
            }
        };
        let out = im2col::conv2d(s, flipped, k - 1 - padding)?;
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
            && self.config.stride == 1
            && self.config.padding <= 2
            && data.device().is_cpu()
            && !data.track_op()
            && !self.weight.track_op()
            && self.weight.dtype() == DType::F32)
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

/// `W ⋆ x + b` with stride 1 for a weight used once (nothing kept): Winograd where it suits,
/// else `im2col`; differentiable by candle's autograd when `x` or `weight` is tracked (then
/// always `im2col`).
pub fn conv2d(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, padding: usize) -> Result<Tensor> {
    ConvKernel::new(weight.clone(), padding)?.forward(x, bias, false)
}

/// `W ⋆ x + b` with the padding and stride of `config` for a weight used once (nothing kept),
/// as [`conv2d`]; differentiable by candle's autograd when `x` or `weight` is tracked (the
/// input's gradient then comes from the strided fold, `col2im`, the unfolding's adjoint).
pub fn conv2d_with_config(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    config: Conv2dConfig,
) -> Result<Tensor> {
    ConvKernel::with_config(weight.clone(), config)?.forward(x, bias, false)
}

/// `y + b` with `b` broadcast over the channels (axis 1) of `y` `(N, O, H, W)`.
fn with_bias(y: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(b) => y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?),
        None => Ok(y),
    }
}

/// The matrix `m` `(R, C)` transposed, `(C, R)` contiguous, over rayon's threads in blocks of
/// 32 output rows (32 columns of `m`, read a short row at a time). candle's `t()` and
/// `contiguous()` copy element by element on one thread; the fold's `W2ᵀ` is made on every
/// LRP call for a rule's modified weights, and in a profile of the `resnet50` bench that copy
/// was a visible share of the CPU time.
pub fn matrix_transposed(m: &Tensor) -> Result<Tensor> {
    fn run<T: WithDType>(m: &[T], (r, c): (usize, usize)) -> Vec<T> {
        use rayon::prelude::*;
        const BLOCK: usize = 32;
        let mut out = vec![T::zero(); r * c];
        // An empty matrix has no chunks (the size only has to be non-zero).
        out.par_chunks_mut((BLOCK * r).max(1)).enumerate().for_each(|(b, rows)| {
            let (j0, width) = (b * BLOCK, rows.len() / r.max(1));
            for i in 0..r {
                for (dj, &v) in m[i * c + j0..i * c + j0 + width].iter().enumerate() {
                    rows[dj * r + i] = v;
                }
            }
        });
        out
    }
    let dims = m.dims2()?;
    let (r, c) = dims;
    let m = m.contiguous()?;
    match m.dtype() {
        DType::F32 => Tensor::from_vec(with_slice(&m, |v: &[f32]| run(v, dims))?, (c, r), m.device()),
        DType::F64 => Tensor::from_vec(with_slice(&m, |v: &[f64]| run(v, dims))?, (c, r), m.device()),
        _ => m.t()?.contiguous(),
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
    /// input than output channels), the flipped kernel (float64 takes both) and Winograd
    /// (16 channels in float32), each against the direct convolution in float64.
    #[test]
    fn transposed_is_the_adjoint_on_every_path() {
        let d = Device::Cpu;
        // (output channels, input channels, dtype, whether Winograd, tolerance relative to the largest value)
        let cases = [
            (5, 3, DType::F64, false, 1e-12),
            (3, 5, DType::F64, false, 1e-12),
            (16, 16, DType::F64, false, 1e-12),
            (16, 16, DType::F32, true, 1e-5),
        ];
        for (o, c, dtype, winograd, tolerance) in cases {
            let w = Tensor::randn(0f64, 1.0, (o, c, 3, 3), &d).unwrap();
            let x = Tensor::randn(0f64, 1.0, (2, c, 6, 6), &d).unwrap();
            let s = Tensor::randn(0f64, 1.0, (2, o, 6, 6), &d).unwrap();
            let conv = ConvKernel::new(w.to_dtype(dtype).unwrap(), 1).unwrap();
            let (xd, sd) = (x.to_dtype(dtype).unwrap(), s.to_dtype(dtype).unwrap());
            assert_eq!(conv.by_winograd(&xd).unwrap(), winograd, "{o}x{c} {dtype:?}");
            let y = conv.forward(&xd, None, false).unwrap().to_dtype(DType::F64).unwrap();
            let direct = im2col::conv2d(&x, &w, 1).unwrap();
            assert!(max_abs(&(&y - &direct).unwrap()) < tolerance * max_abs(&direct), "forward {o}x{c}");
            let transposed = conv.transposed(&sd, xd.shape()).unwrap();
            let lhs = (&s * &direct).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
            let rhs = (&transposed.to_dtype(DType::F64).unwrap() * &x)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            // Relative to the size of the terms, not of their sum (which may cancel).
            let terms = (&s * &direct).unwrap().abs().unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
            assert!((lhs - rhs).abs() <= tolerance * terms, "adjoint {o}x{c} {dtype:?}: {lhs} against {rhs}");
            // Twice: the kept transform or flip gives the same result.
            let again = conv.transposed(&sd, xd.shape()).unwrap();
            assert_eq!(max_abs(&(&again - &transposed).unwrap()), 0.0);
        }
    }

    /// Float64 never takes Winograd, so identical input windows give bit-identical outputs:
    /// on a constant input every interior output of a channel is the same number.
    #[test]
    fn float64_outputs_of_identical_windows_are_identical() {
        let d = Device::Cpu;
        let w = Tensor::randn(0f64, 1.0, (32, 32, 3, 3), &d).unwrap();
        let x = Tensor::ones((1, 32, 12, 12), DType::F64, &d).unwrap();
        let y = ConvKernel::new(w, 1).unwrap().forward(&x, None, false).unwrap();
        let interior = y.narrow(2, 1, 10).unwrap().narrow(3, 1, 10).unwrap();
        let first = interior.narrow(2, 0, 1).unwrap().narrow(3, 0, 1).unwrap();
        let spread = interior.broadcast_sub(&first).unwrap();
        assert_eq!(max_abs(&spread), 0.0);
    }

    #[test]
    fn matrix_transpose_matches_candles() {
        for (r, c) in [(1, 1), (3, 70), (65, 33), (100, 4), (0, 5), (5, 0)] {
            let m = Tensor::randn(0f32, 1.0, (r, c), &Device::Cpu).unwrap();
            let ours = matrix_transposed(&m).unwrap();
            let theirs = m.t().unwrap().contiguous().unwrap();
            assert_eq!(ours.dims(), &[c, r]);
            if r * c > 0 {
                assert_eq!(max_abs(&(&ours - &theirs).unwrap()), 0.0, "{r}×{c}");
            }
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
        assert!(ConvKernel::new(Tensor::zeros((4, 0, 3, 3), DType::F32, &d).unwrap(), 1).is_err());
        assert!(ConvKernel::new(Tensor::zeros((4, 3, 3, 2), DType::F32, &d).unwrap(), 1).is_err());
        assert!(Conv2dConfig::new(1, 0).is_err());
        assert!(ConvKernel::with_config(w.clone(), Conv2dConfig { padding: 1, stride: 0 }).is_err());
        // A padding of the kernel's side or more is allowed: the transpose is a fold then.
        assert!(ConvKernel::new(w.clone(), 3).is_ok());
        let conv = ConvKernel::with_config(w, Conv2dConfig::new(1, 2).unwrap()).unwrap();
        assert_eq!((conv.padding(), conv.config()), (1, Conv2dConfig { padding: 1, stride: 2 }));
        // A 3×3 kernel does not fit a 1×1 input without padding.
        let tiny = Tensor::zeros((1, 3, 1, 1), DType::F32, &d).unwrap();
        assert!(
            ConvKernel::new(Tensor::zeros((4, 3, 3, 3), DType::F32, &d).unwrap(), 0)
                .unwrap()
                .forward(&tiny, None, false)
                .is_err()
        );
        assert_eq!(Conv2dConfig::default(), Conv2dConfig { padding: 0, stride: 1 });
    }

    /// Winograd takes exactly the 3×3 stride-1 passes it took before strides existed.
    #[test]
    fn winograd_takes_the_stride_one_three_by_three_passes() {
        let d = Device::Cpu;
        let x = Tensor::zeros((1, 16, 8, 8), DType::F32, &d).unwrap();
        let w = Tensor::zeros((16, 16, 3, 3), DType::F32, &d).unwrap();
        let by = |padding, stride| {
            let conv = ConvKernel::with_config(w.clone(), Conv2dConfig { padding, stride }).unwrap();
            conv.by_winograd(&x).unwrap()
        };
        assert!(by(1, 1) && by(0, 1) && by(2, 1));
        assert!(!by(1, 2) && !by(3, 1));
    }
}
