//! The band loop shared by the convolution and its adjoint: transform the input tiles of a
//! band, multiply by the kernel transform, transform the products back into the output.

use candle_core::Result;
use rayon::prelude::*;

use super::pool::{Float, Pooled};
use super::{E, Segment, Tiling, per_thread, planes_by_chunk, segments};
use crate::gemm::{MatRef, matmul};

/// One tiled map (the convolution, or its adjoint) as [`run_bands`] drives it: from `from`
/// channels in to `to` channels out, through 36 matrix products per band.
pub(super) trait TiledPass<T: Float>: Sync {
    /// Per-thread buffers of the input and the output transform.
    type InputScratch: Send;
    type OutputScratch: Send;
    fn input_scratch(&self, band_rows: usize) -> Self::InputScratch;
    fn output_scratch(&self) -> Self::OutputScratch;
    /// Writes the transformed tiles of input channel `channel` in `seg` into `v`
    /// (`(36, tb)`: one row of the band's `tb` tiles per entry).
    fn transform_input(
        &self,
        s: &mut Self::InputScratch,
        channel: usize,
        seg: Segment,
        tb: usize,
        v: &mut [T],
    );
    /// The kernel transform's entry `e` for the output channels `first..first + rows`, as
    /// the left factor `(rows × from)` of the product.
    fn kernel(&self, e: usize, first: usize, rows: usize) -> Result<MatRef<'_, T>>;
    /// Transforms output channel `channel`'s products `m` (`(36, tb)`) for `seg` into `plane`,
    /// that channel's plane of `seg`'s sample.
    fn transform_output(
        &self,
        s: &mut Self::OutputScratch,
        channel: usize,
        m: &[T],
        seg: Segment,
        tb: usize,
        plane: &mut [T],
    );
}

/// Runs `pass` on `n` samples into `out` (`(N, to, plane)`), in bands of tile rows that may
/// span samples (so that small layers, like VGG-16's 14×14 with 16 tiles per sample, still
/// make products of [`super::BAND_TILES`] tiles and read the kernel transform once per band).
/// The input transform is split over rayon's threads by input channel, the products and the
/// output transform by output channel.
pub(super) fn run_bands<T: Float, P: TiledPass<T>>(
    pass: &P,
    (n, from, to): (usize, usize, usize),
    t: Tiling,
    (out, plane): (&mut [T], usize),
) -> Result<()> {
    let band_rows = t.band_rows(from + to, std::mem::size_of::<T>(), n);
    let mut v = Pooled::<T>::take(from * E * band_rows * t.tiles_x);
    let mut m = Pooled::<T>::take(to * E * band_rows * t.tiles_x);
    for g0 in (0..n * t.tiles_y).step_by(band_rows) {
        let g1 = (g0 + band_rows).min(n * t.tiles_y);
        let tb = (g1 - g0) * t.tiles_x;
        let segments = segments(t, (g0, g1));
        let (v, m) = (&mut v.0[..from * E * tb], &mut m.0[..to * E * tb]);
        let chunk = per_thread(from, 1);
        v.par_chunks_mut(chunk * E * tb).enumerate().for_each(|(i, v)| {
            let mut scratch = pass.input_scratch(band_rows);
            for (k, v) in v.chunks_exact_mut(E * tb).enumerate() {
                for seg in &segments {
                    pass.transform_input(&mut scratch, i * chunk + k, *seg, tb, v);
                }
            }
        });
        let chunk = per_thread(to, 16);
        let first = segments.first().map_or(0, |s| s.sample);
        let last = segments.last().map_or(0, |s| s.sample);
        let planes = planes_by_chunk(out, (to, plane), chunk, first..=last);
        m.par_chunks_mut(chunk * E * tb).zip(planes).enumerate().try_for_each(
            |(i, (m, mut planes))| -> Result<()> {
                let (first_channel, rows) = (i * chunk, m.len() / (E * tb));
                for e in 0..E {
                    let rhs = MatRef::new(&v[e * tb..], (from, tb), (E * tb, 1))?;
                    matmul(&mut m[e * tb..], E * tb, pass.kernel(e, first_channel, rows)?, rhs, false)?;
                }
                let mut scratch = pass.output_scratch();
                for (k, m) in m.chunks_exact(E * tb).enumerate() {
                    for seg in &segments {
                        let target = &mut planes[seg.sample - first][k * plane..(k + 1) * plane];
                        pass.transform_output(&mut scratch, first_channel + k, m, *seg, tb, target);
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}
