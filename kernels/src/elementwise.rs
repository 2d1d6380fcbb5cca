//! Elementwise maps over several tensors in a single pass.
//!
//! A chain of candle ops reads and writes every element once per op, and a comparison adds a
//! `u8` tensor and a `where_cond`: the explicit engine's `g · z/p` (0 where `p = 0`) took six
//! passes, 32 ms on a 64×224×224 map, where one pass over the slices takes a few. The
//! functions given here use the same arithmetic, in the same order, as the candle ops they
//! replace, so the results are bit for bit the same.

use candle_core::{DType, Result, Storage, Tensor, WithDType};

/// `f` applied to the elements at each position of `N` same-shaped tensors, all `f32`
/// (`f32_op`) or all `f64` (`f64_op`): a new contiguous tensor of that shape.
pub fn zip_map<const N: usize>(
    inputs: [&Tensor; N],
    f32_op: impl Fn([f32; N]) -> f32 + Sync,
    f64_op: impl Fn([f64; N]) -> f64 + Sync,
) -> Result<Tensor> {
    let Some(first) = inputs.first() else { candle_core::bail!("zip_map needs at least one tensor") };
    for t in &inputs[1..] {
        if t.shape() != first.shape() || t.dtype() != first.dtype() {
            candle_core::bail!(
                "zip_map: {:?} {:?} and {:?} {:?} differ",
                first.dims(),
                first.dtype(),
                t.dims(),
                t.dtype()
            );
        }
    }
    match first.dtype() {
        DType::F32 => Tensor::from_vec(zip_slices(inputs, f32_op)?, first.shape(), first.device()),
        DType::F64 => Tensor::from_vec(zip_slices(inputs, f64_op)?, first.shape(), first.device()),
        dtype => candle_core::bail!("zip_map: unsupported dtype {dtype:?}"),
    }
}

/// Whether every element of `t` (f32 or f64) is finite: one pass, read in place, in blocks
/// over rayon's threads (each block without an early exit, so that it vectorises).
pub fn all_finite(t: &Tensor) -> Result<bool> {
    fn finite<T: Copy + Sync>(v: &[T], is_finite: impl Fn(T) -> bool + Sync) -> bool {
        use rayon::prelude::*;
        v.par_chunks(PARALLEL_ELEMENTS).all(|block| block.iter().fold(true, |all, &x| all & is_finite(x)))
    }
    match t.dtype() {
        DType::F32 => with_slice(t, |v: &[f32]| finite(v, f32::is_finite)),
        DType::F64 => with_slice(t, |v: &[f64]| finite(v, f64::is_finite)),
        dtype => candle_core::bail!("all_finite: unsupported dtype {dtype:?}"),
    }
}

/// `f` of the elements of `t` (row-major), read in place when `t` is contiguous (a copy of
/// a large tensor costs a page fault per fresh page on this kind of machine).
pub fn with_slice<T: WithDType, R>(t: &Tensor, f: impl FnOnce(&[T]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else { candle_core::bail!("with_slice runs on the CPU") };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("with_slice: contiguous() gave a strided tensor")
    };
    Ok(f(&cpu.as_slice::<T>()?[start..end]))
}

/// The elements of `inputs` (row-major) mapped by `f`; large maps are split over candle's
/// thread count, as candle's own elementwise ops are.
fn zip_slices<T: WithDType, const N: usize>(
    inputs: [&Tensor; N],
    f: impl Fn([T; N]) -> T + Sync,
) -> Result<Vec<T>> {
    // Read in place (no copies: on this kind of machine every fresh page costs a fault).
    let mut tensors = Vec::with_capacity(N);
    for t in inputs {
        tensors.push(t.contiguous()?);
    }
    let guards: Vec<_> = tensors.iter().map(|t| t.storage_and_layout()).collect();
    let mut data = Vec::with_capacity(N);
    for (storage, layout) in &guards {
        let Storage::Cpu(cpu) = &**storage else { candle_core::bail!("zip_map runs on the CPU") };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("zip_map: contiguous() gave a strided tensor")
        };
        data.push(&cpu.as_slice::<T>()?[start..end]);
    }
    let n = data[0].len();
    let mut out = vec![T::zero(); n];
    let threads = candle_core::utils::get_num_threads().max(1);
    let per_thread = n.div_ceil(threads).max(PARALLEL_ELEMENTS / threads);
    let (f, data) = (&f, &data);
    let work = |start: usize, chunk: &mut [T]| {
        // Every row is exactly `chunk.len()` long, so the compiler drops the bounds checks and
        // can vectorise `f`.
        let rows: [&[T]; N] = std::array::from_fn(|k| &data[k][start..start + chunk.len()]);
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = f(std::array::from_fn(|k| rows[k][i]));
        }
    };
    let mut chunks = out.chunks_mut(per_thread.max(1));
    let first = chunks.next();
    std::thread::scope(|scope| {
        for (t, chunk) in chunks.enumerate() {
            scope.spawn(move || work((t + 1) * per_thread, chunk));
        }
        if let Some(chunk) = first {
            work(0, chunk);
        }
    });
    Ok(out)
}

/// Maps with fewer elements run on the calling thread alone.
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// `target[i] ← f(target[i], [others[k][i]…])`, in blocks over rayon's threads: the loop of
/// the engine's in-place operations (candle `InplaceOp`s), which have checked that every
/// slice has `target`'s length.
pub fn update_in_place<T: WithDType, const N: usize>(
    target: &mut [T],
    others: [&[T]; N],
    f: impl Fn(T, [T; N]) -> T + Sync,
) {
    use rayon::prelude::*;
    target.par_chunks_mut(PARALLEL_ELEMENTS).enumerate().for_each(|(b, chunk)| {
        let start = b * PARALLEL_ELEMENTS;
        let rows: [&[T]; N] = std::array::from_fn(|k| &others[k][start..start + chunk.len()]);
        for (i, t) in chunk.iter_mut().enumerate() {
            *t = f(*t, std::array::from_fn(|k| rows[k][i]));
        }
    });
}

/// The elements of a contiguous tensor's storage, for an in-place operation.
pub fn contiguous_part<'a, T>(data: &'a [T], layout: &candle_core::Layout) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("an in-place operation needs contiguous tensors"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn maps_position_by_position_and_checks_shapes() {
        let d = &Device::Cpu;
        let a = Tensor::new(&[[1f32, 2.], [3., 4.]], d).unwrap();
        let b = Tensor::new(&[[10f32, 20.], [30., 40.]], d).unwrap();
        let c = zip_map([&a, &b], |[x, y]| x * y - 1.0, |[x, y]| x * y - 1.0).unwrap();
        assert_eq!(c.to_vec2::<f32>().unwrap(), [[9., 39.], [89., 159.]]);
        // A transposed (non-contiguous) input is read in its logical order.
        let t = zip_map([&a.t().unwrap()], |[x]| x, |[x]| x).unwrap();
        assert_eq!(t.to_vec2::<f32>().unwrap(), [[1., 3.], [2., 4.]]);
        assert!(zip_map([&a, &b.flatten_all().unwrap()], |[x, _]| x, |[x, _]| x).is_err());
    }
}
