//! Max-pooling that remembers its argmax, and a max-pool for candle's autograd whose backward
//! pass routes the gradient to the maximum.
//!
//! candle 0.11.1's own `max_pool2d` backward multiplies the gradient by the fraction of maxima
//! in the window (a factor 1/4 per 2×2 pool) instead of routing it: an upstream gradient
//! [10, 20, 30, 40] on one 4×4 input comes back as [2.5, 5, 7.5, 10]. Here the
//! gradient of each output goes, whole, to the position of its maximum; on ties it goes to the
//! first maximum in row-major window order, as PyTorch does.

use candle_core::{
    CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType, backend::BackendStorage,
};

use rayon::prelude::*;

use crate::elementwise::with_slice;

/// A max-pool with a square window and a stride (VGG: 2 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// Window side.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
}

impl Default for MaxPool2d {
    /// torchvision VGG's `MaxPool2d(kernel_size=2, stride=2)`.
    fn default() -> Self {
        Self { kernel: 2, stride: 2 }
    }
}

/// Output side of a pooled axis of length `n` (no padding, floor mode as PyTorch).
fn pooled(n: usize, kernel: usize, stride: usize) -> usize {
    if n < kernel { 0 } else { (n - kernel) / stride + 1 }
}

/// The pooled values and, for each, the flat index `h·W + w` of its maximum in its input
/// plane; the planes are split over rayon's threads.
fn pool_slice<T: WithDType>(
    data: &[T],
    (n, c, h, w): (usize, usize, usize, usize),
    kernel: usize,
    stride: usize,
) -> (Vec<T>, Vec<u32>) {
    let (ho, wo) = (pooled(h, kernel, stride), pooled(w, kernel, stride));
    let mut values = vec![T::zero(); n * c * ho * wo];
    let mut argmax = vec![0u32; n * c * ho * wo];
    if ho * wo == 0 {
        return (values, argmax);
    }
    let planes = data.par_chunks_exact(h * w).take(n * c);
    let outputs = values.par_chunks_exact_mut(ho * wo).zip(argmax.par_chunks_exact_mut(ho * wo));
    planes.zip(outputs).with_min_len(PLANES_PER_TASK.div_ceil(ho * wo)).for_each(
        |(plane, (values, argmax))| {
            if (kernel, stride) == (2, 2) {
                pool_plane_2x2(plane, w, values, argmax, wo);
            } else {
                pool_plane(plane, w, kernel, stride, values, argmax, wo);
            }
        },
    );
    (values, argmax)
}

/// Output values below which a plane is not worth a task of its own.
const PLANES_PER_TASK: usize = 1 << 12;

/// One plane of [`pool_slice`], any window and stride.
fn pool_plane<T: WithDType>(
    plane: &[T],
    w: usize,
    kernel: usize,
    stride: usize,
    values: &mut [T],
    argmax: &mut [u32],
    wo: usize,
) {
    for (i, (values, argmax)) in values.chunks_exact_mut(wo).zip(argmax.chunks_exact_mut(wo)).enumerate() {
        for (j, (value, arg)) in values.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let mut best = (i * stride) * w + j * stride;
            for di in 0..kernel {
                for dj in 0..kernel {
                    let at = (i * stride + di) * w + j * stride + dj;
                    // Strictly greater: the first maximum wins, as in PyTorch. Selected
                    // without a branch (activations are noise to a branch predictor).
                    let greater = usize::from(plane[at] > plane[best]);
                    best ^= (best ^ at) & greater.wrapping_neg();
                }
            }
            *value = plane[best];
            *arg = best as u32;
        }
    }
}

/// One plane of [`pool_slice`] for VGG's 2×2 windows with stride 2: the same choice (first
/// maximum in row-major window order) as selects the compiler can vectorise along the row.
fn pool_plane_2x2<T: WithDType>(plane: &[T], w: usize, values: &mut [T], argmax: &mut [u32], wo: usize) {
    for (i, (values, argmax)) in values.chunks_exact_mut(wo).zip(argmax.chunks_exact_mut(wo)).enumerate() {
        let top = &plane[2 * i * w..][..2 * wo];
        let bottom = &plane[(2 * i + 1) * w..][..2 * wo];
        let row_start = (2 * i * w) as u32;
        for (j, (value, arg)) in values.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let mut best = top[2 * j];
            let mut offset = 0u32;
            for (candidate, at) in
                [(top[2 * j + 1], 1), (bottom[2 * j], w as u32), (bottom[2 * j + 1], w as u32 + 1)]
            {
                let greater = candidate > best;
                best = if greater { candidate } else { best };
                offset = if greater { at } else { offset };
            }
            *value = best;
            *arg = row_start + 2 * j as u32 + offset;
        }
    }
}

impl MaxPool2d {
    /// Output shape for an `(N, C, H, W)` input.
    fn output_dims(&self, dims: &[usize]) -> Result<(usize, usize, usize, usize)> {
        let &[n, c, h, w] = dims else {
            candle_core::bail!("max_pool2d needs an (N, C, H, W) input, got {dims:?}")
        };
        Ok((n, c, pooled(h, self.kernel, self.stride), pooled(w, self.kernel, self.stride)))
    }

    /// The pooled tensor and the argmax (`u32`, flat index `h·W + w` in each input plane).
    pub fn forward_with_argmax(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (n, c, ho, wo) = self.output_dims(x.dims())?;
        let dims = x.dims4()?;
        let (k, s) = (self.kernel, self.stride);
        let (values, argmax) = match x.dtype() {
            DType::F32 => {
                let (v, a) = with_slice(x, |d: &[f32]| pool_slice(d, dims, k, s))?;
                (Tensor::from_vec(v, (n, c, ho, wo), x.device())?, a)
            }
            DType::F64 => {
                let (v, a) = with_slice(x, |d: &[f64]| pool_slice(d, dims, k, s))?;
                (Tensor::from_vec(v, (n, c, ho, wo), x.device())?, a)
            }
            dtype => candle_core::bail!("max_pool2d: unsupported dtype {dtype:?}"),
        };
        Ok((values, Tensor::from_vec(argmax, (n, c, ho, wo), x.device())?))
    }

    // ANCHOR: route
    /// The backward map: each output gradient added to its argmax, zero elsewhere.
    pub fn route(&self, grad: &Tensor, argmax: &Tensor, input: &Shape) -> Result<Tensor> {
        let (n, c, h, w) = input.dims4()?;
        let (n_g, c_g, ho, wo) = grad.dims4()?;
        if (n_g, c_g) != (n, c) || argmax.dims() != grad.dims() || argmax.dtype() != DType::U32 {
            candle_core::bail!(
                "route: gradient {:?}, argmax {:?}, input {:?}",
                grad.dims(),
                argmax.dims(),
                input.dims()
            );
        }
        fn run<T: WithDType>(grad: &[T], argmax: &[u32], plane: usize, pooled: usize) -> Result<Vec<T>> {
            let mut out = vec![T::zero(); grad.len() / pooled.max(1) * plane];
            let planes = out
                .par_chunks_exact_mut(plane)
                .zip(grad.par_chunks_exact(pooled).zip(argmax.par_chunks_exact(pooled)));
            planes.with_min_len(PLANES_PER_TASK.div_ceil(pooled)).try_for_each(|(out, (grad, argmax))| {
                for (&g, &at) in grad.iter().zip(argmax) {
                    let Some(slot) = out.get_mut(at as usize) else {
                        candle_core::bail!("route: argmax {at} outside a plane of {plane}")
                    };
                    *slot += g;
                }
                Ok(())
            })?;
            Ok(out)
        }
        let (plane, pooled) = (h * w, ho * wo);
        with_slice(argmax, |argmax: &[u32]| match grad.dtype() {
            DType::F32 => Tensor::from_vec(
                with_slice(grad, |g: &[f32]| run(g, argmax, plane, pooled))??,
                (n, c, h, w),
                grad.device(),
            ),
            DType::F64 => Tensor::from_vec(
                with_slice(grad, |g: &[f64]| run(g, argmax, plane, pooled))??,
                (n, c, h, w),
                grad.device(),
            ),
            dtype => candle_core::bail!("route: unsupported dtype {dtype:?}"),
        })?
    }
    // ANCHOR_END: route

    /// The max-pool as a node of candle's autograd graph, with [`RoutedMaxPool`]'s backward.
    pub fn forward_autograd(&self, x: &Tensor) -> Result<Tensor> {
        x.contiguous()?.apply_op1(RoutedMaxPool(*self))
    }
}

/// [`MaxPool2d`] as a candle `CustomOp1` whose backward routes the gradient to the argmax
/// (instead of candle's built-in backward, which scales it by 1/4 per 2×2 pool).
#[derive(Debug, Clone, Copy)]
pub struct RoutedMaxPool(pub MaxPool2d);

impl CustomOp1 for RoutedMaxPool {
    fn name(&self) -> &'static str {
        "routed-max-pool2d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("routed-max-pool2d needs a contiguous input")
        };
        let dims = layout.shape().dims4()?;
        let (n, c, ho, wo) = self.0.output_dims(layout.dims())?;
        let out = match storage {
            CpuStorage::F32(v) => {
                CpuStorage::F32(pool_slice(&v[start..end], dims, self.0.kernel, self.0.stride).0)
            }
            CpuStorage::F64(v) => {
                CpuStorage::F64(pool_slice(&v[start..end], dims, self.0.kernel, self.0.stride).0)
            }
            s => candle_core::bail!("routed-max-pool2d: unsupported dtype {:?}", s.dtype()),
        };
        Ok((out, Shape::from((n, c, ho, wo))))
    }

    // ANCHOR: routed_bwd
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let (_, argmax) = self.0.forward_with_argmax(&arg.detach())?;
        Ok(Some(self.0.route(&grad_res.detach(), &argmax, arg.shape())?))
    }
    // ANCHOR_END: routed_bwd
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// The 2×2 fast path picks what the general window loop picks, ties included (values
    /// from three levels, so most windows tie), on sides that do not halve evenly; the
    /// routing adds each gradient at its argmax.
    #[test]
    fn fast_path_and_routing_agree_with_the_general_loops() {
        let (h, w) = (9, 7);
        let data: Vec<f32> = (0..2 * 3 * h * w).map(|i| ((i * 7919) % 3) as f32).collect();
        let dims = (2, 3, h, w);
        let (values, argmax) = pool_slice(&data, dims, 2, 2);
        let (ho, wo) = (4, 3);
        for (p, plane) in data.chunks_exact(h * w).enumerate() {
            let mut v = vec![0f32; ho * wo];
            let mut a = vec![0u32; ho * wo];
            pool_plane(plane, w, 2, 2, &mut v, &mut a, wo);
            assert_eq!(&values[p * ho * wo..(p + 1) * ho * wo], &v[..]);
            assert_eq!(&argmax[p * ho * wo..(p + 1) * ho * wo], &a[..]);
        }
        let d = &Device::Cpu;
        let grad: Vec<f64> = (0..values.len()).map(|i| i as f64 + 0.5).collect();
        let grad_t = Tensor::from_vec(grad.clone(), (2, 3, ho, wo), d).unwrap();
        let argmax_t = Tensor::from_vec(argmax.clone(), (2, 3, ho, wo), d).unwrap();
        let routed = MaxPool2d::default().route(&grad_t, &argmax_t, &Shape::from(dims)).unwrap();
        let mut expected = vec![0f64; data.len()];
        for (i, (&g, &at)) in grad.iter().zip(&argmax).enumerate() {
            expected[(i / (ho * wo)) * h * w + at as usize] += g;
        }
        assert_eq!(routed.flatten_all().unwrap().to_vec1::<f64>().unwrap(), expected);
        let bad = Tensor::from_vec(vec![u32::MAX; values.len()], (2, 3, ho, wo), d).unwrap();
        assert!(MaxPool2d::default().route(&grad_t, &bad, &Shape::from(dims)).is_err());
    }

    /// The example that shows candle's error: one 2×2 window per quadrant, upstream gradient [10, 20, 30, 40];
    /// each value goes whole to its maximum (candle's own backward gives 2.5, 5, 7.5, 10).
    #[test]
    fn gradient_is_routed_to_the_first_maximum() {
        let x = Var::from_tensor(
            &Tensor::new(
                &[[[[1f64, 5., 2., 2.], [3., 5., 2., 0.], [0., 0., 9., 1.], [0., 8., 1., 1.]]]],
                &Device::Cpu,
            )
            .unwrap(),
        )
        .unwrap();
        let y = MaxPool2d::default().forward_autograd(x.as_tensor()).unwrap();
        assert_eq!(y.flatten_all().unwrap().to_vec1::<f64>().unwrap(), [5., 2., 8., 9.]);
        let up = Tensor::new(&[[[[10f64, 20.], [30., 40.]]]], &Device::Cpu).unwrap();
        let grads = (y * up).unwrap().sum_all().unwrap().backward().unwrap();
        let g = grads.get(x.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        // Window 1: 5 at (0,1) and (1,1): first wins. Window 2: ties of 2: first, (0,2).
        assert_eq!(g, [0., 10., 20., 0., 0., 0., 0., 0., 0., 0., 40., 0., 0., 30., 0., 0.]);
    }
}
