//! Explain image classifiers with Gradient, Gradient×Input and LRP, on candle.
//!
//! The overview and a runnable example are written with the public API (see the issue).

pub mod classes;
pub mod error;
pub mod heatmap;
pub mod image;
pub mod npy;

pub use error::{Error, Result};
