//! The error type of this crate: every way an input to the LRP engine can be unusable.

/// Everything that can go wrong when building a network, running it or explaining it.
///
/// The engine never panics on bad input and never returns a silent NaN: each case below is
/// checked where it can first be detected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scalar parameter is outside its domain (γ or ε negative or not finite, a closed-form
    /// input negative, ...).
    #[error("invalid parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// The parameter's name as in the docs (`"gamma"`, `"epsilon"`, `"a"`).
        name: &'static str,
        /// The value given.
        value: f64,
        /// Why it is rejected.
        why: &'static str,
    },
    /// A number that must be finite is NaN or infinite (a weight, a bias, an input or an
    /// activation or relevance that overflowed).
    #[error("{what} is not finite: {value}")]
    NonFinite {
        /// Which number, e.g. `"input 1"` or `"weight (0, 2) of layer 1"`.
        what: String,
        /// The offending value.
        value: f64,
    },
    /// Two sizes that must agree do not (bias length, consecutive layers, input length).
    #[error("shape mismatch in {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// Which pair of sizes.
        what: String,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A network needs at least one layer, and a layer at least one input and one output.
    #[error("empty network or layer: {0}")]
    Empty(&'static str),
    /// Drawing or writing a figure failed.
    #[error(transparent)]
    Chart(#[from] charts::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// `Ok(value)` if `value` is finite, otherwise [`Error::NonFinite`] naming it.
pub(crate) fn require_finite(value: f64, what: impl FnOnce() -> String) -> Result<f64> {
    if value.is_finite() { Ok(value) } else { Err(Error::NonFinite { what: what(), value }) }
}

/// `Ok(value)` if `value` is finite and `>= 0`, otherwise [`Error::InvalidParameter`].
pub(crate) fn require_non_negative(name: &'static str, value: f64) -> Result<f64> {
    if !value.is_finite() {
        Err(Error::InvalidParameter { name, value, why: "must be finite" })
    } else if value < 0.0 {
        Err(Error::InvalidParameter { name, value, why: "must be non-negative" })
    } else {
        Ok(value)
    }
}

/// `Ok(())` if a size `found` equals the size `expected` of `what`, else [`Error::ShapeMismatch`].
pub(crate) fn require_length(what: &str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { what: what.to_string(), expected, found })
    }
}
