//! Attributors (zennit's vocabulary): each explains one class of a [`Network`]'s output by a
//! relevance per input value, and returns the output it explained.
//!
//! An attributor is prepared for a model once ([`Attributor::prepare`]): the [`Prepared`]
//! value owns every kernel it derives (modified weights, Winograd transforms) and drops them
//! with itself. Two engines compute the modified gradient of the rules ([`crate::rules`]):
//! [`explicit`] (the default, fast: a hand-written backward pass over the recorded forward
//! pass) and [`autograd`] (the sheet's trick through candle's autograd, as a reference).
//!
//! The gradient-based and perturbation methods are built on the prepared gradient and the
//! prepared forward pass: [`SmoothGrad`] (noisy copies), [`IntegratedGradients`] (a path from a
//! [`Baseline`], a [`Quadrature`]) and [`Occlusion`] (sliding patches), each with its own
//! prepared type; [`AnyAttributor`] and [`Explain`] hold any of them behind one interface.

pub mod autograd;
pub mod baseline;
pub mod dynamic;
pub mod explicit;
pub mod gradient;
pub mod integrated_gradients;
pub mod lrp;
pub mod occlusion;
pub mod prepared;
pub mod quadrature;
mod ratio;
pub mod smooth_grad;
pub(crate) mod step;

pub use baseline::Baseline;
pub use dynamic::{AnyAttributor, Explain};
pub use gradient::{Gradient, GradientTimesInput};
pub use integrated_gradients::{IntegratedAttribution, IntegratedGradients};
pub use lrp::{Engine, Lrp, ModifiedKernels};
pub use occlusion::Occlusion;
pub use prepared::Prepared;
pub use quadrature::Quadrature;
pub use smooth_grad::SmoothGrad;

use candle_core::Tensor;

use crate::error::Result;
use crate::model::Network;

/// What an attributor returns.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// The network's output, `(N, classes)`.
    pub logits: Tensor,
    /// Relevance of each input value, `(N, 3, H, W)` (per colour channel; sum over axis 1
    /// for a heatmap).
    pub relevance: Tensor,
}

/// Explains the output `class` of a model for an input batch.
pub trait Attributor {
    /// The attributor made ready for `model`: rules resolved and checked, kernels prepared.
    fn prepare<'m>(&self, model: &'m Network) -> Result<Prepared<'m>>;

    /// The logits and the relevance of every input value for output `class`, for each sample
    /// of `input` (`(N, 3, H, W)`, the model's dtype). Prepares for this call only: to explain
    /// many inputs, [`Attributor::prepare`] once.
    fn attribute(&self, model: &Network, input: &Tensor, class: usize) -> Result<Attribution> {
        self.prepare(model)?.attribute(input, class)
    }
}

// ANCHOR: times_input
/// `Σ_k input_k ⊙ gradient_k`: Gradient×Input, extended to zB's bounds (`X·∂X + L·∂L + H·∂H`).
pub(crate) fn times_input(contributions: &step::Contributions) -> Result<Tensor> {
    let mut r: Option<Tensor> = None;
    for (_, input, gradient) in contributions {
        let part = input.mul(gradient)?;
        r = Some(match r {
            Some(r) => r.add(&part)?,
            None => part,
        });
    }
    r.ok_or_else(|| crate::Error::InvalidParameter {
        name: "attribution",
        value: "no inputs".into(),
        why: "the first layer gave no contributions".into(),
    })
}
// ANCHOR_END: times_input

/// The one-hot gradient `∂ Σ_n f_class(x_n) / ∂ logits`, shaped like `logits`.
pub(crate) fn one_hot(logits: &Tensor, class: usize) -> Result<Tensor> {
    let (n, classes) = logits.dims2()?;
    let mut v = vec![0f64; n * classes];
    for row in 0..n {
        v[row * classes + class] = 1.0;
    }
    Ok(Tensor::from_vec(v, (n, classes), logits.device())?.to_dtype(logits.dtype())?)
}
