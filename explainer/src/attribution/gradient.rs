//! Gradient and Gradient×Input (exercise 4, first part).

use super::Attributor;
use super::lrp::{Engine, ModifiedKernels};
use super::prepared::{Output, Prepared};
use crate::composite::Composite;
use crate::error::Result;
use crate::model::Network;

/// The gradient `R_i = ∂f_c/∂x_i` of the explained logit (a plain backward pass).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gradient;

// ANCHOR: gradient_times_input
/// Gradient×Input, `R_i = x_i · ∂f_c/∂x_i` (the sheet's `gradinput`): for piecewise-linear,
/// positively homogeneous networks, the Taylor expansion at `x̃ = εx`, ε → 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct GradientTimesInput;

impl Attributor for Gradient {
    fn prepare<'m>(&self, model: &'m Network) -> Result<Prepared<'m>> {
        Prepared::new(
            model,
            &Composite::gradient(),
            (Engine::Explicit, ModifiedKernels::PerStep),
            Output::Gradient,
        )
    }
}

impl Attributor for GradientTimesInput {
    fn prepare<'m>(&self, model: &'m Network) -> Result<Prepared<'m>> {
        Prepared::new(
            model,
            &Composite::gradient(),
            (Engine::Explicit, ModifiedKernels::PerStep),
            Output::TimesInput,
        )
    }
}
// ANCHOR_END: gradient_times_input
