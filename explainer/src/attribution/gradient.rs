//! Gradient and Gradient×Input (exercise 4, first part).

use candle_core::Tensor;

use super::lrp::Engine;
use super::{Attribution, Attributor, modified_gradient, times_input};
use crate::composite::{AllPass, Composite};
use crate::error::Result;
use crate::model::Vgg;

/// The gradient `R_i = ∂f_c/∂x_i` of the explained logit (a plain backward pass).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gradient;

/// Gradient×Input, `R_i = x_i · ∂f_c/∂x_i` (the sheet's `gradinput`): for piecewise-linear,
/// positively homogeneous networks, the Taylor expansion at `x̃ = εx`, ε → 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct GradientTimesInput;

impl Attributor for Gradient {
    fn attribute(&self, model: &Vgg, input: &Tensor, class: usize) -> Result<Attribution> {
        let rules = AllPass.rules(model)?;
        let (logits, _, mut grads) = modified_gradient(model, input, class, &rules, Engine::Explicit)?;
        Ok(Attribution { logits, relevance: grads.swap_remove(0) })
    }
}

// ANCHOR: gradient_times_input
impl Attributor for GradientTimesInput {
    fn attribute(&self, model: &Vgg, input: &Tensor, class: usize) -> Result<Attribution> {
        let rules = AllPass.rules(model)?;
        let (logits, inputs, grads) = modified_gradient(model, input, class, &rules, Engine::Explicit)?;
        Ok(Attribution { logits, relevance: times_input(&inputs, &grads)? })
    }
}
// ANCHOR_END: gradient_times_input
