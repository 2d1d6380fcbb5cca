//! The convolution: input transform, products, output transform, band by band.

use candle_core::{Result, WithDType};

use super::bands::{TiledPass, run_bands};
use super::pool::Float;
use super::rows::{at_times, bt_times, deinterleave, interleave, mix, rows_mut};
use super::{ALPHA, M, Segment, Tiling};
use crate::gemm::MatRef;

/// The convolution as a [`TiledPass`]: `x` `(N, C, H, W)`, `u` `(36, O, C)`, then the bias and
/// the ReLU if asked.
struct Forward<'a, T> {
    x: &'a [T],
    u: &'a [T],
    channels: (usize, usize),
    bias: &'a [T],
    relu: bool,
    t: Tiling,
}

impl<T: Float> TiledPass<T> for Forward<'_, T> {
    type InputScratch = InputScratch<T>;
    type OutputScratch = OutputScratch<T>;

    fn input_scratch(&self, band_rows: usize) -> InputScratch<T> {
        InputScratch::new(self.t, band_rows)
    }

    fn output_scratch(&self) -> OutputScratch<T> {
        OutputScratch::new(self.t)
    }

    /// `v[e, tile] = (Bᵀ d B)[e]`.
    fn transform_input(&self, s: &mut InputScratch<T>, channel: usize, seg: Segment, tb: usize, v: &mut [T]) {
        let plane = self.t.h * self.t.w;
        let x = &self.x[(seg.sample * self.channels.0 + channel) * plane..][..plane];
        input_transform(x, self.t, seg, tb, s, v);
    }

    /// Rows `first..` of `U_e` (`O × C`).
    fn kernel(&self, e: usize, first: usize, rows: usize) -> Result<MatRef<'_, T>> {
        let (c, o) = self.channels;
        MatRef::new(&self.u[(e * o + first) * c..], (rows, c), (c, 1))
    }

    fn transform_output(
        &self,
        s: &mut OutputScratch<T>,
        channel: usize,
        m: &[T],
        seg: Segment,
        tb: usize,
        plane: &mut [T],
    ) {
        output_transform(m, (self.bias[channel], self.relu), self.t, seg, tb, s, plane);
    }
}

/// [`super::conv2d`] on slices: `x` `(N, C, H, W)` into `y` `(N, O, Ho, Wo)`.
pub(super) fn forward_batch<T: Float>(
    x: &[T],
    u: &[T],
    (n, c, o): (usize, usize, usize),
    (bias, relu): (&[T], bool),
    t: Tiling,
    y: &mut [T],
) -> Result<()> {
    let pass = Forward { x, u, channels: (c, o), bias, relu, t };
    run_bands(&pass, (n, c, o), t, (y, t.ho * t.wo))
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
