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
use crate::model::vgg::SAMPLES_PER_PASS;

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
) -> Result<(Tensor, Vec<Tensor>, Vec<Tensor>)> {
    model.check_input(input)?;
    if class >= model.classes() {
        return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
    }
    let pass = |x: &Tensor| match engine {
        Engine::Explicit => explicit::modified_gradient(model, x, class, rules),
        Engine::Autograd => autograd::modified_gradient(model, x, class, rules),
    };
    let n = input.dim(0)?;
    if n <= SAMPLES_PER_PASS {
        return pass(input);
    }
    // Samples are explained independently: run the batch in parts and join the results.
    let mut parts = Vec::with_capacity(n.div_ceil(SAMPLES_PER_PASS));
    for start in (0..n).step_by(SAMPLES_PER_PASS) {
        parts.push(pass(&input.narrow(0, start, SAMPLES_PER_PASS.min(n - start))?)?);
    }
    let join = |pick: &dyn Fn(&(Tensor, Vec<Tensor>, Vec<Tensor>)) -> Vec<Tensor>| -> Result<Vec<Tensor>> {
        let picked: Vec<Vec<Tensor>> = parts.iter().map(pick).collect();
        (0..picked[0].len())
            .map(|k| Ok(Tensor::cat(&picked.iter().map(|p| &p[k]).collect::<Vec<_>>(), 0)?))
            .collect()
    };
    let logits = join(&|p| vec![p.0.clone()])?.swap_remove(0);
    Ok((logits, join(&|p| p.1.clone())?, join(&|p| p.2.clone())?))
}

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
