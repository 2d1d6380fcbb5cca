//! The transposed convolution as the adjoint of [`super::forward`]: `A s Aᵀ`, products with
//! `Uᵀ`, and `B Q Bᵀ` added into the input where tiles overlap.

use candle_core::{Result, WithDType};

use super::bands::{TiledPass, run_bands};
use super::pool::Float;
use super::rows::{a_times, b_times, deinterleave, interleave, mix, rows_mut};
use super::{ALPHA, M, Segment, Tiling};
use crate::gemm::MatRef;

/// The transposed convolution as a [`TiledPass`]: `s` `(N, O, Ho, Wo)`, `u` `(36, O, C)`,
/// added into an input `(N, C, H, W)`.
struct Adjoint<'a, T> {
    s: &'a [T],
    u: &'a [T],
    channels: (usize, usize),
    t: Tiling,
}

impl<T: Float> TiledPass<T> for Adjoint<'_, T> {
    type InputScratch = AdjointInputScratch<T>;
    type OutputScratch = AdjointOutputScratch<T>;

    fn input_scratch(&self, _band_rows: usize) -> AdjointInputScratch<T> {
        AdjointInputScratch::new(self.t)
    }

    fn output_scratch(&self) -> AdjointOutputScratch<T> {
        AdjointOutputScratch::new(self.t)
    }

    /// `v[e, tile] = (A s Aᵀ)[e]`.
    fn transform_input(
        &self,
        scratch: &mut AdjointInputScratch<T>,
        channel: usize,
        seg: Segment,
        tb: usize,
        v: &mut [T],
    ) {
        let plane = self.t.ho * self.t.wo;
        let s = &self.s[(seg.sample * self.channels.1 + channel) * plane..][..plane];
        adjoint_input_transform(s, self.t, seg, tb, scratch, v);
    }

    /// Rows `first..` of `U_eᵀ` (`C × O`): entry `(c, o)` at `e·O·C + o·C + c`.
    fn kernel(&self, e: usize, first: usize, rows: usize) -> Result<MatRef<'_, T>> {
        let (c, o) = self.channels;
        MatRef::new(&self.u[e * o * c + first..], (rows, o), (1, c))
    }

    fn transform_output(
        &self,
        scratch: &mut AdjointOutputScratch<T>,
        _channel: usize,
        q: &[T],
        seg: Segment,
        tb: usize,
        plane: &mut [T],
    ) {
        adjoint_output_transform(q, self.t, seg, tb, scratch, plane);
    }
}

/// [`super::conv2d_transposed`] on slices: `s` `(N, O, Ho, Wo)` added into `x` `(N, C, H, W)`.
pub(super) fn adjoint_batch<T: Float>(
    s: &[T],
    u: &[T],
    (n, c, o): (usize, usize, usize),
    t: Tiling,
    x: &mut [T],
) -> Result<()> {
    run_bands(&Adjoint { s, u, channels: (c, o), t }, (n, o, c), t, (x, t.h * t.w))
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
