//! Convolution with a stride as `im2col` + one matrix product, differentiable in candle.
//!
//! candle 0.11.1's CPU `conv2d` spends most of its time outside the matrix product on VGG's
//! large early layers (0.30 s for 64→64 channels at 224×224, of which the product is 0.09 s).
//! Here the input is unfolded into columns, `cols[(c·k + i)·k + j, y·Wo + x] = x[c, s·y + i − p,
//! s·x + j − p]` (0 outside), for stride 1 each row a shifted copy of an input plane, and the
//! convolution is `W (O × C·k·k) · cols (C·k·k × Ho·Wo)`, which is already in NCHW order; the
//! output side is `Ho = ⌊(H + 2p − k)/s⌋ + 1`. A 1×1 kernel with stride 1 and no padding needs
//! no unfolding (the input planes are the columns), and a strided 1×1 kernel's unfolding is
//! the subsample `x[c, s·y, s·x]`. The unfolding is a [`CustomOp1`] whose backward folds the
//! columns back (`col2im`, its adjoint: each entry added to the input pixel it was read from),
//! so candle's autograd differentiates through it.

use candle_core::{
    CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType, backend::BackendStorage,
};

use crate::conv::Conv2dConfig;
use crate::elementwise::with_slice;

/// Unfolds `(N, C, H, W)` into `(N, C·k·k, Ho·Wo)` for a `k×k` kernel, padding `p`, stride `s`.
#[derive(Debug, Clone, Copy)]
pub struct Im2Col {
    /// Kernel side.
    pub kernel: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Step between output positions in the input, `≥ 1` (a pass with 0 is an error).
    pub stride: usize,
}

impl Im2Col {
    /// The unfolding for a `kernel × kernel` kernel with `config`'s padding and stride.
    pub fn new(kernel: usize, config: Conv2dConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { kernel, padding: config.padding, stride: config.stride })
    }

    fn config(&self) -> Conv2dConfig {
        Conv2dConfig { padding: self.padding, stride: self.stride }
    }

    /// The output side `⌊(n + 2p − k)/s⌋ + 1` of an input side `n`.
    fn out_side(&self, n: usize) -> Result<usize> {
        self.config().output_side(n, self.kernel)
    }

    /// Whether the unfolding is the identity (1×1, stride 1, no padding): the input planes
    /// already are the columns.
    fn is_identity(&self) -> bool {
        (self.kernel, self.padding, self.stride) == (1, 0, 1)
    }

    /// For kernel column `j` over an input side `w` with `wo` outputs: the outputs
    /// `x0..x1` that read inside the input, `0 ≤ s·x + j − p < w`.
    fn valid(&self, j: usize, w: usize, wo: usize) -> (usize, usize) {
        let (s, p) = (self.stride, self.padding);
        let x0 = p.saturating_sub(j).div_ceil(s);
        let x1 = if w + p > j { ((w + p - j - 1) / s + 1).min(wo) } else { 0 };
        (x0, x1.max(x0))
    }

    /// The rows `[(c·k + i)·k + j]` of one sample, for the output rows `y0..y1`; large
    /// unfoldings are split by rows over candle's thread count.
    fn unfold<T: WithDType>(
        &self,
        x: &[T],
        chw: (usize, usize, usize),
        rows: (usize, usize),
        out: &mut [T],
    ) -> Result<()> {
        let row_len = (rows.1 - rows.0) * self.out_side(chw.2)?;
        let threads = candle_core::utils::get_num_threads().max(1);
        if threads == 1 || out.len() < PARALLEL_ELEMENTS || row_len == 0 {
            return self.unfold_rows(x, chw, rows, 0, out);
        }
        let per_thread = (out.len() / row_len).div_ceil(threads) * row_len;
        std::thread::scope(|scope| {
            let handles: Vec<_> = out
                .chunks_mut(per_thread)
                .enumerate()
                .map(|(t, chunk)| {
                    let first = t * per_thread / row_len;
                    scope.spawn(move || self.unfold_rows(x, chw, rows, first, chunk))
                })
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join().map_err(|_| candle_core::Error::Msg("an im2col thread panicked".into()))?
            })
        })
    }

    /// Rows `first..` of [`Im2Col::unfold`] into `out` (entries outside the input are left
    /// as they are: `out` comes zeroed).
    fn unfold_rows<T: WithDType>(
        &self,
        x: &[T],
        (_, h, w): (usize, usize, usize),
        (y0, y1): (usize, usize),
        first: usize,
        out: &mut [T],
    ) -> Result<()> {
        let (k, p, s) = (self.kernel, self.padding, self.stride);
        let wo = self.out_side(w)?;
        for (r, row) in out.chunks_exact_mut((y1 - y0) * wo).enumerate() {
            let r = first + r;
            let (ci, i, j) = (r / (k * k), (r / k) % k, r % k);
            let plane = &x[ci * h * w..(ci + 1) * h * w];
            let (x0, x1) = self.valid(j, w, wo);
            for (y, out_row) in (y0..y1).zip(row.chunks_exact_mut(wo)) {
                let iy = s * y + i;
                if iy < p || iy - p >= h || x0 >= x1 {
                    continue; // stays 0
                }
                let src = &plane[(iy - p) * w..(iy - p + 1) * w];
                let start = s * x0 + j - p;
                if s == 1 {
                    out_row[x0..x1].copy_from_slice(&src[start..start + x1 - x0]);
                } else {
                    for (d, v) in out_row[x0..x1].iter_mut().zip(src[start..].iter().step_by(s)) {
                        *d = *v;
                    }
                }
            }
        }
        Ok(())
    }

    /// The adjoint of [`Im2Col::unfold`]: adds each column entry back to the input pixel it
    /// was read from (overlapping windows add up; padding positions are dropped).
    fn fold<T: WithDType>(&self, cols: &[T], (c, h, w): (usize, usize, usize), out: &mut [T]) -> Result<()> {
        let (k, p, s) = (self.kernel, self.padding, self.stride);
        let (ho, wo) = (self.out_side(h)?, self.out_side(w)?);
        for (r, row) in cols.chunks_exact(ho * wo).enumerate().take(c * k * k) {
            let (ci, i, j) = (r / (k * k), (r / k) % k, r % k);
            let plane = &mut out[ci * h * w..(ci + 1) * h * w];
            let (x0, x1) = self.valid(j, w, wo);
            for (y, in_row) in row.chunks_exact(wo).enumerate() {
                let iy = s * y + i;
                if iy < p || iy - p >= h || x0 >= x1 {
                    continue;
                }
                let dst = &mut plane[(iy - p) * w..(iy - p + 1) * w];
                let start = s * x0 + j - p;
                if s == 1 {
                    for (d, v) in dst[start..start + x1 - x0].iter_mut().zip(&in_row[x0..x1]) {
                        *d += *v;
                    }
                } else {
                    for (d, v) in dst[start..].iter_mut().step_by(s).zip(&in_row[x0..x1]) {
                        *d += *v;
                    }
                }
            }
        }
        Ok(())
    }

    fn unfold_all<T: WithDType>(
        &self,
        x: &[T],
        (n, c, h, w): (usize, usize, usize, usize),
    ) -> Result<Vec<T>> {
        let per = c * self.kernel * self.kernel * self.out_side(h)? * self.out_side(w)?;
        let mut out = vec![T::zero(); n * per];
        let ho = self.out_side(h)?;
        for (s, chunk) in out.chunks_exact_mut(per).enumerate() {
            self.unfold(&x[s * c * h * w..(s + 1) * c * h * w], (c, h, w), (0, ho), chunk)?;
        }
        Ok(out)
    }
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("im2col needs a contiguous input")
        };
        let dims = layout.shape().dims4()?;
        let (n, c, h, w) = dims;
        let shape = Shape::from((n, c * self.kernel * self.kernel, self.out_side(h)? * self.out_side(w)?));
        let out = match storage {
            CpuStorage::F32(v) => CpuStorage::F32(self.unfold_all(&v[start..end], dims)?),
            CpuStorage::F64(v) => CpuStorage::F64(self.unfold_all(&v[start..end], dims)?),
            s => candle_core::bail!("im2col: unsupported dtype {:?}", s.dtype()),
        };
        Ok((out, shape))
    }

    /// The gradient of `⟨g, im2col(x)⟩` with respect to `x`: the fold of `g`.
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad_res.detach().contiguous()?;
        let dims = arg.dims4()?;
        Ok(Some(grad.apply_op1_no_bwd(&Col2Im { op: *self, input: dims })?))
    }
}

/// The adjoint of [`Im2Col`]: `(N, C·k·k, Ho·Wo) → (N, C, H, W)`, summing overlaps; its own
/// backward is the unfolding.
#[derive(Debug, Clone, Copy)]
struct Col2Im {
    op: Im2Col,
    input: (usize, usize, usize, usize),
}

impl Col2Im {
    fn fold_all<T: WithDType>(&self, cols: &[T]) -> Result<Vec<T>> {
        let (n, c, h, w) = self.input;
        let mut out = vec![T::zero(); n * c * h * w];
        let per = cols.len() / n.max(1);
        for (s, chunk) in out.chunks_exact_mut(c * h * w).enumerate() {
            self.op.fold(&cols[s * per..(s + 1) * per], (c, h, w), chunk)?;
        }
        Ok(out)
    }
}

impl CustomOp1 for Col2Im {
    fn name(&self) -> &'static str {
        "col2im"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("col2im needs a contiguous input")
        };
        let (n, c, h, w) = self.input;
        let k = self.op.kernel;
        let expected = [n, c * k * k, self.op.out_side(h)? * self.op.out_side(w)?];
        if layout.dims() != expected {
            candle_core::bail!("col2im: columns {:?} for an input {:?}", layout.dims(), self.input);
        }
        let out = match storage {
            CpuStorage::F32(v) => CpuStorage::F32(self.fold_all(&v[start..end])?),
            CpuStorage::F64(v) => CpuStorage::F64(self.fold_all(&v[start..end])?),
            s => candle_core::bail!("col2im: unsupported dtype {:?}", s.dtype()),
        };
        Ok((out, Shape::from(self.input)))
    }

    /// The gradient of `⟨g, col2im(cols)⟩` with respect to `cols`: the unfolding of `g`.
    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad_res.detach().contiguous()?;
        Ok(Some(grad.apply_op1_no_bwd(&self.op)?))
    }
}

/// Unfoldings with at least this many elements are split over threads.
const PARALLEL_ELEMENTS: usize = 1 << 18;

/// Bytes of unfolded columns per matrix product on the untracked path: small enough to be
/// reused by the allocator (no fresh pages each call) and to stay mostly in cache.
const BAND_BYTES: usize = 4 << 20;

/// Stride-1 convolution `(N, C, H, W) ⋆ (O, C, k, k) → (N, O, Ho, Wo)` with zero padding
/// `padding`: [`conv2d_with_config`] with stride 1.
pub fn conv2d(x: &Tensor, weight: &Tensor, padding: usize) -> Result<Tensor> {
    conv2d_with_config(x, weight, Conv2dConfig { padding, stride: 1 })
}

/// Convolution `(N, C, H, W) ⋆ (O, C, k, k) → (N, O, Ho, Wo)` with zero padding `p` and
/// stride `s` of `config`, `Ho = ⌊(H + 2p − k)/s⌋ + 1`, as `W · im2col(x)`.
///
/// A 1×1 kernel with stride 1 and no padding is `W · x` on the input planes as they are. When
/// autograd tracks `x` or `weight`, the unfolding is the differentiable [`Im2Col`] op.
/// Otherwise (the explicit engine, inference) the output rows are done in bands of about
/// 4 MB (`BAND_BYTES`) of columns each: one unfolding and one product per band, the bands then
/// written into one output; on VGG-16's 224×224 layers this avoids writing 115 MB of columns
/// per call.
pub fn conv2d_with_config(x: &Tensor, weight: &Tensor, config: Conv2dConfig) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (o, c_w, k, k_w) = weight.dims4()?;
    if c != c_w || k != k_w {
        candle_core::bail!("conv2d: input has {c} channels, the kernel is {:?}", weight.dims());
    }
    let op = Im2Col::new(k, config)?;
    let (ho, wo) = (op.out_side(h)?, op.out_side(w)?);
    let w2 = weight.contiguous()?.reshape((o, c * k * k))?;
    if op.is_identity() {
        let y = batched_product(&w2, &x.contiguous()?.reshape((n, c, h * w))?)?;
        return y.reshape((n, o, ho, wo));
    }
    if x.track_op() || weight.track_op() || !x.device().is_cpu() {
        let cols = x.contiguous()?.apply_op1(op)?;
        return batched_product(&w2, &cols)?.reshape((n, o, ho, wo));
    }
    let x = x.contiguous()?;
    match x.dtype() {
        DType::F32 => op.banded::<f32>(&x, &w2),
        DType::F64 => op.banded::<f64>(&x, &w2),
        dtype => candle_core::bail!("conv2d: unsupported dtype {dtype:?}"),
    }
}

/// `a · b[n]` for each sample `n` of `b` `(N, K, M)`, with `a` `(R, K)`: `(N, R, M)`.
fn batched_product(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if b.dim(0)? == 1 { a.matmul(&b.squeeze(0)?)?.unsqueeze(0) } else { a.broadcast_matmul(b) }
}

/// Bytes of columns up to which [`crate::ConvKernel`] transposes a stride-1 convolution with
/// fewer input than output channels by [`conv2d_transposed_by_fold`].
pub const FOLD_BYTES: usize = 4 * BAND_BYTES;

/// The transposed map of [`conv2d_with_config`] with the same `weight` `(O, C, k, k)` and
/// `config`: `(N, O, Ho, Wo) → input` `(N, C, H, W)`, as `col2im(W2ᵀ · s)` with
/// `W2 = (O, C·k·k)`, the adjoint of `W2 · im2col(x)` term by term:
/// `⟨s, W2 · im2col(x)⟩ = ⟨W2ᵀ s, im2col(x)⟩ = ⟨col2im(W2ᵀ s), x⟩`. The input's shape is
/// given because with a stride several input sides have the same output side.
///
/// Differentiable by candle's autograd when `s` or `weight` is tracked (the fold's backward
/// is the unfolding); untracked on the CPU, one sample at a time (the columns of one sample
/// are made at once). For a 1×1 kernel with stride 1 and no padding there is no fold.
///
/// When a stride-1 layer has fewer input than output channels (VGG's first convolution,
/// 3 → 64) this builds `C·k·k` rows of columns instead of the `O·k·k` that a convolution with
/// the flipped kernel unfolds, and its product is not the thin `(C × O·k·k)` one: 5.4 MB of
/// columns instead of 115 MB for VGG-16's first layer.
pub fn conv2d_transposed_by_fold(
    s: &Tensor,
    weight: &Tensor,
    config: Conv2dConfig,
    input: (usize, usize, usize, usize),
) -> Result<Tensor> {
    let (o, c, k, k_w) = weight.dims4()?;
    if k != k_w {
        candle_core::bail!("conv2d_transposed: a {:?} kernel is not square", weight.dims());
    }
    let w2t = weight.contiguous()?.reshape((o, c * k * k))?.t()?;
    fold_of_product(s, &w2t, k, config, input)
}

/// `col2im(W2ᵀ · s)` for `W2ᵀ` `w2t` `(C·k·k, O)` of a `k × k` kernel (any layout; a
/// contiguous one multiplies faster), as [`conv2d_transposed_by_fold`].
pub(crate) fn fold_of_product(
    s: &Tensor,
    w2t: &Tensor,
    k: usize,
    config: Conv2dConfig,
    input: (usize, usize, usize, usize),
) -> Result<Tensor> {
    let (n, c, h, w) = input;
    let (ckk, o) = w2t.dims2()?;
    let (n_s, o_s, ho, wo) = s.dims4()?;
    if ckk != c * k * k || o != o_s || n != n_s {
        candle_core::bail!(
            "conv2d_transposed: {:?} against a ({o}, {}, {k}, {k}) kernel for {input:?}",
            s.dims(),
            ckk / (k * k).max(1)
        );
    }
    let op = Im2Col::new(k, config)?;
    if (op.out_side(h)?, op.out_side(w)?) != (ho, wo) {
        candle_core::bail!("conv2d_transposed: {:?} is not the output size of {input:?}", s.dims());
    }
    let s = s.contiguous()?.reshape((n, o, ho * wo))?;
    if op.is_identity() {
        return batched_product(w2t, &s)?.reshape(input);
    }
    let untracked = !s.track_op() && !w2t.track_op() && s.device().is_cpu();
    if !untracked {
        let cols = batched_product(w2t, &s)?;
        return cols.contiguous()?.apply_op1(Col2Im { op, input });
    }
    fn by_sample<T: WithDType>(
        s: &Tensor,
        w2t: &Tensor,
        op: Im2Col,
        chw: (usize, usize, usize),
    ) -> Result<Vec<T>> {
        let n = s.dim(0)?;
        let mut out = vec![T::zero(); n * chw.0 * chw.1 * chw.2];
        for (sample, plane) in out.chunks_exact_mut(chw.0 * chw.1 * chw.2).enumerate() {
            let cols = w2t.matmul(&s.get(sample)?)?;
            with_slice(&cols, |cols: &[T]| op.fold(cols, chw, plane))??;
        }
        Ok(out)
    }
    match s.dtype() {
        DType::F32 => Tensor::from_vec(by_sample::<f32>(&s, w2t, op, (c, h, w))?, input, s.device()),
        DType::F64 => Tensor::from_vec(by_sample::<f64>(&s, w2t, op, (c, h, w))?, input, s.device()),
        dtype => candle_core::bail!("conv2d_transposed: unsupported dtype {dtype:?}"),
    }
}

impl Im2Col {
    /// `w2 · im2col(x)` band by band (see [`conv2d_with_config`]); `w2` is `(O, C·k·k)`. Each band's
    /// `(O, rows·Wo)` product is copied row by row into its place in the output, which is
    /// allocated once (`Tensor::cat` of the bands along the pixel axis took 12 ms for two
    /// bands of the 3→64 convolution at 224×224, more than the product).
    fn banded<T: WithDType>(&self, x: &Tensor, w2: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = x.dims4()?;
        let o = w2.dim(0)?;
        let (ho, wo) = (self.out_side(h)?, self.out_side(w)?);
        let ckk = c * self.kernel * self.kernel;
        let rows_per_band = (BAND_BYTES / (ckk * wo * std::mem::size_of::<T>()).max(1)).clamp(1, ho);
        let plane = ho * wo;
        let mut out = vec![T::zero(); n * o * plane];
        with_slice(x, |data: &[T]| -> Result<()> {
            for (sample, y) in data.chunks_exact(c * h * w).zip(out.chunks_exact_mut(o * plane)) {
                for y0 in (0..ho).step_by(rows_per_band) {
                    let y1 = (y0 + rows_per_band).min(ho);
                    let width = (y1 - y0) * wo;
                    let mut cols = vec![T::zero(); ckk * width];
                    self.unfold(sample, (c, h, w), (y0, y1), &mut cols)?;
                    let cols = Tensor::from_vec(cols, (ckk, width), x.device())?;
                    let band = w2.matmul(&cols)?;
                    with_slice(&band, |band: &[T]| {
                        for (src, dst) in band.chunks_exact(width).zip(y.chunks_exact_mut(plane)) {
                            dst[y0 * wo..y1 * wo].copy_from_slice(src);
                        }
                    })?;
                }
            }
            Ok(())
        })??;
        Tensor::from_vec(out, (n, o, ho, wo), x.device())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    fn randn(dims: &[usize]) -> Tensor {
        Tensor::randn(0f64, 1.0, dims, &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
        a.sub(b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap()
    }

    /// Same values as candle's `conv2d`, and the same input gradient through autograd.
    #[test]
    fn matches_candles_conv2d_and_its_gradient() {
        for (k, p, n) in [(3, 1, 1), (3, 1, 2), (3, 0, 1), (1, 0, 2), (5, 2, 1), (3, 2, 1)] {
            let x = Var::from_tensor(&randn(&[n, 3, 7, 6])).unwrap();
            let w = randn(&[4, 3, k, k]);
            let ours = conv2d(x.as_tensor(), &w, p).unwrap();
            let theirs = x.as_tensor().conv2d(&w, p, 1, 1, 1).unwrap();
            assert_eq!(ours.dims(), theirs.dims());
            let untracked = conv2d(&x.as_tensor().detach(), &w, p).unwrap();
            assert!(max_abs_diff(&untracked, &theirs) < 1e-12, "banded k={k} p={p}");
            assert!(max_abs_diff(&ours, &theirs) < 1e-12, "k={k} p={p}");
            let up = randn(ours.dims());
            let g1 = (&ours * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (&theirs * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let (g1, g2) = (g1.get(x.as_tensor()).unwrap(), g2.get(x.as_tensor()).unwrap());
            assert!(max_abs_diff(g1, g2) < 1e-12, "gradient k={k} p={p}");
        }
    }

    /// Several bands (64 channels at 40×40 in f64 make two) and a batch of two.
    #[test]
    fn bands_join_seamlessly() {
        let x = randn(&[2, 64, 40, 40]);
        let w = randn(&[8, 64, 3, 3]);
        let ours = conv2d(&x, &w, 1).unwrap();
        let theirs = x.conv2d(&w, 1, 1, 1, 1).unwrap();
        assert!(max_abs_diff(&ours, &theirs) < 1e-10);
    }

    /// With a stride: several bands (16 channels of a 7×7 kernel at 32 output columns in
    /// f64 make two), rows split over threads, a batch of two and an odd width.
    #[test]
    fn strided_bands_join_seamlessly() {
        let x = randn(&[2, 16, 64, 63]);
        let w = randn(&[8, 16, 7, 7]);
        let config = Conv2dConfig::new(3, 2).unwrap();
        let ours = conv2d_with_config(&x, &w, config).unwrap();
        let theirs = x.conv2d(&w, 3, 2, 1, 1).unwrap();
        assert_eq!(ours.dims(), [2, 8, 32, 32]);
        assert!(max_abs_diff(&ours, &theirs) < 1e-10);
    }

    /// The weight gradient too (training uses it), for an untracked input and a batch.
    #[test]
    fn weight_gradient_matches_candles() {
        let x = randn(&[2, 3, 6, 6]);
        let w = Var::from_tensor(&randn(&[4, 3, 3, 3])).unwrap();
        let ours = conv2d(&x, w.as_tensor(), 1).unwrap();
        let theirs = x.conv2d(w.as_tensor(), 1, 1, 1, 1).unwrap();
        let up = randn(ours.dims());
        let g1 = (&ours * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (&theirs * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let (g1, g2) = (g1.get(w.as_tensor()).unwrap(), g2.get(w.as_tensor()).unwrap());
        assert!(max_abs_diff(g1, g2) < 1e-12);
    }
}
