//! The demos' error type: what the page shows instead of a result.

/// Everything a demo can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The exercise-2 engine refused the input (negative γ, non-finite input, …).
    #[error(transparent)]
    MinNetworks(#[from] lrp_min_networks::Error),
    /// The explainer failed (a class out of range, a relevance that overflowed, …).
    #[error(transparent)]
    Explainer(#[from] explainer::Error),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A result that JSON cannot hold.
    #[error("{name} = {value} is not finite")]
    NotFinite {
        /// What the number is.
        name: String,
        /// The number.
        value: f64,
    },
    /// An input outside what the demo offers.
    #[error("invalid {name} = {value}: {why}")]
    InvalidInput {
        /// The input's name.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        why: String,
    },
}

/// The demos' result type.
pub type Result<T> = std::result::Result<T, Error>;
