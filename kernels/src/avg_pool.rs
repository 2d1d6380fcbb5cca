//! Adaptive average pooling (torchvision's `AdaptiveAvgPool2d`) and its transpose.
//!
//! Output cell `(i, j)` of an `H × W` plane pooled to `h × w` is the mean of input rows
//! `⌊iH/h⌋ .. ⌈(i+1)H/h⌉` and columns `⌊jW/w⌋ .. ⌈(j+1)W/w⌉`, as PyTorch's bins. The map is
//! linear without parameters; its transpose spreads each output's gradient evenly over its bin.

use candle_core::{DType, Result, Shape, Tensor, WithDType};

use crate::elementwise::with_slice;

/// Pools every `(N, C, H, W)` input to `(N, C, height, width)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    /// Output height.
    pub height: usize,
    /// Output width.
    pub width: usize,
}

/// The bin `⌊i·n/m⌋ .. ⌈(i+1)·n/m⌉` of output `i` of `m` over an axis of `n`.
fn bin(i: usize, n: usize, m: usize) -> std::ops::Range<usize> {
    (i * n / m)..((i + 1) * n).div_ceil(m)
}

impl AdaptiveAvgPool2d {
    /// A pool to `height × width` (both ≥ 1).
    pub fn new(height: usize, width: usize) -> Result<Self> {
        if height == 0 || width == 0 {
            candle_core::bail!("an adaptive average pool needs an output of at least 1×1");
        }
        Ok(Self { height, width })
    }

    /// Whether pooling an `h × w` plane is the identity (then it is skipped, bit for bit the same).
    pub fn is_identity(&self, (h, w): (usize, usize)) -> bool {
        (h, w) == (self.height, self.width)
    }

    /// The pooled `(N, C, height, width)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = x.dims4()?;
        if self.is_identity((h, w)) {
            return Ok(x.clone());
        }
        if h == 0 || w == 0 {
            candle_core::bail!("cannot average-pool an empty {h}×{w} plane");
        }
        let (ho, wo) = (self.height, self.width);
        let out_shape = (n, c, ho, wo);
        let pool = |plane: &[f64], out: &mut Vec<f64>| {
            for i in 0..ho {
                for j in 0..wo {
                    let (rows, cols) = (bin(i, h, ho), bin(j, w, wo));
                    let count = (rows.len() * cols.len()) as f64;
                    let sum: f64 =
                        rows.flat_map(|r| cols.clone().map(move |q| r * w + q)).map(|k| plane[k]).sum();
                    out.push(sum / count);
                }
            }
        };
        self.map_planes(x, h * w, ho * wo, out_shape.into(), pool)
    }

    /// The transpose: each output's value spread evenly (divided by its bin's size) over its
    /// bin of an input shaped `input` `(N, C, H, W)`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        let (_, _, h, w) = input.dims4()?;
        if self.is_identity((h, w)) {
            return s.reshape(input);
        }
        let (ho, wo) = (self.height, self.width);
        let spread = |plane: &[f64], out: &mut Vec<f64>| {
            let start = out.len();
            out.resize(start + h * w, 0.0);
            for i in 0..ho {
                for j in 0..wo {
                    let (rows, cols) = (bin(i, h, ho), bin(j, w, wo));
                    let share = plane[i * wo + j] / (rows.len() * cols.len()) as f64;
                    for r in rows {
                        for q in cols.clone() {
                            out[start + r * w + q] += share;
                        }
                    }
                }
            }
        };
        self.map_planes(s, ho * wo, h * w, input.clone(), spread)
    }

    /// The pooled `(N, C, height, width)` as `P_h x P_wᵀ` with averaging matrices: the same
    /// values (up to rounding) through candle ops, differentiable by candle's autograd.
    pub fn forward_differentiable(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        if self.is_identity((h, w)) {
            return Ok(x.clone());
        }
        let rows = averaging(self.height, h, x)?; // (height, H)
        let cols = averaging(self.width, w, x)?.t()?; // (W, width)
        let y = x.broadcast_matmul(&cols)?; // (N, C, H, width)
        rows.broadcast_matmul(&y)
    }

    /// `f` over each plane of `t` (in f64), into a tensor of `shape` and `t`'s dtype.
    fn map_planes(
        &self,
        t: &Tensor,
        plane_in: usize,
        plane_out: usize,
        shape: Shape,
        f: impl Fn(&[f64], &mut Vec<f64>),
    ) -> Result<Tensor> {
        fn run<T: WithDType>(
            t: &Tensor,
            plane_in: usize,
            plane_out: usize,
            f: &impl Fn(&[f64], &mut Vec<f64>),
        ) -> Result<Vec<f64>> {
            with_slice(t, |data: &[T]| {
                let mut out = Vec::with_capacity(data.len() / plane_in.max(1) * plane_out);
                let mut plane = Vec::with_capacity(plane_in);
                for chunk in data.chunks_exact(plane_in) {
                    plane.clear();
                    plane.extend(chunk.iter().map(|v| v.to_f64()));
                    f(&plane, &mut out);
                }
                out
            })
        }
        let values = match t.dtype() {
            DType::F32 => run::<f32>(t, plane_in, plane_out, &f)?,
            DType::F64 => run::<f64>(t, plane_in, plane_out, &f)?,
            dtype => candle_core::bail!("average pooling needs f32 or f64, got {dtype:?}"),
        };
        Tensor::from_vec(values, shape, t.device())?.to_dtype(t.dtype())
    }
}

/// The `(m, n)` matrix whose row `i` averages bin `i` of `n` values into `m`, in `like`'s dtype.
fn averaging(m: usize, n: usize, like: &Tensor) -> Result<Tensor> {
    let mut values = vec![0f64; m * n];
    for i in 0..m {
        let bin = bin(i, n, m);
        let share = 1.0 / bin.len() as f64;
        for j in bin {
            values[i * n + j] = share;
        }
    }
    Tensor::from_vec(values, (m, n), like.device())?.to_dtype(like.dtype())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// PyTorch's bins: 5 → 3 pools rows {0,1}, {1,2,3}, {3,4}; the transpose is the adjoint.
    #[test]
    fn bins_are_pytorchs_and_the_transpose_is_the_adjoint() {
        assert_eq!([bin(0, 5, 3), bin(1, 5, 3), bin(2, 5, 3)], [0..2, 1..4, 3..5]);
        let d = Device::Cpu;
        let pool = AdaptiveAvgPool2d::new(3, 2).unwrap();
        let x = Tensor::randn(0f64, 1.0, (2, 3, 5, 4), &d).unwrap();
        let y = pool.forward(&x).unwrap();
        assert_eq!(y.dims(), &[2, 3, 3, 2]);
        let first = x.narrow(2, 0, 2).unwrap().narrow(3, 0, 2).unwrap().i((0, 0)).unwrap();
        let mean = first.mean_all().unwrap().to_scalar::<f64>().unwrap();
        approx::assert_relative_eq!(
            y.i((0, 0, 0, 0)).unwrap().to_scalar::<f64>().unwrap(),
            mean,
            max_relative = 1e-14
        );
        let s = Tensor::randn(0f64, 1.0, (2, 3, 3, 2), &d).unwrap();
        let lhs = (&s * &y).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        let c = pool.transposed(&s, x.shape()).unwrap();
        let rhs = (&c * &x).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        approx::assert_relative_eq!(lhs, rhs, max_relative = 1e-12);
        // At the output size it is the identity.
        let same = AdaptiveAvgPool2d::new(5, 4).unwrap().forward(&x).unwrap();
        assert_eq!((same - &x).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap(), 0.0);
        assert!(AdaptiveAvgPool2d::new(0, 1).is_err());
        let by_matrices = pool.forward_differentiable(&x).unwrap();
        let diff = (by_matrices - &y).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff < 1e-14, "{diff}");
    }

    use candle_core::IndexOp;
}
