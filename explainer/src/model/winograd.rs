//! 3×3 convolutions (stride 1) by Winograd's minimal filtering F(4×4, 3×3), and their
//! transposes.
//!
//! Every convolution of VGG-16 is 3×3 with stride 1. Winograd's algorithm (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016) computes a 4×4 tile of one
//! output channel from a 6×6 tile `d` of one input channel and the 3×3 kernel `g` as
//!
//! ```text
//! Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//! ```
//!
//! Summed over input channels, the 36 elementwise products become 36 matrix products
//! `M_e = U_e · V_e` with `U_e = (G g Gᵀ)_e` (`O × C`) and `V_e = (Bᵀ d B)_e` (`C × tiles`):
//! 36 multiplications per 16 outputs instead of 144, 4× fewer. The kernel transform `U` is
//! made once per weight (and kept by the layer).
//!
//! The transposed convolution (the backward map `c = Wᵀ s`) is the adjoint of the same
//! linear map, term by term: `c = Σ_tiles B [ U_eᵀ · (A s Aᵀ)_e ] Bᵀ`, the 6×6 results added
//! into the input where neighbouring tiles overlap. It uses the same `U`, with the channel
//! axes of each `U_e` transposed.
//!
//! Rounding: the transforms have small integer and 1/24 coefficients; in float32 the result
//! differs from a direct convolution by about 1e-6 relative (measured in the tests below and
//! on VGG-16 in the bench), in float64 by about 1e-15.
//!
//! Work is done in bands of tile rows (so that the transformed tiles stay in cache) and
//! split over rayon's threads: by input channel for the input transform, by output channel
//! for the products and the output transform.

use std::sync::Mutex;

use candle_core::{DType, Result, Tensor, WithDType};
use rayon::prelude::*;

use super::elementwise::with_slice;
use super::gemm::{MatRef, matmul};

/// Output tile side `m`.
const M: usize = 4;
/// Input tile side `α = m + 3 − 1`.
const ALPHA: usize = 6;
/// Entries of a transformed tile, `α²`: one matrix product each.
const E: usize = ALPHA * ALPHA;

/// Bytes of transformed tiles (input and output side) per band.
const BAND_BYTES: usize = 2 << 20;
/// Tiles per band at least: the matrix products' inner size, and how often the kernel
/// transform is read again (once per band; 38 MB on VGG-16's 512-channel layers).
const BAND_TILES: usize = 48;

/// Whether a convolution with this kernel and these channel counts is done by Winograd:
/// 3×3, and enough channels on both sides for the matrix products to pay (VGG-16's first
/// layer, 3 → 64, is not).
pub fn suits(kernel: (usize, usize), in_channels: usize, out_channels: usize) -> bool {
    kernel == (3, 3) && in_channels.min(out_channels) >= MIN_CHANNELS
}

/// Channels on each side from which [`suits`] says yes.
const MIN_CHANNELS: usize = 16;

/// The kernel transform `U` of a weight `(O, C, 3, 3)`: `(36, O, C)` with
/// `U[e, o, c] = (G · w[o, c] · Gᵀ)[e]`, in the weight's dtype.
pub fn transform_kernel(weight: &Tensor) -> Result<Tensor> {
    let (o, c, kh, kw) = weight.dims4()?;
    if (kh, kw) != (3, 3) {
        candle_core::bail!("Winograd F(4×4, 3×3) needs a 3×3 kernel, got {kh}×{kw}");
    }
    /// `U[e, k] = (G · w_k · Gᵀ)[e]` for the kernels `k` (rows of 9) in blocks: each block
    /// is transposed to one row per kernel entry, then transformed by [`mix`] along the rows.
    fn run<T: WithDType>(w: &[T], o: usize, c: usize) -> Vec<T> {
        const BLOCK: usize = 1024;
        let kernels = o * c;
        let mut u = vec![T::zero(); E * kernels];
        let mut entries = vec![T::zero(); 9 * BLOCK];
        let mut columns = vec![T::zero(); ALPHA * 3 * BLOCK];
        for k0 in (0..kernels).step_by(BLOCK) {
            let len = BLOCK.min(kernels - k0);
            for (k, kernel) in w[k0 * 9..(k0 + len) * 9].chunks_exact(9).enumerate() {
                for (entry, &v) in kernel.iter().enumerate() {
                    entries[entry * BLOCK + k] = v;
                }
            }
            // G down each of the 3 columns: columns[(i·3 + j)·BLOCK + k] = (G · w_k)[i, j].
            for j in 0..3 {
                let ins = std::array::from_fn(|l| &entries[(l * 3 + j) * BLOCK..][..len]);
                mix(g_times, ins, rows_mut(&mut columns[j * BLOCK..], 3 * BLOCK, 0..len));
            }
            // Then along each of the 6 rows: U[(i·6 + j'), k] = ((G · w_k) · Gᵀ)[i, j'].
            for i in 0..ALPHA {
                let ins = std::array::from_fn(|j| &columns[(i * 3 + j) * BLOCK..][..len]);
                mix(g_times, ins, rows_mut(&mut u[i * ALPHA * kernels + k0..], kernels, 0..len));
            }
        }
        u
    }
    let u = match weight.dtype() {
        DType::F32 => {
            Tensor::from_vec(with_slice(weight, |w: &[f32]| run(w, o, c))?, (E, o, c), weight.device())?
        }
        DType::F64 => {
            Tensor::from_vec(with_slice(weight, |w: &[f64]| run(w, o, c))?, (E, o, c), weight.device())?
        }
        dtype => candle_core::bail!("Winograd convolution: unsupported dtype {dtype:?}"),
    };
    Ok(u)
}

/// The dtypes the convolutions run in, each with a pool of working buffers.
pub trait Float: WithDType {
    /// Buffers of transformed tiles kept between calls: they are megabytes per layer, and
    /// every fresh page costs a page fault (and the kernel clears it).
    fn pool() -> &'static Mutex<Vec<Vec<Self>>>;
}

impl Float for f32 {
    fn pool() -> &'static Mutex<Vec<Vec<Self>>> {
        static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
        &POOL
    }
}

impl Float for f64 {
    fn pool() -> &'static Mutex<Vec<Vec<Self>>> {
        static POOL: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());
        &POOL
    }
}

/// Buffers a pool keeps at most (two per convolution in flight).
const POOLED: usize = 4;

/// A buffer of at least the asked length from [`Float::pool`], given back when dropped. Its
/// contents are whatever the last user left: every caller writes before it reads.
struct Pooled<T: Float>(Vec<T>);

impl<T: Float> Pooled<T> {
    fn take(len: usize) -> Self {
        let mut v = T::pool().lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
        if v.len() < len {
            v.resize(len, T::zero());
        }
        Self(v)
    }
}

impl<T: Float> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let Ok(mut pool) = T::pool().lock()
            && pool.len() < POOLED
        {
            pool.push(std::mem::take(&mut self.0));
        }
    }
}

/// The shape of a tiled convolution: input side, output side and tiles, per axis.
#[derive(Debug, Clone, Copy)]
struct Tiling {
    /// Input height and width (of the convolution's input).
    h: usize,
    w: usize,
    /// Output height and width.
    ho: usize,
    wo: usize,
    /// Zero padding on each side.
    padding: usize,
    /// Tiles per column and per row.
    tiles_y: usize,
    tiles_x: usize,
}

impl Tiling {
    fn new(h: usize, w: usize, padding: usize) -> Result<Self> {
        if padding > 2 {
            candle_core::bail!("a 3×3 convolution pads by at most 2, not {padding}");
        }
        let side = |n: usize| (n + 2 * padding).checked_sub(2).filter(|&o| o > 0);
        let (Some(ho), Some(wo)) = (side(h), side(w)) else {
            candle_core::bail!("a 3×3 kernel with padding {padding} does not fit {h}×{w}")
        };
        Ok(Self { h, w, ho, wo, padding, tiles_y: ho.div_ceil(M), tiles_x: wo.div_ceil(M) })
    }

    /// Tile rows per band, for `channels` transformed values per tile position and `samples`
    /// samples: about [`BAND_BYTES`] of transformed tiles, but at least [`BAND_TILES`] tiles.
    fn band_rows(&self, channels: usize, value_bytes: usize, samples: usize) -> usize {
        let per_row = (E * channels * self.tiles_x * value_bytes).max(1);
        (BAND_BYTES / per_row).max(BAND_TILES.div_ceil(self.tiles_x)).clamp(1, samples * self.tiles_y)
    }
}

/// Chunks of about `len / threads` items, at least `min`: the work split of one stage.
fn per_thread(len: usize, min: usize) -> usize {
    len.div_ceil(rayon::current_num_threads().max(1)).max(min).max(1)
}

/// Values per block of [`mix`]: one or two AVX-512 registers.
const LANES: usize = 16;

/// `outs[·][x] = f(ins[·][x])` for every `x` (all rows have the length of the shortest), in
/// blocks of [`LANES`] copied into local arrays, so that the compiler sees no aliasing and
/// vectorises `f` across each block.
#[inline(always)]
fn mix<T: WithDType, const R: usize, const K: usize>(
    f: impl Fn([T; K]) -> [T; R],
    ins: [&[T]; K],
    mut outs: [&mut [T]; R],
) {
    let n = ins.iter().map(|i| i.len()).chain(outs.iter().map(|o| o.len())).min().unwrap_or(0);
    let block = |v: &[[T; LANES]; K]| {
        let mut o = [[T::zero(); LANES]; R];
        for l in 0..LANES {
            let r = f(std::array::from_fn(|k| v[k][l]));
            for (o, r) in o.iter_mut().zip(r) {
                o[l] = r;
            }
        }
        o
    };
    // Whole blocks: copies of a constant length, which compile to plain moves.
    let mut x = 0;
    while x + LANES <= n {
        let v: [[T; LANES]; K] = std::array::from_fn(|k| {
            let mut v = [T::zero(); LANES];
            v.copy_from_slice(&ins[k][x..x + LANES]);
            v
        });
        for (out, o) in outs.iter_mut().zip(&block(&v)) {
            out[x..x + LANES].copy_from_slice(o);
        }
        x += LANES;
    }
    if x < n {
        let len = n - x;
        let mut v = [[T::zero(); LANES]; K];
        for (v, i) in v.iter_mut().zip(&ins) {
            v[..len].copy_from_slice(&i[x..n]);
        }
        for (out, o) in outs.iter_mut().zip(&block(&v)) {
            out[x..n].copy_from_slice(&o[..len]);
        }
    }
}

/// `Bᵀ v`, the input transform, written out (no multiplications by 0 or ±1; the tests
/// check it against the matrix).
#[inline(always)]
fn bt_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 6] {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    [
        four * v0 - five * v2 + v4,
        v3 + v4 - four * (v1 + v2),
        four * (v1 - v2) - v3 + v4,
        two * (v3 - v1) - v2 + v4,
        two * (v1 - v3) - v2 + v4,
        four * v1 - five * v3 + v5,
    ]
}

/// `Aᵀ v`, the output transform, written out.
#[inline(always)]
fn at_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 4] {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let (sum12, diff12, sum34, diff34) = (v1 + v2, v1 - v2, v3 + v4, v3 - v4);
    [v0 + sum12 + sum34, diff12 + two * diff34, sum12 + four * sum34, diff12 + eight * diff34 + v5]
}

/// `A u`, the adjoint's input transform, written out.
#[inline(always)]
fn a_times<T: WithDType>([u0, u1, u2, u3]: [T; 4]) -> [T; 6] {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let (even, odd) = (u0 + u2, u1 + u3);
    let (even2, odd2) = (u0 + four * u2, two * u1 + eight * u3);
    [u0, even + odd, even - odd, even2 + odd2, even2 - odd2, u3]
}

/// `B v`, the adjoint's output transform, written out.
#[inline(always)]
fn b_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 6] {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    [
        four * v0,
        four * (v2 - v1 + v5) + two * (v4 - v3),
        T::zero() - five * v0 - four * (v1 + v2) - v3 - v4,
        v1 - v2 + two * (v3 - v4) - five * v5,
        v0 + v1 + v2 + v3 + v4,
        v5,
    ]
}

/// `G k`, the kernel transform, written out.
#[inline(always)]
fn g_times<T: WithDType>([k0, k1, k2]: [T; 3]) -> [T; 6] {
    let (quarter, sixth) = (T::from_f64(1.0 / 4.0), T::from_f64(1.0 / 6.0));
    let (twelfth, twenty_fourth) = (T::from_f64(1.0 / 12.0), T::from_f64(1.0 / 24.0));
    let (outer, middle) = (twenty_fourth * k0 + sixth * k2, twelfth * k1);
    [
        quarter * k0,
        T::zero() - sixth * (k0 + k1 + k2),
        T::zero() - sixth * (k0 - k1 + k2),
        outer + middle,
        outer - middle,
        k2,
    ]
}

/// `R` rows of `block`, row `r` being `block[r·stride + range]`.
fn rows_mut<T, const R: usize>(
    mut block: &mut [T],
    stride: usize,
    range: std::ops::Range<usize>,
) -> [&mut [T]; R] {
    std::array::from_fn(|_| {
        let rest = std::mem::take(&mut block);
        let (row, rest) = rest.split_at_mut(stride.min(rest.len()));
        block = rest;
        &mut row[range.clone()]
    })
}

/// `phases[j·n + t] = row[4t + j]` for `t < n`: a row split by `x mod 4`.
fn deinterleave<T: WithDType>(row: &[T], phases: &mut [T], n: usize) {
    let (p0, rest) = phases.split_at_mut(n);
    let (p1, rest) = rest.split_at_mut(n);
    let (p2, p3) = rest.split_at_mut(n);
    for ((((x, a), b), c), d) in row.chunks_exact(M).zip(p0).zip(p1).zip(p2).zip(&mut p3[..n]) {
        (*a, *b, *c, *d) = (x[0], x[1], x[2], x[3]);
    }
}

/// `row[4t + j] = phases[j·n + t]` for `t < n`, the inverse of [`deinterleave`].
fn interleave<T: WithDType>(phases: &[T], n: usize, row: &mut [T]) {
    let (p0, p1, p2, p3) = (&phases[..n], &phases[n..2 * n], &phases[2 * n..3 * n], &phases[3 * n..4 * n]);
    for ((((x, a), b), c), d) in row.chunks_exact_mut(M).zip(p0).zip(p1).zip(p2).zip(p3) {
        x.copy_from_slice(&[*a, *b, *c, *d]);
    }
}

/// The stride-1 convolution of `x` `(N, C, H, W)` with the kernel whose transform is `u`
/// `(36, O, C)`, padding `padding`, plus `bias` `(O)` if given, and then `max(0, ·)` if
/// `relu`: `(N, O, Ho, Wo)`.
pub fn conv2d(x: &Tensor, u: &Tensor, padding: usize, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (e, o, c_u) = u.dims3()?;
    if e != E || c_u != c {
        candle_core::bail!("Winograd conv2d: a {:?} kernel transform for a {:?} input", u.dims(), x.dims());
    }
    let tiling = Tiling::new(h, w, padding)?;
    let bias = match bias {
        Some(b) if b.dims() != [o] => {
            candle_core::bail!("Winograd conv2d: bias {:?} for {o} outputs", b.dims())
        }
        Some(b) => Some(b.to_dtype(x.dtype())?),
        None => None,
    };
    fn run<T: Float>(
        x: &Tensor,
        u: &Tensor,
        bias: Option<&Tensor>,
        relu: bool,
        tiling: Tiling,
    ) -> Result<Vec<T>> {
        let (n, c, _, _) = x.dims4()?;
        let o = u.dim(1)?;
        let bias: Vec<T> = match bias {
            Some(b) => with_slice(b, |b: &[T]| b.to_vec())?,
            None => vec![T::zero(); o],
        };
        let mut out = vec![T::zero(); n * o * tiling.ho * tiling.wo];
        with_slice(x, |x: &[T]| {
            with_slice(u, |u: &[T]| -> Result<()> {
                forward_batch(x, u, (n, c, o), (&bias, relu), tiling, &mut out)
            })?
        })??;
        Ok(out)
    }
    let out = match x.dtype() {
        DType::F32 => Tensor::from_vec(
            run::<f32>(x, u, bias.as_ref(), relu, tiling)?,
            (n, o, tiling.ho, tiling.wo),
            x.device(),
        )?,
        DType::F64 => Tensor::from_vec(
            run::<f64>(x, u, bias.as_ref(), relu, tiling)?,
            (n, o, tiling.ho, tiling.wo),
            x.device(),
        )?,
        dtype => candle_core::bail!("Winograd conv2d: unsupported dtype {dtype:?}"),
    };
    Ok(out)
}

/// A run of tile rows of one sample inside a band: the sample, its tile rows `ty0..ty1`, and
/// where its tiles start among the band's.
#[derive(Debug, Clone, Copy)]
struct Segment {
    sample: usize,
    rows: (usize, usize),
    base: usize,
}

/// The band of global tile rows `g0..g1` (the samples' tile rows one after the other) as one
/// segment per sample it touches.
fn segments(t: Tiling, (g0, g1): (usize, usize)) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut g = g0;
    while g < g1 {
        let (sample, ty0) = (g / t.tiles_y, g % t.tiles_y);
        let ty1 = (t.tiles_y).min(ty0 + (g1 - g));
        out.push(Segment { sample, rows: (ty0, ty1), base: (g - g0) * t.tiles_x });
        g += ty1 - ty0;
    }
    out
}

/// For each chunk of `chunk` channels, the planes of those channels in every sample the band
/// touches: `planes` is `(N, channels, plane)`, the result `[chunk][sample in band]`.
fn planes_by_chunk<'a, T>(
    planes: &'a mut [T],
    (channels, plane): (usize, usize),
    chunk: usize,
    samples: std::ops::RangeInclusive<usize>,
) -> Vec<Vec<&'a mut [T]>> {
    let mut by_chunk: Vec<Vec<&mut [T]>> = (0..channels.div_ceil(chunk)).map(|_| Vec::new()).collect();
    let first = *samples.start();
    for sample in planes.chunks_exact_mut(channels * plane).skip(first).take(samples.count()) {
        for (group, part) in by_chunk.iter_mut().zip(sample.chunks_mut(chunk * plane)) {
            group.push(part);
        }
    }
    by_chunk
}

/// [`conv2d`] on slices: `x` `(N, C, H, W)` into `y` `(N, O, Ho, Wo)`. A band of tile rows
/// may span several samples, so that small layers (VGG-16's 14×14 has 16 tiles per sample)
/// still make products of [`BAND_TILES`] tiles and read the kernel transform once per band.
fn forward_batch<T: Float>(
    x: &[T],
    u: &[T],
    (n, c, o): (usize, usize, usize),
    (bias, relu): (&[T], bool),
    t: Tiling,
    y: &mut [T],
) -> Result<()> {
    let band_rows = t.band_rows(c + o, std::mem::size_of::<T>(), n);
    let mut v = Pooled::<T>::take(c * E * band_rows * t.tiles_x);
    let mut m = Pooled::<T>::take(o * E * band_rows * t.tiles_x);
    let (plane_in, plane_out) = (t.h * t.w, t.ho * t.wo);
    for g0 in (0..n * t.tiles_y).step_by(band_rows) {
        let g1 = (g0 + band_rows).min(n * t.tiles_y);
        let tb = (g1 - g0) * t.tiles_x;
        let segments = segments(t, (g0, g1));
        let (v, m) = (&mut v.0[..c * E * tb], &mut m.0[..o * E * tb]);
        // Input transform, by input channel: v[c, e, tile] = (Bᵀ d B)[e].
        let chunk = per_thread(c, 1);
        v.par_chunks_mut(chunk * E * tb).enumerate().for_each(|(i, v)| {
            let mut scratch = InputScratch::new(t, band_rows);
            for (k, v) in v.chunks_exact_mut(E * tb).enumerate() {
                let ci = i * chunk + k;
                for seg in &segments {
                    let plane = &x[(seg.sample * c + ci) * plane_in..][..plane_in];
                    input_transform(plane, t, *seg, tb, &mut scratch, v);
                }
            }
        });
        // Products and output transform, by output channel.
        let chunk = per_thread(o, 16);
        let first = segments.first().map_or(0, |s| s.sample);
        let last = segments.last().map_or(0, |s| s.sample);
        let outputs = planes_by_chunk(y, (o, plane_out), chunk, first..=last);
        m.par_chunks_mut(chunk * E * tb).zip(outputs).enumerate().try_for_each(
            |(i, (m, mut outputs))| -> Result<()> {
                let (o0, rows) = (i * chunk, m.len() / (E * tb));
                for e in 0..E {
                    let lhs = MatRef::new(&u[(e * o + o0) * c..], (rows, c), (c, 1))?;
                    let rhs = MatRef::new(&v[e * tb..], (c, tb), (E * tb, 1))?;
                    matmul(&mut m[e * tb..], E * tb, lhs, rhs, false)?;
                }
                let mut scratch = OutputScratch::new(t);
                for (k, m) in m.chunks_exact(E * tb).enumerate() {
                    for seg in &segments {
                        let y = &mut outputs[seg.sample - first][k * plane_out..(k + 1) * plane_out];
                        output_transform(m, (bias[o0 + k], relu), t, *seg, tb, &mut scratch, y);
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// Per-thread buffers of the input transform.
struct InputScratch<T> {
    /// A padded input row (`x' = x + padding`).
    row: Vec<T>,
    /// Every padded input row of the band by `x mod 4`: `phases[(r·4 + φ)·(tiles_x + 1) + t]`.
    phases: Vec<T>,
    /// `Bᵀ` down the columns of one tile row: `mixed[(k·4 + φ)·(tiles_x + 1) + t]`.
    mixed: Vec<T>,
}

impl<T: WithDType> InputScratch<T> {
    fn new(t: Tiling, band_rows: usize) -> Self {
        let tp = t.tiles_x + 1;
        Self {
            row: vec![T::zero(); M * tp],
            phases: vec![T::zero(); (M * band_rows + ALPHA - M) * M * tp],
            mixed: vec![T::zero(); ALPHA * M * tp],
        }
    }
}

/// `v[e, tile] = (Bᵀ d B)[e]` for the tiles of one segment of one input channel (`v` holds
/// the band's `tb` tiles per entry): `Bᵀ`
/// applied down the columns on whole rows split by `x mod 4`, then `B` along the rows, where
/// the 6 values of tile `tx` are `phases[j mod 4][tx + j/4]`.
fn input_transform<T: WithDType>(
    plane: &[T],
    t: Tiling,
    Segment { rows: (ty0, ty1), base, .. }: Segment,
    tb: usize,
    s: &mut InputScratch<T>,
    v: &mut [T],
) {
    let (tx, tp, p) = (t.tiles_x, t.tiles_x + 1, t.padding);
    for r in 0..M * (ty1 - ty0) + ALPHA - M {
        s.row.fill(T::zero());
        if let Some(y) = (M * ty0 + r).checked_sub(p).filter(|&y| y < t.h) {
            s.row[p..p + t.w].copy_from_slice(&plane[y * t.w..(y + 1) * t.w]);
        }
        deinterleave(&s.row, &mut s.phases[r * M * tp..(r + 1) * M * tp], tp);
    }
    for ty in ty0..ty1 {
        let r0 = M * (ty - ty0);
        for phase in 0..M {
            let ins = std::array::from_fn(|i| &s.phases[((r0 + i) * M + phase) * tp..][..tp]);
            mix(bt_times, ins, rows_mut(&mut s.mixed[phase * tp..], M * tp, 0..tp));
        }
        let at = base + (ty - ty0) * tx;
        for k in 0..ALPHA {
            let mixed = &s.mixed[k * M * tp..(k + 1) * M * tp];
            let ins = std::array::from_fn(|j| &mixed[(j % M) * tp + j / M..][..tx]);
            mix(bt_times, ins, rows_mut(&mut v[k * ALPHA * tb..], tb, at..at + tx));
        }
    }
}

/// Per-thread buffers of the output transform.
struct OutputScratch<T> {
    /// `Aᵀ` over the first index: `mixed[(i·6 + ν)·tiles_x + t]`.
    mixed: Vec<T>,
    /// One output row by `x mod 4`, then in order.
    phases: Vec<T>,
    row: Vec<T>,
}

impl<T: WithDType> OutputScratch<T> {
    fn new(t: Tiling) -> Self {
        Self {
            mixed: vec![T::zero(); M * ALPHA * t.tiles_x],
            phases: vec![T::zero(); M * t.tiles_x],
            row: vec![T::zero(); M * t.tiles_x],
        }
    }
}

/// `y[4·ty + i, 4·tx + j] = (Aᵀ M A)[i, j] + bias` (then `max(0, ·)` if `relu`) for the
/// tiles of one segment of one output channel (`m` holds its `(36, tb)` products for the band).
fn output_transform<T: WithDType>(
    m: &[T],
    (bias, relu): (T, bool),
    t: Tiling,
    Segment { rows: (ty0, ty1), base: first, .. }: Segment,
    tb: usize,
    s: &mut OutputScratch<T>,
    y: &mut [T],
) {
    let tx = t.tiles_x;
    for ty in ty0..ty1 {
        let base = first + (ty - ty0) * tx;
        for nu in 0..ALPHA {
            let ins = std::array::from_fn(|xi| &m[(xi * ALPHA + nu) * tb + base..][..tx]);
            mix(at_times, ins, rows_mut(&mut s.mixed[nu * tx..], ALPHA * tx, 0..tx));
        }
        for i in 0..M {
            let row = M * ty + i;
            if row >= t.ho {
                break;
            }
            let ins = std::array::from_fn(|nu| &s.mixed[(i * ALPHA + nu) * tx..][..tx]);
            mix(at_times, ins, rows_mut(&mut s.phases, tx, 0..tx));
            interleave(&s.phases, tx, &mut s.row);
            let out = y[row * t.wo..(row + 1) * t.wo].iter_mut().zip(&s.row);
            if relu {
                // `max` as PyTorch's ReLU: NaN stays NaN.
                out.for_each(|(out, &v)| *out = if v + bias < T::zero() { T::zero() } else { v + bias });
            } else {
                out.for_each(|(out, &v)| *out = v + bias);
            }
        }
    }
}

/// The transpose of [`conv2d`] without bias: `s` `(N, O, Ho, Wo)` → `(N, C, H, W)` for the
/// kernel transform `u` `(36, O, C)`, padding `padding` and input size `(h, w)`.
pub fn conv2d_transposed(s: &Tensor, u: &Tensor, padding: usize, (h, w): (usize, usize)) -> Result<Tensor> {
    let (n, o, ho, wo) = s.dims4()?;
    let (e, o_u, c) = u.dims3()?;
    let tiling = Tiling::new(h, w, padding)?;
    if e != E || o_u != o || (tiling.ho, tiling.wo) != (ho, wo) {
        candle_core::bail!(
            "Winograd conv2d_transposed: a {:?} kernel transform, {:?} for an input of {h}×{w}",
            u.dims(),
            s.dims()
        );
    }
    fn run<T: Float>(s: &Tensor, u: &Tensor, c: usize, tiling: Tiling) -> Result<Vec<T>> {
        let (n, o, _, _) = s.dims4()?;
        let mut out = vec![T::zero(); n * c * tiling.h * tiling.w];
        with_slice(s, |s: &[T]| {
            with_slice(u, |u: &[T]| -> Result<()> { adjoint_batch(s, u, (n, c, o), tiling, &mut out) })?
        })??;
        Ok(out)
    }
    match s.dtype() {
        DType::F32 => Tensor::from_vec(run::<f32>(s, u, c, tiling)?, (n, c, h, w), s.device()),
        DType::F64 => Tensor::from_vec(run::<f64>(s, u, c, tiling)?, (n, c, h, w), s.device()),
        dtype => candle_core::bail!("Winograd conv2d_transposed: unsupported dtype {dtype:?}"),
    }
}

/// [`conv2d_transposed`] on slices: `s` `(N, O, Ho, Wo)` into `x` `(N, C, H, W)` (zeroed),
/// in bands of tile rows that may span samples, as [`forward_batch`].
fn adjoint_batch<T: Float>(
    s: &[T],
    u: &[T],
    (n, c, o): (usize, usize, usize),
    t: Tiling,
    x: &mut [T],
) -> Result<()> {
    let band_rows = t.band_rows(c + o, std::mem::size_of::<T>(), n);
    let mut v = Pooled::<T>::take(o * E * band_rows * t.tiles_x);
    let mut q = Pooled::<T>::take(c * E * band_rows * t.tiles_x);
    let (plane_out, plane_in) = (t.ho * t.wo, t.h * t.w);
    for g0 in (0..n * t.tiles_y).step_by(band_rows) {
        let g1 = (g0 + band_rows).min(n * t.tiles_y);
        let tb = (g1 - g0) * t.tiles_x;
        let segments = segments(t, (g0, g1));
        let (v, q) = (&mut v.0[..o * E * tb], &mut q.0[..c * E * tb]);
        // A s Aᵀ, by output channel.
        let chunk = per_thread(o, 1);
        v.par_chunks_mut(chunk * E * tb).enumerate().for_each(|(i, v)| {
            let mut scratch = AdjointInputScratch::new(t);
            for (k, v) in v.chunks_exact_mut(E * tb).enumerate() {
                let oi = i * chunk + k;
                for seg in &segments {
                    let plane = &s[(seg.sample * o + oi) * plane_out..][..plane_out];
                    adjoint_input_transform(plane, t, *seg, tb, &mut scratch, v);
                }
            }
        });
        // Uᵀ products and B · Bᵀ, added into the input, by input channel.
        let chunk = per_thread(c, 16);
        let first = segments.first().map_or(0, |s| s.sample);
        let last = segments.last().map_or(0, |s| s.sample);
        let inputs = planes_by_chunk(x, (c, plane_in), chunk, first..=last);
        q.par_chunks_mut(chunk * E * tb).zip(inputs).enumerate().try_for_each(
            |(i, (q, mut inputs))| -> Result<()> {
                let (c0, rows) = (i * chunk, q.len() / (E * tb));
                for e in 0..E {
                    // U_eᵀ restricted to rows c0..: entry (c, o) at e·O·C + o·C + c.
                    let lhs = MatRef::new(&u[e * o * c + c0..], (rows, o), (1, c))?;
                    let rhs = MatRef::new(&v[e * tb..], (o, tb), (E * tb, 1))?;
                    matmul(&mut q[e * tb..], E * tb, lhs, rhs, false)?;
                }
                let mut scratch = AdjointOutputScratch::new(t);
                for (k, q) in q.chunks_exact(E * tb).enumerate() {
                    for seg in &segments {
                        let x = &mut inputs[seg.sample - first][k * plane_in..(k + 1) * plane_in];
                        adjoint_output_transform(q, t, *seg, tb, &mut scratch, x);
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// Per-thread buffers of the adjoint's input transform.
struct AdjointInputScratch<T> {
    /// A row of `s`, zero past the output.
    row: Vec<T>,
    /// The 4 rows of a tile row by `x mod 4`: `phases[(i·4 + φ)·tiles_x + t]`.
    phases: Vec<T>,
    /// `A` down the columns: `mixed[(k·4 + φ)·tiles_x + t]`.
    mixed: Vec<T>,
}

impl<T: WithDType> AdjointInputScratch<T> {
    fn new(t: Tiling) -> Self {
        Self {
            row: vec![T::zero(); M * t.tiles_x],
            phases: vec![T::zero(); M * M * t.tiles_x],
            mixed: vec![T::zero(); ALPHA * M * t.tiles_x],
        }
    }
}

/// `v[e, tile] = (A s Aᵀ)[e]` for the 4×4 tiles of one segment of `s` (one output channel).
fn adjoint_input_transform<T: WithDType>(
    plane: &[T],
    t: Tiling,
    Segment { rows: (ty0, ty1), base, .. }: Segment,
    tb: usize,
    s: &mut AdjointInputScratch<T>,
    v: &mut [T],
) {
    let tx = t.tiles_x;
    for ty in ty0..ty1 {
        for i in 0..M {
            let y = M * ty + i;
            s.row.fill(T::zero());
            if y < t.ho {
                s.row[..t.wo].copy_from_slice(&plane[y * t.wo..(y + 1) * t.wo]);
            }
            deinterleave(&s.row, &mut s.phases[i * M * tx..(i + 1) * M * tx], tx);
        }
        for phase in 0..M {
            let ins = std::array::from_fn(|i| &s.phases[(i * M + phase) * tx..][..tx]);
            mix(a_times, ins, rows_mut(&mut s.mixed[phase * tx..], M * tx, 0..tx));
        }
        let at = base + (ty - ty0) * tx;
        for k in 0..ALPHA {
            let ins = std::array::from_fn(|j| &s.mixed[(k * M + j) * tx..][..tx]);
            mix(a_times, ins, rows_mut(&mut v[k * ALPHA * tb..], tb, at..at + tx));
        }
    }
}

/// Per-thread buffers of the adjoint's output transform.
struct AdjointOutputScratch<T> {
    /// `B` over the first index: `mixed[(i·6 + ν)·tiles_x + t]`.
    mixed: Vec<T>,
    /// The 6 values per tile of one padded row: `values[j·tiles_x + t]`.
    values: Vec<T>,
    /// That row by `x mod 4` (tiles overlap by 2 columns), then in order.
    phases: Vec<T>,
    row: Vec<T>,
}

impl<T: WithDType> AdjointOutputScratch<T> {
    fn new(t: Tiling) -> Self {
        let tp = t.tiles_x + 1;
        Self {
            mixed: vec![T::zero(); ALPHA * ALPHA * t.tiles_x],
            values: vec![T::zero(); ALPHA * t.tiles_x],
            phases: vec![T::zero(); M * tp],
            row: vec![T::zero(); M * tp],
        }
    }
}

/// Adds `B Q Bᵀ` of every tile of one segment into the input plane `x` (one input channel,
/// `q` its `(36, tb)` products for the band): tile `(ty, tx)` covers padded rows `4·ty..4·ty+6`
/// and columns `4·tx..4·tx+6`; the padding is dropped.
fn adjoint_output_transform<T: WithDType>(
    q: &[T],
    t: Tiling,
    Segment { rows: (ty0, ty1), base: first, .. }: Segment,
    tb: usize,
    s: &mut AdjointOutputScratch<T>,
    x: &mut [T],
) {
    let (tx, tp, p) = (t.tiles_x, t.tiles_x + 1, t.padding);
    for ty in ty0..ty1 {
        let base = first + (ty - ty0) * tx;
        for nu in 0..ALPHA {
            let ins = std::array::from_fn(|xi| &q[(xi * ALPHA + nu) * tb + base..][..tx]);
            mix(b_times, ins, rows_mut(&mut s.mixed[nu * tx..], ALPHA * tx, 0..tx));
        }
        for i in 0..ALPHA {
            let Some(y) = (M * ty + i).checked_sub(p).filter(|&y| y < t.h) else { continue };
            let ins = std::array::from_fn(|nu| &s.mixed[(i * ALPHA + nu) * tx..][..tx]);
            mix(b_times, ins, rows_mut(&mut s.values, tx, 0..tx));
            // Column 4·tx + j: phase j at tile tx for j < 4, phase j − 4 at tile tx + 1 after.
            let (values, phases) = (&s.values, &mut s.phases);
            phases.fill(T::zero());
            for j in 0..ALPHA {
                let (phase, shift) = (j % M, j / M);
                let dst = &mut phases[phase * tp + shift..phase * tp + shift + tx];
                for (d, &v) in dst.iter_mut().zip(&values[j * tx..(j + 1) * tx]) {
                    *d += v;
                }
            }
            interleave(&s.phases, tp, &mut s.row);
            for (d, &v) in x[y * t.w..(y + 1) * t.w].iter_mut().zip(&s.row[p..]) {
                *d += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::im2col;
    use candle_core::Device;

    /// `Bᵀ` (α × α): the input transform.
    const BT: [[f64; 6]; 6] = [
        [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ];

    /// `G` (α × 3): the kernel transform.
    const G: [[f64; 3]; 6] = [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];

    /// `Aᵀ` (m × α): the output transform.
    const AT: [[f64; 6]; 4] = [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ];

    /// The transpose of a constant matrix.
    const fn transpose<const R: usize, const C: usize>(m: [[f64; C]; R]) -> [[f64; R]; C] {
        let mut t = [[0.0; R]; C];
        let mut i = 0;
        while i < R {
            let mut j = 0;
            while j < C {
                t[j][i] = m[i][j];
                j += 1;
            }
            i += 1;
        }
        t
    }

    /// `B` (α × α): the adjoint's output transform.
    const B: [[f64; 6]; 6] = transpose(BT);
    /// `A` (α × m): the adjoint's input transform.
    const A: [[f64; 4]; 6] = transpose(AT);

    fn randn(dims: &[usize], dtype: DType) -> Tensor {
        Tensor::randn(0f64, 1.0, dims, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
    }

    /// max |a − b| / max |b|.
    fn rel_max(a: &Tensor, b: &Tensor) -> f64 {
        let a = a.to_dtype(DType::F64).unwrap();
        let b = b.to_dtype(DType::F64).unwrap();
        let diff = a.sub(&b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        diff / b.abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap()
    }

    /// Against the direct convolution (im2col), for sides that are and are not multiples of
    /// 4, paddings 0–2, a batch, several bands, and channel counts that do not split evenly.
    #[test]
    fn matches_direct_convolution_and_its_transpose() {
        let cases = [
            (1, 16, 20, 8, 8, 1),
            (2, 17, 5, 9, 7, 1),
            (1, 16, 33, 13, 11, 0),
            (1, 20, 16, 6, 10, 2),
            (1, 64, 96, 56, 48, 1), // several bands
            (3, 32, 32, 8, 80, 1),  // bands of 5 tile rows across samples of 2
        ];
        for (n, c, o, h, w, p) in cases {
            let x = randn(&[n, c, h, w], DType::F64);
            let weight = randn(&[o, c, 3, 3], DType::F64);
            let bias = randn(&[o], DType::F64);
            let u = transform_kernel(&weight).unwrap();
            let ours = conv2d(&x, &u, p, Some(&bias), false).unwrap();
            let rectified = conv2d(&x, &u, p, Some(&bias), true).unwrap();
            let e = rel_max(&rectified, &ours.relu().unwrap());
            assert!(e == 0.0, "relu {e:e}");
            let direct = im2col::conv2d(&x, &weight, p)
                .unwrap()
                .broadcast_add(&bias.reshape((1, o, 1, 1)).unwrap())
                .unwrap();
            assert_eq!(ours.dims(), direct.dims());
            let e = rel_max(&ours, &direct);
            assert!(e < 1e-13, "forward {:?} p={p}: {e:e}", (n, c, o, h, w));
            // The transpose: ⟨s, W⋆x⟩ = ⟨Wᵀs, x⟩ and against the fold of the direct map.
            let s = randn(ours.dims(), DType::F64);
            let back = conv2d_transposed(&s, &u, p, (h, w)).unwrap();
            let direct_back = im2col::conv2d_transposed_by_fold(&s, &weight, p, (n, c, h, w)).unwrap();
            let e = rel_max(&back, &direct_back);
            assert!(e < 1e-13, "transposed {:?} p={p}: {e:e}", (n, c, o, h, w));
        }
    }

    /// float32: the rounding of the transforms stays near float32's own (≈1e-6 relative).
    #[test]
    fn float32_error_is_small() {
        let x = randn(&[1, 64, 28, 28], DType::F32).relu().unwrap();
        let weight = (randn(&[64, 64, 3, 3], DType::F32) * 0.06).unwrap();
        let u = transform_kernel(&weight).unwrap();
        let exact =
            im2col::conv2d(&x.to_dtype(DType::F64).unwrap(), &weight.to_dtype(DType::F64).unwrap(), 1)
                .unwrap();
        let direct = im2col::conv2d(&x, &weight, 1).unwrap();
        let ours = conv2d(&x, &u, 1, None, false).unwrap();
        let (e_ours, e_direct) = (rel_max(&ours, &exact), rel_max(&direct, &exact));
        println!("float32 max error: Winograd {e_ours:.2e}, direct {e_direct:.2e}");
        assert!(e_ours < 2e-5, "{e_ours:e}");
    }

    /// The written-out transforms are the matrices.
    #[test]
    fn transforms_are_the_matrices() {
        fn check<const R: usize, const K: usize>(f: impl Fn([f64; K]) -> [f64; R], m: &[[f64; K]; R]) {
            for k in 0..K {
                let unit: [f64; K] = std::array::from_fn(|i| if i == k { 1.0 } else { 0.0 });
                let column = f(unit);
                for r in 0..R {
                    assert_eq!(column[r], m[r][k], "entry ({r}, {k})");
                }
            }
        }
        check(bt_times::<f64>, &BT);
        check(g_times::<f64>, &G);
        check(at_times::<f64>, &AT);
        check(a_times::<f64>, &A);
        check(b_times::<f64>, &B);
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let x = randn(&[1, 16, 8, 8], DType::F32);
        assert!(transform_kernel(&randn(&[4, 16, 5, 5], DType::F32)).is_err());
        let u = transform_kernel(&randn(&[4, 16, 3, 3], DType::F32)).unwrap();
        assert!(conv2d(&randn(&[1, 8, 8, 8], DType::F32), &u, 1, None, false).is_err(), "channels");
        assert!(conv2d(&x, &u, 3, None, false).is_err(), "padding");
        assert!(conv2d(&randn(&[1, 16, 1, 1], DType::F32), &u, 0, None, false).is_err(), "too small");
        assert!(conv2d_transposed(&randn(&[1, 4, 7, 8], DType::F32), &u, 1, (8, 8)).is_err(), "sizes");
        assert!(suits((3, 3), 64, 16) && !suits((3, 3), 3, 64) && !suits((5, 5), 64, 64));
    }
}
