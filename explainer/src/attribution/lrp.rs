//! Layer-wise relevance propagation (exercise 4, second part).

use std::sync::Arc;

use candle_core::Tensor;

use super::{Attribution, Attributor, modified_gradient, times_input};
use crate::composite::{Composite, GammaBox, GammaSchedule};
use crate::error::Result;
use crate::model::Vgg;

/// How the modified gradient is computed. Both give the same result (tested).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// A hand-written backward pass over the recorded forward pass (fast, the default).
    #[default]
    Explicit,
    /// The sheet's `p·[z/p]_cst` trick through candle's autograd (reference).
    Autograd,
}

/// LRP: Gradient×Input with the gradient modified by a [`Composite`]'s rules;
/// by default the sheet's ([`GammaBox`]): zB on convolution 1, LRP-γ on the others with γ
/// per block, the gradient on dense layers. `R = X·∂X + L·∂L + H·∂H`.
#[derive(Debug, Clone)]
pub struct Lrp {
    composite: Arc<dyn Composite>,
    engine: Engine,
}

impl Lrp {
    /// The sheet's LRP with this γ schedule, explicit engine.
    pub fn new(schedule: GammaSchedule) -> Self {
        Self::with_composite(GammaBox::new(schedule))
    }

    /// LRP with any composite, explicit engine.
    pub fn with_composite(composite: impl Composite + 'static) -> Self {
        Self { composite: Arc::new(composite), engine: Engine::Explicit }
    }

    /// The same with another engine.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }
}

impl Default for Lrp {
    fn default() -> Self {
        Self::new(GammaSchedule::default())
    }
}

// ANCHOR: lrp_attribute
impl Attributor for Lrp {
    fn attribute(&self, model: &Vgg, input: &Tensor, class: usize) -> Result<Attribution> {
        let rules = self.composite.rules(model)?;
        let (logits, inputs, grads) = modified_gradient(model, input, class, &rules, self.engine)?;
        Ok(Attribution { logits, relevance: times_input(&inputs, &grads)? })
    }
}
// ANCHOR_END: lrp_attribute
