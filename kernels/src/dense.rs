//! Dense layers `y = W x + b` (`W` of shape `(out, in)`, as `torch.nn.Linear`) and their
//! transposes `c = Wᵀ s`, on batches of row vectors.
//!
//! For the few rows of a batch these are matrix-vector products, bound by reading `W` once
//! (VGG-16's first dense weight is 411 MB). One product on all of `W` reads it on one
//! thread at a time; here `W` is cut into blocks of whole rows, one product each over
//! rayon's threads:
//!
//! - forward: block `b` gives the outputs `y_r = Σ_j W_rj x_j` of its rows `r`;
//! - transposed: block `b` gives the partial sum `c⁽ᵇ⁾ = Σ_{r∈b} s_r W_r` over its rows, and
//!   `c = Σ_b c⁽ᵇ⁾` is added in block order.
//!
//! The blocks depend on the shape of `W` alone, not on the number of threads, so the sums
//! are the same on every machine and in every run. A weight of one block (below 2²⁰ values)
//! takes candle's product, which splits its outputs over the threads itself.

use candle_core::{DType, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

use crate::elementwise::with_slice;
use crate::gemm::{MatRef, matmul};

/// A dense weight `(out, in)` prepared for passes over batches `(N, in)`.
#[derive(Debug, Clone)]
pub struct DenseKernel {
    weight: Tensor,
}

impl DenseKernel {
    /// A kernel for `weight` `(out ≥ 1, in ≥ 1)`, float32 or float64.
    pub fn new(weight: Tensor) -> Result<Self> {
        let (o, i) = weight.dims2()?;
        if o == 0 || i == 0 {
            candle_core::bail!("a dense weight must be (out ≥ 1, in ≥ 1), got {:?}", weight.dims());
        }
        if !matches!(weight.dtype(), DType::F32 | DType::F64) {
            candle_core::bail!("a dense weight must be float32 or float64, got {:?}", weight.dtype());
        }
        Ok(Self { weight: weight.contiguous()? })
    }

    /// The weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `W x + b` for each row `x` of `x` `(N, in)`, then `max(0, ·)` when `relu`.
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        let (o, i) = self.weight.dims2()?;
        let (n, xi) = x.dims2()?;
        if xi != i {
            candle_core::bail!("a dense layer of {i} inputs was given rows of {xi}");
        }
        if blocks(o, i) == 1 {
            let y = dense(x, &self.weight, bias)?;
            return if relu { y.relu() } else { Ok(y) };
        }
        // yᵀ (out, N), row-block by row-block; y is its transpose.
        let yt = match self.weight.dtype() {
            DType::F32 => Tensor::from_vec(self.rows_times::<f32>(x)?, (o, n), x.device())?,
            _ => Tensor::from_vec(self.rows_times::<f64>(x)?, (o, n), x.device())?,
        };
        let y = yt.t()?;
        let y = match bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        if relu { y.relu() } else { Ok(y) }
    }

    /// `c = s W` (row vectors `s` `(N, out)`): the transposed map, shaped as `input`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        let (o, i) = self.weight.dims2()?;
        let (n, so) = s.dims2()?;
        if so != o {
            candle_core::bail!("a dense layer of {o} outputs was given rows of {so}");
        }
        if blocks(o, i) == 1 {
            return s.matmul(&self.weight)?.reshape(input);
        }
        let c = match self.weight.dtype() {
            DType::F32 => Tensor::from_vec(self.times_rows::<f32>(s)?, (n, i), s.device())?,
            _ => Tensor::from_vec(self.times_rows::<f64>(s)?, (n, i), s.device())?,
        };
        c.reshape(input)
    }

    /// `yᵀ = W xᵀ` `(out, N)`, row-major: each block of rows of `W` times `xᵀ`.
    fn rows_times<T: WithDType>(&self, x: &Tensor) -> Result<Vec<T>> {
        let (o, i) = self.weight.dims2()?;
        let n = x.dim(0)?;
        let x = x.to_dtype(T::DTYPE)?;
        with_slice(&self.weight, |w: &[T]| {
            with_slice(&x, |x: &[T]| {
                let rows = o.div_ceil(blocks(o, i));
                let mut yt = vec![T::zero(); o * n];
                yt.par_chunks_mut(rows * n).enumerate().try_for_each(|(b, dst)| {
                    let (r0, r) = (b * rows, dst.len() / n);
                    let lhs = MatRef::new(&w[r0 * i..(r0 + r) * i], (r, i), (i, 1))?;
                    let rhs = MatRef::new(x, (i, n), (1, i))?;
                    matmul(dst, n, lhs, rhs, false)
                })?;
                Ok(yt)
            })?
        })?
    }

    /// `c = s W` `(N, in)`, row-major: the blocks' partial sums over their rows, added in order.
    fn times_rows<T: WithDType>(&self, s: &Tensor) -> Result<Vec<T>> {
        let (o, i) = self.weight.dims2()?;
        let n = s.dim(0)?;
        let s = s.to_dtype(T::DTYPE)?;
        with_slice(&self.weight, |w: &[T]| {
            with_slice(&s, |s: &[T]| {
                let rows = o.div_ceil(blocks(o, i));
                let partials = (0..o.div_ceil(rows))
                    .into_par_iter()
                    .map(|b| {
                        let (r0, r1) = (b * rows, ((b + 1) * rows).min(o));
                        let mut partial = vec![T::zero(); n * i];
                        let lhs = MatRef::new(&s[r0..], (n, r1 - r0), (o, 1))?;
                        let rhs = MatRef::new(&w[r0 * i..r1 * i], (r1 - r0, i), (i, 1))?;
                        matmul(&mut partial, i, lhs, rhs, false)?;
                        Ok(partial)
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(sum_in_order(partials))
            })?
        })?
    }
}

/// `W x + b` for each row `x` of `x` `(N, in)`, for a weight used once, through candle ops:
/// differentiable by candle's autograd when `x` or `weight` is tracked (the blocked
/// [`DenseKernel::forward`] is not). Computed as `(W xᵀ)ᵀ`: the same sums as `x Wᵀ`, but the
/// product reads `W` row by row, which is several times faster for a few rows.
pub fn dense(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let y = weight.matmul(&x.t()?)?.t()?;
    match bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

/// How many blocks of rows a `(out, in)` weight is cut into: about one per 2²⁰ weights (4 MB
/// in float32), at most [`MAX_BLOCKS`] and at most one per row.
fn blocks(out: usize, inputs: usize) -> usize {
    out.saturating_mul(inputs).div_ceil(1 << 20).clamp(1, MAX_BLOCKS).min(out)
}

/// Enough blocks to keep every thread of a many-core machine busy on VGG-16's dense layers,
/// few enough that the transposed pass's partial sums stay small next to `W`.
const MAX_BLOCKS: usize = 16;

/// `Σ_b partials[b]`, element by element in the order of `b`, in parallel over the elements.
fn sum_in_order<T: WithDType>(mut partials: Vec<Vec<T>>) -> Vec<T> {
    let rest = partials.split_off(1.min(partials.len()));
    let mut sum = partials.pop().unwrap_or_default();
    if rest.is_empty() {
        return sum;
    }
    const CHUNK: usize = 1 << 14;
    sum.par_chunks_mut(CHUNK).enumerate().for_each(|(k, chunk)| {
        let (start, len) = (k * CHUNK, chunk.len());
        for partial in &rest {
            for (total, &v) in chunk.iter_mut().zip(&partial[start..start + len]) {
                *total += v;
            }
        }
    });
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// ⟨s, W x⟩ = ⟨Wᵀ s, x⟩.
    #[test]
    fn transposed_is_the_adjoint() {
        let d = Device::Cpu;
        let w = Tensor::randn(0f64, 1.0, (5, 7), &d).unwrap();
        let dense = DenseKernel::new(w).unwrap();
        let x = Tensor::randn(0f64, 1.0, (3, 7), &d).unwrap();
        let s = Tensor::randn(0f64, 1.0, (3, 5), &d).unwrap();
        let lhs = (&s * dense.forward(&x, None, false).unwrap()).unwrap().sum_all().unwrap();
        let rhs = (dense.transposed(&s, x.shape()).unwrap() * &x).unwrap().sum_all().unwrap();
        approx::assert_relative_eq!(
            lhs.to_scalar::<f64>().unwrap(),
            rhs.to_scalar::<f64>().unwrap(),
            max_relative = 1e-12
        );
        assert!(DenseKernel::new(Tensor::zeros((0, 3), candle_core::DType::F32, &d).unwrap()).is_err());
        assert!(DenseKernel::new(Tensor::zeros((2, 3), candle_core::DType::U8, &d).unwrap()).is_err());
        assert!(dense.forward(&s, None, false).is_err(), "rows of 5 into a layer of 7 inputs");
        assert!(dense.transposed(&x, x.shape()).is_err(), "rows of 7 into a layer of 5 outputs");
    }

    /// Cut into blocks (3 here) or not (then by candle), both passes equal candle's matrix products
    /// on the whole weight, in float32 and float64, with the bias and the ReLU applied.
    #[test]
    fn blocked_passes_match_candles_products() {
        let d = Device::Cpu;
        for (o, i, n) in [(300, 8000, 1), (300, 8000, 3), (1, 9, 2), (17, 5, 4)] {
            assert_eq!(blocks(o, i), if o * i > 1 << 20 { 3 } else { 1 });
            for dtype in [DType::F32, DType::F64] {
                let w = Tensor::randn(0f32, 1.0, (o, i), &d).unwrap().to_dtype(dtype).unwrap();
                let b = Tensor::randn(0f32, 1.0, o, &d).unwrap().to_dtype(dtype).unwrap();
                let x = Tensor::randn(0f32, 1.0, (n, i), &d).unwrap().to_dtype(dtype).unwrap();
                let s = Tensor::randn(0f32, 1.0, (n, o), &d).unwrap().to_dtype(dtype).unwrap();
                let kernel = DenseKernel::new(w.clone()).unwrap();
                let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                let close = |ours: Tensor, theirs: Tensor| {
                    let (ours, theirs) =
                        (ours.to_dtype(DType::F64).unwrap(), theirs.to_dtype(DType::F64).unwrap());
                    assert_eq!(ours.dims(), theirs.dims());
                    let diff = (ours - &theirs)
                        .unwrap()
                        .abs()
                        .unwrap()
                        .max_all()
                        .unwrap()
                        .to_scalar::<f64>()
                        .unwrap();
                    let scale = theirs.abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
                    assert!(diff <= tol * scale, "{o}×{i}, N = {n}, {dtype:?}: {diff} against {scale}");
                };
                let expected = x.matmul(&w.t().unwrap()).unwrap().broadcast_add(&b).unwrap().relu().unwrap();
                close(kernel.forward(&x, Some(&b), true).unwrap(), expected);
                close(kernel.transposed(&s, &Shape::from((n, i))).unwrap(), s.matmul(&w).unwrap());
                close(dense(&x, &w, Some(&b)).unwrap(), kernel.forward(&x, Some(&b), false).unwrap());
            }
        }
    }
}
