//! A safe matrix product over slices: the one place in the workspace with `unsafe` code.
//!
//! The `gemm` crate (the one candle multiplies with) takes raw pointers and strides. Here
//! every matrix is a slice with its shape and strides, checked to lie inside the slice
//! before the call, and the destination is a `&mut` slice in row-major order, so no two of
//! its entries alias and nothing else can read it during the product. The Winograd
//! convolution ([`super::winograd`]) calls it with many small products per layer, each on
//! one thread, where candle's `matmul` would allocate a tensor and start its thread pool
//! for every one.

#![allow(unsafe_code)]

use candle_core::{Result, WithDType};

/// A read-only `rows × cols` matrix in a slice: entry `(i, j)` at `i·row_stride + j·col_stride`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// The matrix, if every entry lies inside `data`.
    pub fn new(
        data: &'a [T],
        (rows, cols): (usize, usize),
        (row_stride, col_stride): (usize, usize),
    ) -> Result<Self> {
        let last = last_index(rows, cols, row_stride, col_stride)?;
        if last.is_some_and(|l| l >= data.len()) {
            candle_core::bail!(
                "a {rows}×{cols} matrix with strides ({row_stride}, {col_stride}) does not fit {} values",
                data.len()
            );
        }
        Ok(Self { data, rows, cols, row_stride, col_stride })
    }

    /// A row-major matrix (`row_stride = cols`).
    #[cfg(test)]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self> {
        Self::new(data, (rows, cols), (cols, 1))
    }

    /// The transpose (a view, nothing is copied).
    #[cfg(test)]
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// The largest index `(rows − 1)·rs + (cols − 1)·cs` of a matrix, `None` when it is empty.
fn last_index(rows: usize, cols: usize, rs: usize, cs: usize) -> Result<Option<usize>> {
    if rows == 0 || cols == 0 {
        return Ok(None);
    }
    (rows - 1)
        .checked_mul(rs)
        .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)))
        .filter(|&l| l <= isize::MAX as usize)
        .map(Some)
        .ok_or_else(|| candle_core::Error::Msg(format!("a {rows}×{cols} matrix's strides overflow")))
}

/// `dst ← lhs · rhs` (or `dst ← dst + lhs · rhs` when `accumulate`), with `dst` row-major
/// `lhs.rows × rhs.cols` with row stride `dst_row_stride ≥ rhs.cols`, on the calling thread.
pub fn matmul<T: WithDType>(
    dst: &mut [T],
    dst_row_stride: usize,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    accumulate: bool,
) -> Result<()> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    if rhs.rows != k {
        candle_core::bail!("matmul: {m}×{k} times {}×{n}", rhs.rows);
    }
    if dst_row_stride < n {
        candle_core::bail!("matmul: a destination row stride {dst_row_stride} below its {n} columns");
    }
    if last_index(m, n, dst_row_stride, 1)?.is_some_and(|l| l >= dst.len()) {
        candle_core::bail!("matmul: a {m}×{n} destination does not fit {} values", dst.len());
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            dst.chunks_mut(dst_row_stride).take(m).for_each(|row| row[..n].fill(T::zero()));
        }
        return Ok(());
    }
    // SAFETY: `MatRef::new` checked that every entry (i, j) of `lhs` and `rhs` lies inside
    // its slice, and the checks above do the same for the m×n entries of `dst` (row-major,
    // row stride ≥ n, so distinct entries are distinct elements). `dst` is borrowed mutably,
    // so nothing else reads or writes it during the call; the strides fit in `isize`
    // (checked by `last_index`). `Parallelism::None`: no thread outlives the call.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>) -> Vec<f64> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                out[i * rhs.cols + j] = (0..lhs.cols)
                    .map(|p| {
                        lhs.data[i * lhs.row_stride + p * lhs.col_stride]
                            * rhs.data[p * rhs.row_stride + j * rhs.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn products_with_strides_transposes_and_accumulation_match_a_loop() {
        let a: Vec<f64> = (0..35).map(|v| (v as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..40).map(|v| (v as f64 * 0.91).cos()).collect();
        let lhs = MatRef::row_major(&a[..35], 5, 7).unwrap();
        let rhs = MatRef::new(&b, (7, 4), (5, 1)).unwrap(); // every row skips one value
        let expected = naive(lhs, rhs);
        let mut dst = vec![0.0; 5 * 6];
        matmul(&mut dst, 6, lhs, rhs, false).unwrap();
        for i in 0..5 {
            for j in 0..4 {
                approx::assert_relative_eq!(dst[i * 6 + j], expected[i * 4 + j], max_relative = 1e-12);
            }
            assert_eq!(&dst[i * 6 + 4..i * 6 + 6], &[0.0, 0.0], "columns past n are left alone");
        }
        matmul(&mut dst, 6, lhs, rhs, true).unwrap();
        approx::assert_relative_eq!(dst[6 + 2], 2.0 * expected[4 + 2], max_relative = 1e-12);
        // The transpose of a row-major 7×5 is the 5×7 above read column-wise.
        let at: Vec<f64> = (0..35).map(|i| a[(i % 5) * 7 + i / 5]).collect();
        let mut dst_t = vec![0.0; 5 * 4];
        matmul(&mut dst_t, 4, MatRef::row_major(&at, 7, 5).unwrap().t(), rhs, false).unwrap();
        for (x, y) in dst_t.iter().zip(&expected) {
            approx::assert_relative_eq!(x, y, max_relative = 1e-12);
        }
    }

    #[test]
    fn matrices_outside_their_slices_are_refused() {
        let a = vec![0f32; 10];
        assert!(MatRef::row_major(&a, 3, 4).is_err());
        assert!(MatRef::new(&a, (2, 2), (9, 1)).is_err());
        assert!(MatRef::new(&a, (2, 5), (5, 1)).is_ok());
        let lhs = MatRef::row_major(&a, 2, 5).unwrap();
        let rhs = MatRef::row_major(&a, 5, 2).unwrap();
        assert!(matmul(&mut [0f32; 3], 2, lhs, rhs, false).is_err(), "dst too small");
        assert!(matmul(&mut [0f32; 4], 1, lhs, rhs, false).is_err(), "row stride below n");
        assert!(matmul(&mut [0f32; 4], 2, lhs, lhs, false).is_err(), "inner dimensions differ");
    }
}
