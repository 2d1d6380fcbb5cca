//! The error type of this crate: every way an input can be invalid or the ascent can fail.

// ANCHOR: error
/// Everything that can go wrong in exercise 1 (exercise sheet 11, exercise 1).
///
/// Bad input is reported here instead of producing a panic or a NaN.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scalar parameter is outside its valid range, e.g. the penalty weight `λ ≤ 0`,
    /// for which the objective `wᵀx + b − λ‖x‖²` is unbounded above (no prototype exists).
    #[error("invalid parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// The parameter's name as in the formulas (`lambda`, `tolerance`, ...).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// Why it is rejected.
        why: &'static str,
    },
    /// An entry of a vector or matrix is NaN or infinite.
    #[error("{name} has a non-finite entry {value} at position {index} (column-major)")]
    NonFinite {
        /// The vector or matrix (`w`, `mu`, `sigma`, `a`, `c`, `b`, `start`).
        name: &'static str,
        /// Position of the first non-finite entry (column-major for matrices).
        index: usize,
        /// The entry.
        value: f64,
    },
    /// A vector or matrix has the wrong shape for the others it is combined with.
    #[error("{name} has shape {found:?} (rows, columns), expected {expected:?}")]
    DimensionMismatch {
        /// The vector or matrix with the wrong shape.
        name: &'static str,
        /// The shape it must have (a vector of length `n` is `(n, 1)`).
        expected: (usize, usize),
        /// The shape it has.
        found: (usize, usize),
    },
    /// The covariance matrix is not symmetric positive definite, so `N(μ, Σ)` has no density.
    #[error("{name} is not symmetric positive definite: {why}")]
    NotPositiveDefinite {
        /// The matrix (`sigma`).
        name: &'static str,
        /// What failed: the symmetry check or the Cholesky factorisation.
        why: &'static str,
    },
    /// The inputs are finite but a result is too large for `f64` (e.g. `w / (2λ)` for tiny `λ`).
    #[error("{what} overflows f64")]
    Overflow {
        /// The quantity that overflowed.
        what: &'static str,
    },
    /// Gradient ascent stopped at its iteration limit before the gradient norm fell below the
    /// tolerance.
    #[error(
        "gradient ascent did not converge: gradient norm {gradient_norm:e} after {iterations} iterations"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Norm of the gradient at the last iterate.
        gradient_norm: f64,
    },
    /// Drawing or writing a figure failed.
    #[error("figure: {0}")]
    Chart(#[from] charts::Error),
    /// The backtracking line search of gradient ascent found no step that makes progress: even
    /// after halving the step this many times, the gradient at the candidate points backwards
    /// (or overflows). Rounding dominates there; the iterate is as good as `f64` gets.
    #[error(
        "gradient ascent's line search failed at iteration {iteration}: no step made progress after \
         {halvings} halvings (gradient norm {gradient_norm:e})"
    )]
    LineSearchFailed {
        /// The iteration whose step failed (0 is the first).
        iteration: usize,
        /// Halvings tried.
        halvings: usize,
        /// Norm of the gradient at the last accepted iterate.
        gradient_norm: f64,
    },
}
// ANCHOR_END: error

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
