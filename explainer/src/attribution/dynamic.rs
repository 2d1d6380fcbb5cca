//! Any attributor behind one object-safe interface: what method lists, tables and the command
//! line hold, whatever the attributor's own prepared type.

use candle_core::Tensor;

use super::{Attribution, Attributor, Prepared};
use crate::error::Result;
use crate::model::Network;

/// An attributor made ready for one model, explaining batches: [`Prepared`] (Gradient,
/// Gradient×Input, LRP) and the perturbation and path methods' prepared types.
pub trait Explain {
    /// The logits and the relevance of every input value for output `class`, for each sample
    /// of `input` (`(N, 3, H, W)`, the model's dtype).
    fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution>;
}

/// Prepares an [`Explain`] for a model: every attributor, as a trait object.
pub trait AnyAttributor: std::fmt::Debug + Send + Sync {
    /// The attributor made ready for `model`.
    fn prepare_any<'m>(&self, model: &'m Network) -> Result<Box<dyn Explain + 'm>>;
}

impl Explain for Prepared<'_> {
    fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        Prepared::attribute(self, input, class)
    }
}

impl<A: Attributor + std::fmt::Debug + Send + Sync> AnyAttributor for A {
    fn prepare_any<'m>(&self, model: &'m Network) -> Result<Box<dyn Explain + 'm>> {
        Ok(Box::new(self.prepare(model)?))
    }
}
