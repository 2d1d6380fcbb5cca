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
//! Rounding: the transforms' coefficients go up to 8 and their sums cancel, so the result
//! rounds more than a direct convolution: in float32 about 1e-5 of the largest output on
//! VGG-16's layers instead of 4e-7 (the `convolution` bench; the tests bound it by 2e-5), in
//! float64 about 1e-15. It also computes the positions of a tile by different sums, so outputs
//! of identical input windows differ by rounding where a direct convolution gives them equal;
//! [`crate::ConvKernel`] therefore takes Winograd in float32 only.
//!
//! Work is done in bands of tile rows (so that the transformed tiles stay in cache) and
//! split over rayon's threads: by input channel for the input transform, by output channel
//! for the products and the output transform.

mod adjoint;
mod bands;
mod forward;
mod kernel;
mod pool;
mod rows;

pub use kernel::transform_kernel;
pub use pool::Float;

use candle_core::{DType, Result, Tensor};

use crate::elementwise::with_slice;
use adjoint::adjoint_batch;
use forward::forward_batch;

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
        let rows = (samples * self.tiles_y).max(1);
        (BAND_BYTES / per_row).max(BAND_TILES.div_ceil(self.tiles_x)).clamp(1, rows)
    }
}

/// Chunks of about `len / threads` items, at least `min`: the work split of one stage.
fn per_thread(len: usize, min: usize) -> usize {
    len.div_ceil(rayon::current_num_threads().max(1)).max(min).max(1)
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
fn planes_by_chunk<T>(
    planes: &mut [T],
    (channels, plane): (usize, usize),
    chunk: usize,
    samples: std::ops::RangeInclusive<usize>,
) -> Vec<Vec<&mut [T]>> {
    let mut by_chunk: Vec<Vec<&mut [T]>> = (0..channels.div_ceil(chunk)).map(|_| Vec::new()).collect();
    let first = *samples.start();
    for sample in planes.chunks_exact_mut(channels * plane).skip(first).take(samples.count()) {
        for (group, part) in by_chunk.iter_mut().zip(sample.chunks_mut(chunk * plane)) {
            group.push(part);
        }
    }
    by_chunk
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

#[cfg(test)]
mod tests {
    use super::rows::{a_times, at_times, b_times, bt_times, g_times};
    use super::*;
    use crate::conv::Conv2dConfig;
    use crate::im2col;
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
            let direct_back = im2col::conv2d_transposed_by_fold(
                &s,
                &weight,
                Conv2dConfig { padding: p, stride: 1 },
                (n, c, h, w),
            )
            .unwrap();
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
                for (r, (value, row)) in column.iter().zip(m).enumerate() {
                    assert_eq!(*value, row[k], "entry ({r}, {k})");
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
        assert!(transform_kernel(&Tensor::zeros((4, 0, 3, 3), DType::F32, &Device::Cpu).unwrap()).is_err());
        // An empty batch is an empty result, not a panic.
        let empty = Tensor::zeros((0, 16, 8, 8), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(conv2d(&empty, &u, 1, None, false).unwrap().dims(), &[0, 4, 8, 8]);
        let empty_s = Tensor::zeros((0, 4, 8, 8), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(conv2d_transposed(&empty_s, &u, 1, (8, 8)).unwrap().dims(), &[0, 16, 8, 8]);
        assert!(suits((3, 3), 64, 16) && !suits((3, 3), 3, 64) && !suits((5, 5), 64, 64));
    }
}
