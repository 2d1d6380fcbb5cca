//! Exercises 1–3 of the sheet "Explaining neural networks" (TU Berlin, exercise sheet 11),
//! solved analytically and checked numerically.
//!
//! This umbrella crate re-exports the three exercise crates; its `tests/` directory is the
//! verification suite (`cargo test -p exercises`) and its `figures` binary draws every figure
//! of the book into `book/src/figures/`.
//!
//! - [`activation_maximization`]: exercise 1, prototypes of a linear model.
//! - [`lrp_min_networks`]: exercise 2, LRP-γ on two ReLU networks computing `min(a1, a2)`.
//! - [`neuralization`]: exercise 3, the one-class SVM as a two-layer network.

pub use activation_maximization;
pub use lrp_min_networks;
pub use neuralization;
