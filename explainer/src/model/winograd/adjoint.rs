//! The transposed convolution as the adjoint of [`super::forward`]: `A s Aᵀ`, products with
//! `Uᵀ`, and `B Q Bᵀ` added into the input where tiles overlap.

use candle_core::{Result, WithDType};
use rayon::prelude::*;

use super::pool::{Float, Pooled};
use super::rows::{a_times, b_times, deinterleave, interleave, mix, rows_mut};
use super::{ALPHA, E, M, Segment, Tiling, per_thread, planes_by_chunk, segments};
use crate::model::gemm::{MatRef, matmul};

/// [`conv2d_transposed`] on slices: `s` `(N, O, Ho, Wo)` into `x` `(N, C, H, W)` (zeroed),
/// in bands of tile rows that may span samples, as [`forward_batch`].
pub(super) fn adjoint_batch<T: Float>(
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
