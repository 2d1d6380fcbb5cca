//! The book's live demos, computed in the reader's browser by the library code the tests check,
//! compiled to `wasm32-unknown-unknown` (`book/build-demos`) and loaded by a small hand-written
//! loader (`book/src/demos/demos.js`), offline, with no server.
//!
//! - [`min_networks`]: demo 1, LRP-γ on the two min-networks of exercise 2 (`lrp-min-networks`)
//!   at any `(a1, a2, γ)`, every neuron's and connection's relevance, and the chapter's closed
//!   forms beside the engine's `R_1`, `R_2`.
//! - [`shapes`] and [`method`]: demo 2, the shipped scene model explaining one class of a
//!   generated scene with Gradient×Input or LRP with a preset composite (the explainer's public
//!   API), with the heatmap in the panels' colours.
//! - [`exports`]: the `extern "C"` functions the page calls; results travel as JSON ([`json`]).
//!
//! Everything but [`exports`] is ordinary Rust and tested natively.

pub mod error;
pub mod exports;
pub mod json;
pub mod method;
pub mod min_networks;
pub mod shapes;

pub use error::{Error, Result};
