//! The error type of this crate: every invalid input becomes a typed error, never a panic or a NaN.

// ANCHOR: error
/// Everything that can go wrong when building, evaluating, fitting or explaining a one-class SVM.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is outside its domain: `γ ≤ 0`, `α_i ≤ 0`, a non-finite support-vector
    /// coordinate, `ν ∉ (0, 1]`, ….
    #[error("invalid parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// Which parameter, with its index where it has one (`alpha[3]`).
        name: String,
        /// The offending value.
        value: f64,
        /// The condition it violates.
        why: &'static str,
    },
    /// The model (or a list of pre-activations) has no support vectors / no entries.
    #[error("the model has no support vectors")]
    NoSupportVectors,
    /// Two vectors that must have the same length do not.
    #[error("dimension mismatch in {what}: expected {expected}, got {found}")]
    DimensionMismatch {
        /// What was being compared (`"x"`, `"alpha"`, `"training data"`).
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A coordinate of the input point is NaN or infinite.
    #[error("input x[{index}] = {value} is not finite")]
    NonFiniteInput {
        /// The coordinate.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// An intermediate value exceeds the range of `f64`: e.g. `‖x − u_i‖² > f64::MAX` for a
    /// point at `1e200`, or `γ⁻¹ log α_i` for a sub-normal `γ`. The true result is not
    /// representable, so none is returned.
    #[error("{what} overflows f64")]
    Overflow {
        /// The quantity that overflowed.
        what: &'static str,
    },
    /// Drawing or writing a figure failed.
    #[error(transparent)]
    Chart(#[from] charts::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
// ANCHOR_END: error

impl Error {
    /// An [`Error::InvalidParameter`].
    pub(crate) fn invalid(name: impl Into<String>, value: f64, why: &'static str) -> Self {
        Self::InvalidParameter { name: name.into(), value, why }
    }
}

/// Checks `γ ∈ (0, ∞)`.
pub(crate) fn check_gamma(gamma: f64) -> Result<()> {
    if gamma.is_finite() && gamma > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid("gamma", gamma, "the kernel width must be positive and finite"))
    }
}

/// Checks that every coordinate of `x` is finite.
pub(crate) fn check_finite_input(x: &[f64]) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFiniteInput { index, value: x[index] }),
        None => Ok(()),
    }
}
