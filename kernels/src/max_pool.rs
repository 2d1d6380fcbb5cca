//! Max-pooling that remembers its argmax, and a max-pool for candle's autograd whose backward
//! pass routes the gradient to the maximum.
//!
//! A `k × k` pool with stride `s` and padding `p` maps an input side `n` to
//! `⌊(n + 2p − k)/s⌋ + 1` outputs (floor, as PyTorch); output `(u, v)` is the maximum of the
//! input rows `s·u − p .. s·u − p + k` and columns `s·v − p .. s·v − p + k` that lie inside the
//! input (padding is −∞, never chosen). Its argmax is the flat index `h·W + w` of that maximum
//! in the unpadded input plane; on ties the first maximum in row-major window order wins, as in
//! PyTorch.
//!
//! The backward map of the pool at `x` is linear in the upstream gradient `g`:
//! `route(g)[i] = Σ_{outputs o with argmax(o) = i} g[o]`, the adjoint of reading the argmax,
//! `⟨g, x[argmax]⟩ = ⟨route(g), x⟩`. Overlapping windows (3×3 with stride 2) may share a
//! maximum; their gradients then add at that position.
//!
//! candle 0.11.1's own `max_pool2d` backward multiplies the gradient by the fraction of maxima
//! in the window (a factor 1/4 per 2×2 pool) instead of routing it: an upstream gradient
//! [10, 20, 30, 40] on one 4×4 input comes back as [2.5, 5, 7.5, 10]. Here the
//! gradient of each output goes, whole, to the position of its maximum.

use candle_core::{
    CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType, backend::BackendStorage,
};

use rayon::prelude::*;

use crate::elementwise::with_slice;

/// A max-pool with a square window, a stride and a padding of −∞ on each side (VGG: 2, 2, 0;
/// ResNet's stem: 3, 2, 1).
///
/// The fields are public for reading; a pool built by hand is checked on every pass as
/// [`MaxPool2d::new`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxPool2d {
    /// Window side `k ≥ 1`.
    pub kernel: usize,
    /// Step between windows `s ≥ 1`.
    pub stride: usize,
    /// Padding on each side, `p ≤ k/2` (as PyTorch requires); padded positions are −∞.
    pub padding: usize,
}

impl Default for MaxPool2d {
    /// torchvision VGG's `MaxPool2d(kernel_size=2, stride=2)`.
    fn default() -> Self {
        Self { kernel: 2, stride: 2, padding: 0 }
    }
}

/// The pooled values and, for each, the flat index `h·W + w` of its maximum in its input
/// plane; the planes are split over rayon's threads. `pool` must be valid.
fn pool_slice<T: WithDType>(
    data: &[T],
    (n, c, h, w): (usize, usize, usize, usize),
    pool: MaxPool2d,
) -> (Vec<T>, Vec<u32>) {
    let (ho, wo) = (pool.output_side(h), pool.output_side(w));
    let mut values = vec![T::zero(); n * c * ho * wo];
    let mut argmax = vec![0u32; n * c * ho * wo];
    if ho * wo == 0 {
        return (values, argmax);
    }
    let planes = data.par_chunks_exact(h * w).take(n * c);
    let outputs = values.par_chunks_exact_mut(ho * wo).zip(argmax.par_chunks_exact_mut(ho * wo));
    planes.zip(outputs).with_min_len(PLANES_PER_TASK.div_ceil(ho * wo)).for_each(
        |(plane, (values, argmax))| {
            if pool == MaxPool2d::default() {
                pool_plane_2x2(plane, w, values, argmax, wo);
            } else {
                pool_plane(plane, (h, w), pool, values, argmax, wo);
            }
        },
    );
    (values, argmax)
}

/// Output values below which a plane is not worth a task of its own.
const PLANES_PER_TASK: usize = 1 << 12;

/// One plane of [`pool_slice`], any window, stride and padding: each window clipped to the
/// input (the padding never wins), scanned in row-major order.
fn pool_plane<T: WithDType>(
    plane: &[T],
    (h, w): (usize, usize),
    pool: MaxPool2d,
    values: &mut [T],
    argmax: &mut [u32],
    wo: usize,
) {
    let MaxPool2d { kernel, stride, padding } = pool;
    // The input range of output `i` along a side of `n`: never empty for a valid pool.
    let window =
        |i: usize, n: usize| ((i * stride).saturating_sub(padding), (i * stride + kernel - padding).min(n));
    for (i, (values, argmax)) in values.chunks_exact_mut(wo).zip(argmax.chunks_exact_mut(wo)).enumerate() {
        let (r0, r1) = window(i, h);
        for (j, (value, arg)) in values.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let (q0, q1) = window(j, w);
            let mut best = r0 * w + q0;
            let mut best_value = plane[best];
            for r in r0..r1 {
                let start = r * w + q0;
                for (at, &candidate) in (start..).zip(&plane[start..r * w + q1]) {
                    // Strictly greater: the first maximum wins, as in PyTorch. Selected
                    // without a branch (activations are noise to a branch predictor).
                    let greater = candidate > best_value;
                    best_value = if greater { candidate } else { best_value };
                    best = if greater { at } else { best };
                }
            }
            *value = best_value;
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
    /// A `kernel × kernel` pool with `stride` and `padding`: `kernel ≥ 1`, `stride ≥ 1` and
    /// `padding ≤ kernel/2` (PyTorch's condition; it keeps every window inside the input in at
    /// least one position).
    pub fn new(kernel: usize, stride: usize, padding: usize) -> Result<Self> {
        let pool = Self { kernel, stride, padding };
        pool.validate()?;
        Ok(pool)
    }

    /// An error unless `kernel ≥ 1`, `stride ≥ 1` and `padding ≤ kernel/2`.
    pub fn validate(&self) -> Result<()> {
        let Self { kernel, stride, padding } = *self;
        if kernel == 0 || stride == 0 {
            candle_core::bail!(
                "a max-pool needs a window and a stride of at least 1, got {kernel} and {stride}"
            );
        }
        if padding > kernel / 2 {
            candle_core::bail!("a max-pool's padding {padding} must be at most half its window {kernel}");
        }
        Ok(())
    }

    /// The output side `⌊(n + 2p − k)/s⌋ + 1` of an input side `n` (floor, as PyTorch), 0 when
    /// the padded side is shorter than the window or `n = 0`. The pool must be valid.
    pub fn output_side(&self, n: usize) -> usize {
        match (n + 2 * self.padding).checked_sub(self.kernel) {
            Some(room) if n > 0 => room / self.stride.max(1) + 1,
            _ => 0,
        }
    }

    /// Output shape for an `(N, C, H, W)` input; an error for an invalid pool, or planes
    /// whose flat indices do not fit the `u32` argmax.
    fn output_dims(&self, dims: &[usize]) -> Result<(usize, usize, usize, usize)> {
        self.validate()?;
        let &[n, c, h, w] = dims else {
            candle_core::bail!("max_pool2d needs an (N, C, H, W) input, got {dims:?}")
        };
        if u32::try_from(h * w).is_err() {
            candle_core::bail!("max_pool2d: a {h}×{w} plane has more positions than a u32 argmax indexes");
        }
        Ok((n, c, self.output_side(h), self.output_side(w)))
    }

    /// The pooled tensor and the argmax (`u32`, flat index `h·W + w` in each input plane).
    pub fn forward_with_argmax(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (n, c, ho, wo) = self.output_dims(x.dims())?;
        let dims = x.dims4()?;
        let (values, argmax) = match x.dtype() {
            DType::F32 => {
                let (v, a) = with_slice(x, |d: &[f32]| pool_slice(d, dims, *self))?;
                (Tensor::from_vec(v, (n, c, ho, wo), x.device())?, a)
            }
            DType::F64 => {
                let (v, a) = with_slice(x, |d: &[f64]| pool_slice(d, dims, *self))?;
                (Tensor::from_vec(v, (n, c, ho, wo), x.device())?, a)
            }
            dtype => candle_core::bail!("max_pool2d: unsupported dtype {dtype:?}"),
        };
        Ok((values, Tensor::from_vec(argmax, (n, c, ho, wo), x.device())?))
    }

    // ANCHOR: route
    /// The backward map: each output gradient added to its argmax, zero elsewhere (gradients
    /// of overlapping windows with the same argmax add up).
    pub fn route(&self, grad: &Tensor, argmax: &Tensor, input: &Shape) -> Result<Tensor> {
        let (n, c, h, w) = input.dims4()?;
        let (n_g, c_g, ho, wo) = grad.dims4()?;
        let pooled = self.output_dims(input.dims())?;
        if pooled != (n_g, c_g, ho, wo) || argmax.dims() != grad.dims() || argmax.dtype() != DType::U32 {
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
            CpuStorage::F32(v) => CpuStorage::F32(pool_slice(&v[start..end], dims, self.0).0),
            CpuStorage::F64(v) => CpuStorage::F64(pool_slice(&v[start..end], dims, self.0).0),
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
        let (values, argmax) = pool_slice(&data, dims, MaxPool2d::default());
        let (ho, wo) = (4, 3);
        for (p, plane) in data.chunks_exact(h * w).enumerate() {
            let mut v = vec![0f32; ho * wo];
            let mut a = vec![0u32; ho * wo];
            pool_plane(plane, (h, w), MaxPool2d::default(), &mut v, &mut a, wo);
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
