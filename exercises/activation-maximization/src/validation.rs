//! Input checks shared by the constructors: finiteness, shapes and the penalty weight.

use nalgebra::{DMatrix, DVector};

use crate::{Error, Result};

// ANCHOR: penalty_weight
/// Why `λ ≤ 0` is rejected, quoted in errors and docs.
pub(crate) const LAMBDA_WHY: &str = "the penalty weight must be positive and finite: for λ ≤ 0 the \
     objective wᵀx + b − λ‖x‖² is unbounded above (λ < 0, or λ = 0 with w ≠ 0) or has no unique \
     maximum (λ = 0, w = 0), so no prototype exists";

/// `Ok(())` if `lambda` is a positive finite number.
pub(crate) fn penalty_weight(lambda: f64) -> Result<()> {
    if lambda.is_finite() && lambda > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "lambda", value: lambda, why: LAMBDA_WHY })
    }
}
// ANCHOR_END: penalty_weight

/// `Ok(())` if `value` is finite.
pub(crate) fn finite_scalar(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() { Ok(()) } else { Err(Error::NonFinite { name, index: 0, value }) }
}

/// `Ok(())` if every entry of `matrix` (or vector) is finite.
pub(crate) fn finite_entries<R, C, S>(
    name: &'static str,
    matrix: &nalgebra::Matrix<f64, R, C, S>,
) -> Result<()>
where
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorage<f64, R, C>,
{
    match matrix.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { name, index, value: matrix[index] }),
        None => Ok(()),
    }
}

/// `Ok(())` if `vector` has `length` entries.
pub(crate) fn vector_length(name: &'static str, vector: &DVector<f64>, length: usize) -> Result<()> {
    if vector.len() == length {
        Ok(())
    } else {
        Err(Error::DimensionMismatch { name, expected: (length, 1), found: (vector.len(), 1) })
    }
}

/// `Ok(())` if `matrix` has `rows` rows (any number of columns when `columns` is `None`).
pub(crate) fn matrix_shape(
    name: &'static str,
    matrix: &DMatrix<f64>,
    rows: usize,
    columns: Option<usize>,
) -> Result<()> {
    let expected = (rows, columns.unwrap_or(matrix.ncols()));
    if matrix.shape() == expected {
        Ok(())
    } else {
        Err(Error::DimensionMismatch { name, expected, found: matrix.shape() })
    }
}

/// `Ok(())` if every entry of a computed result is finite, else [`Error::Overflow`].
pub(crate) fn no_overflow(what: &'static str, vector: &DVector<f64>) -> Result<()> {
    if vector.iter().all(|v| v.is_finite()) { Ok(()) } else { Err(Error::Overflow { what }) }
}

/// `vector` has `length` entries and every one is finite: the argument check of every evaluator
/// (a NaN argument is an error, never a NaN result).
pub(crate) fn argument(name: &'static str, vector: &DVector<f64>, length: usize) -> Result<()> {
    vector_length(name, vector, length)?;
    finite_entries(name, vector)
}

/// `value` if it is finite, otherwise [`Error::Overflow`] of `what` (the arguments were
/// finite, so a non-finite result means the true value is not representable in `f64`).
pub(crate) fn finite_result(what: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() { Ok(value) } else { Err(Error::Overflow { what }) }
}
