//! The convolution: input transform, products, output transform, band by band.

use candle_core::{Result, WithDType};
use rayon::prelude::*;

use super::pool::{Float, Pooled};
use super::rows::{at_times, bt_times, deinterleave, interleave, mix, rows_mut};
use super::{ALPHA, E, M, Segment, Tiling, per_thread, planes_by_chunk, segments};
use crate::model::gemm::{MatRef, matmul};

/// [`conv2d`] on slices: `x` `(N, C, H, W)` into `y` `(N, O, Ho, Wo)`. A band of tile rows
/// may span several samples, so that small layers (VGG-16's 14×14 has 16 tiles per sample)
/// still make products of [`BAND_TILES`] tiles and read the kernel transform once per band.
pub(super) fn forward_batch<T: Float>(
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
