//! Exercise 2 of exercise sheet 11 (TU Berlin, "Explaining neural networks"): layer-wise
//! relevance propagation with the LRP-γ rule on two ReLU networks that both compute
//! `min(a1, a2)`, solved in closed form and checked numerically.
//!
//! - [`Layer`] and [`Network`]: small dense ReLU networks as data (row = output neuron), with a
//!   forward pass that keeps every layer's activations.
//! - [`LrpGamma`]: the sheet's rule
//!   `R_j = Σ_k a_j(w_jk + γw_jk⁺) / Σ_{0,j} a_j(w_jk + γw_jk⁺) · R_k` from `R_out = y`, with an
//!   optional ε stabilizer; [`slow_reference::lrp_gamma_slow`] is its connection-by-connection
//!   twin for tests.
//! - [`network_a`], [`network_b`]: the two min-networks; [`closed_form`]: `R_1`, `R_2` at
//!   `a1 = a2 = a` as functions of `a` and γ; [`relevance_share`]: `R_1 / (R_1 + R_2)`.
//! - [`figures`]: the book's figures of this exercise.
//!
//! ```
//! use lrp_min_networks::{LrpGamma, closed_form, network_b};
//!
//! let gamma = 1.0;
//! let explanation = LrpGamma::new(gamma)?.explain(&network_b(), &[3.0, 3.0])?;
//! assert_eq!(explanation.output()[0], 3.0); // min(3, 3)
//! let r = explanation.input_relevance();
//! let closed = closed_form::network_b_equal_inputs(3.0, gamma)?; // R1 = 3·2/3, R2 = 3·1/3
//! approx::assert_relative_eq!(r[0], closed.r1, epsilon = 1e-12, max_relative = 1e-12);
//! approx::assert_relative_eq!(r[1], closed.r2, epsilon = 1e-12, max_relative = 1e-12);
//! # Ok::<(), lrp_min_networks::Error>(())
//! ```
//!
//! Bad input (negative or non-finite γ or ε, non-finite inputs or weights, shapes that do not
//! fit) is reported as an [`Error`], never as a panic or a silent NaN.

pub mod closed_form;
pub mod error;
pub mod figures;
pub mod layer;
pub mod lrp_gamma;
pub mod min_networks;
pub mod network;
pub mod share;
pub mod slow_reference;

pub use closed_form::InputRelevance;
pub use error::{Error, Result};
pub use layer::{Activation, Layer};
pub use lrp_gamma::{Explanation, LrpGamma};
pub use min_networks::{MinNetwork, network_a, network_b};
pub use network::{Forward, Network};
pub use share::relevance_share;
