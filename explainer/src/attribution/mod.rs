//! Attributors (zennit's vocabulary): each explains one class of a [`Vgg`]'s output by a
//! relevance per input value, and returns the output it explained.
//!
//! Two engines compute the modified gradient of the rules ([`crate::rules`]):
//! [`explicit`] (the default, fast: a hand-written backward pass over the recorded forward
//! pass) and [`autograd`] (the sheet's trick through candle's autograd, as a reference).

pub mod autograd;
pub mod explicit;
pub mod gradient;
pub mod lrp;

pub use gradient::{Gradient, GradientTimesInput};
pub use lrp::{Engine, Lrp};

use candle_core::Tensor;

use crate::composite::LayerRules;
use crate::error::{Error, Result};
use crate::model::Vgg;
use crate::model::vgg::{in_parts, join_samples};

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
    /// The logits and the relevance of every input value for output `class`, for each
    /// sample of `input` (`(N, 3, H, W)`, the model's dtype).
    fn attribute(&self, model: &Vgg, input: &Tensor, class: usize) -> Result<Attribution>;
}

/// The modified gradient of `class` at the input by `engine`, with `rules` per layer:
/// the logits, the inputs of the first layer (`[x, bounds…]`) and the gradient at each.
pub(crate) fn modified_gradient(
    model: &Vgg,
    input: &Tensor,
    class: usize,
    rules: &LayerRules,
    engine: Engine,
) -> Result<Explained> {
    model.check_input(input)?;
    if class >= model.classes() {
        return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
    }
    let parts = in_parts(input, |x| match engine {
        Engine::Explicit => explicit::modified_gradient(model, x, class, rules),
        Engine::Autograd => autograd::modified_gradient(model, x, class, rules),
    })?;
    // The k-th tensor of every part's list, joined.
    let join = |list: fn(&Explained) -> &Vec<Tensor>| -> Result<Vec<Tensor>> {
        (0..list(&parts[0]).len())
            .map(|k| Ok(join_samples(parts.iter().map(|p| &list(p)[k]).collect())?))
            .collect()
    };
    let logits = join_samples(parts.iter().map(|p| &p.0).collect())?;
    Ok((logits, join(|p| &p.1)?, join(|p| &p.2)?))
}

/// The logits, the first layer's inputs and the modified gradient at each.
type Explained = (Tensor, Vec<Tensor>, Vec<Tensor>);

// ANCHOR: times_input
/// `Σ_k input_k ⊙ gradient_k`: Gradient×Input, extended to zB's bounds (`X·∂X + L·∂L + H·∂H`).
pub(crate) fn times_input(inputs: &[Tensor], gradients: &[Tensor]) -> Result<Tensor> {
    let mut r = inputs[0].mul(&gradients[0])?;
    for (x, g) in inputs.iter().zip(gradients).skip(1) {
        r = r.add(&x.mul(g)?)?;
    }
    Ok(r)
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
