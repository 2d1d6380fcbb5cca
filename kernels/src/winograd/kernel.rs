//! The kernel transform `U = G g Gᵀ`, made once per weight.

use candle_core::{DType, Result, Tensor, WithDType};
use rayon::prelude::*;

use super::rows::{g_times, mix};
use super::{ALPHA, E, per_thread, planes_by_chunk};
use crate::elementwise::with_slice;

/// Kernels transformed per block: each block is transposed to one row per kernel entry.
const BLOCK: usize = 1024;

/// The kernel transform `U` of a weight `(O, C, 3, 3)`: `(36, O, C)` with
/// `U[e, o, c] = (G · w[o, c] · Gᵀ)[e]`, in the weight's dtype. The output channels are split
/// over rayon's threads.
pub fn transform_kernel(weight: &Tensor) -> Result<Tensor> {
    let (o, c, kh, kw) = weight.dims4()?;
    if (kh, kw) != (3, 3) {
        candle_core::bail!("Winograd F(4×4, 3×3) needs a 3×3 kernel, got {kh}×{kw}");
    }
    if o == 0 || c == 0 {
        candle_core::bail!("Winograd F(4×4, 3×3): a kernel without channels ({o}×{c})");
    }
    fn run<T: WithDType>(w: &[T], o: usize, c: usize) -> Result<Vec<T>> {
        let mut u = vec![T::zero(); E * o * c];
        // For each chunk of output channels, its part of each of the 36 rows of U.
        let chunk = per_thread(o, 1);
        let parts = planes_by_chunk(&mut u, (o, c), chunk, 0..=E - 1);
        parts.into_par_iter().enumerate().try_for_each(|(i, mut rows)| {
            let first = i * chunk * c;
            let kernels = rows.first().map_or(0, |r| r.len());
            transform_kernels(&w[first * 9..(first + kernels) * 9], &mut rows)
        })?;
        Ok(u)
    }
    let u = match weight.dtype() {
        DType::F32 => {
            Tensor::from_vec(with_slice(weight, |w: &[f32]| run(w, o, c))??, (E, o, c), weight.device())?
        }
        DType::F64 => {
            Tensor::from_vec(with_slice(weight, |w: &[f64]| run(w, o, c))??, (E, o, c), weight.device())?
        }
        dtype => candle_core::bail!("Winograd convolution: unsupported dtype {dtype:?}"),
    };
    Ok(u)
}

/// `rows[e][k] = (G · w_k · Gᵀ)[e]` for the kernels `w_k` (rows of 9 in `w`), block by block:
/// `G` down the 3 columns of every kernel of the block, then along the 6 rows, each step
/// [`mix`]ed along one row per kernel entry.
fn transform_kernels<T: WithDType>(w: &[T], rows: &mut [&mut [T]]) -> Result<()> {
    let mut entries = [T::zero(); 9 * BLOCK];
    let mut columns = [T::zero(); ALPHA * 3 * BLOCK];
    let kernels = w.len() / 9;
    for k0 in (0..kernels).step_by(BLOCK) {
        let len = BLOCK.min(kernels - k0);
        for (k, kernel) in w[k0 * 9..(k0 + len) * 9].chunks_exact(9).enumerate() {
            for (entry, &v) in kernel.iter().enumerate() {
                entries[entry * BLOCK + k] = v;
            }
        }
        // columns[(i·3 + j)·BLOCK + k] = (G · w_k)[i, j]
        for j in 0..3 {
            let ins = std::array::from_fn(|l| &entries[(l * 3 + j) * BLOCK..][..len]);
            let mut outs = columns[j * BLOCK..].chunks_mut(3 * BLOCK);
            mix(g_times, ins, std::array::from_fn(|_| next_row(&mut outs, len)));
        }
        // rows[i·6 + j'][k] = ((G · w_k) · Gᵀ)[i, j']
        for i in 0..ALPHA {
            let ins = std::array::from_fn(|j| &columns[(i * 3 + j) * BLOCK..][..len]);
            let Some(six) = rows.get_mut(i * ALPHA..(i + 1) * ALPHA) else {
                candle_core::bail!("kernel transform: {} rows of U, not {E}", rows.len())
            };
            let mut outs = six.iter_mut().map(|r| &mut r[k0..k0 + len]);
            mix(g_times, ins, std::array::from_fn(|_| outs.next().unwrap_or_default()));
        }
    }
    Ok(())
}

/// The first `len` values of the next chunk, or an empty row past the end (never reached:
/// the chunks of `columns` are 6).
fn next_row<'a, T>(chunks: &mut std::slice::ChunksMut<'a, T>, len: usize) -> &'a mut [T] {
    chunks.next().map_or(&mut [], |c| &mut c[..len])
}
