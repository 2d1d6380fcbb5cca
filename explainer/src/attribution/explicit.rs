//! The explicit engine: the modified gradient computed layer by layer, without autograd.
//!
//! 1. Forward pass, keeping every layer's input and each max-pool's argmax.
//! 2. Backward from the one-hot gradient `g` of the explained class, layer by layer:
//!    - ReLU: `g ← g · [z > 0]` (PyTorch's mask);
//!    - max-pool: `g` routed to the recorded argmax (first maximum on ties, as PyTorch);
//!    - flatten, dropout: reshape, identity;
//!    - convolution, dense: the layer's [`Rule::backward`](crate::rules::Rule::backward),
//!      `s = g · z/p`, `c = ρ(W)ᵀ s` (`R/p` in relevance terms, since `R = z·g`).
//! 3. The relevance is `Σ_k input_k ⊙ c_k` over the first layer's inputs.
//!
//! Only input gradients are computed (autograd would also compute every weight gradient),
//! and transposed convolutions run as `conv2d` with a flipped kernel.
//!
//! [`profile`] runs the same pass and reports the wall time of every step.

use std::time::{Duration, Instant};

use candle_core::Tensor;

use super::one_hot;
use crate::composite::LayerRules;
use crate::error::{Error, Result};
use crate::model::elementwise::zip_map;
use crate::model::{Layer, Vgg};

// ANCHOR: explicit_forward
/// What the backward pass needs from the forward pass.
struct Trace {
    /// `values[i]` is the input of layer `i`; the last entry is the logits.
    values: Vec<Tensor>,
    /// The argmax of each max-pool layer.
    argmax: Vec<Option<Tensor>>,
}

fn forward(model: &Vgg, x: &Tensor, on_step: &mut impl FnMut(StepTime)) -> Result<Trace> {
    let mut values = vec![x.clone()];
    let mut argmax = Vec::with_capacity(model.layers().len());
    for (i, layer) in model.layers().iter().enumerate() {
        let start = Instant::now();
        let h = values.last().expect("the input is recorded");
        let (out, arg) = match layer {
            Layer::MaxPool2d(p) => {
                let (out, arg) = p.forward_with_argmax(h)?;
                (out, Some(arg))
            }
            layer => (layer.forward(h)?, None),
        };
        values.push(out);
        argmax.push(arg);
        on_step(StepTime { layer: i, kind: layer.kind(), phase: Phase::Forward, time: start.elapsed() });
    }
    Ok(Trace { values, argmax })
}
// ANCHOR_END: explicit_forward

// ANCHOR: explicit_backward
/// The logits, the first layer's inputs `[x, bounds…]` and the modified gradient at each.
pub(crate) fn modified_gradient(
    model: &Vgg,
    x: &Tensor,
    class: usize,
    rules: &LayerRules,
) -> Result<(Tensor, Vec<Tensor>, Vec<Tensor>)> {
    timed_modified_gradient(model, x, class, rules, &mut |_| {})
}

/// [`modified_gradient`], calling `on_step` after every step.
fn timed_modified_gradient(
    model: &Vgg,
    x: &Tensor,
    class: usize,
    rules: &LayerRules,
    on_step: &mut impl FnMut(StepTime),
) -> Result<(Tensor, Vec<Tensor>, Vec<Tensor>)> {
    let Trace { mut values, argmax } = forward(model, x, on_step)?;
    let logits = values.pop().expect("the logits are recorded");
    let mut g = one_hot(&logits, class)?;
    let mut z = logits.clone();
    for (i, layer) in model.layers().iter().enumerate().rev() {
        let start = Instant::now();
        let step = |time| StepTime { layer: i, kind: layer.kind(), phase: Phase::Backward, time };
        let a = values.pop().expect("one input per layer");
        match layer {
            Layer::Relu => g = relu_mask(&a, &g)?,
            Layer::MaxPool2d(p) => {
                let arg = argmax[i].as_ref().expect("max-pools record their argmax");
                g = p.route(&g, arg, a.shape())?;
            }
            Layer::Flatten => g = g.reshape(a.shape())?,
            Layer::Dropout => {}
            Layer::Conv2d(_) | Layer::Linear(_) => {
                let affine = layer.affine().expect("convolutions and dense layers are affine");
                let rule = rules.get(i).cloned().flatten().ok_or_else(|| no_rule(i, layer))?;
                let bounds = rule.bounds(&a)?;
                if i > 0 && !bounds.is_empty() {
                    return Err(bounds_not_first(i, &rule.name()));
                }
                let inputs: Vec<Tensor> = std::iter::once(a).chain(bounds).collect();
                let mut grads = rule.backward(affine, &inputs, &z, &g)?;
                on_step(step(start.elapsed()));
                if i == 0 {
                    return Ok((logits, inputs, grads));
                }
                g = grads.swap_remove(0);
                z = inputs.into_iter().next().expect("the activation");
                continue;
            }
        }
        on_step(step(start.elapsed()));
        if i == 0 {
            return Ok((logits, vec![a], vec![g]));
        }
        z = a;
    }
    Err(Error::InvalidParameter {
        name: "model",
        value: model.config().name.clone(),
        why: "has no layers".into(),
    })
}
// ANCHOR_END: explicit_backward

/// Forward or backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The layer's output from its input.
    Forward,
    /// The (modified) gradient at the layer's input from the one at its output.
    Backward,
}

/// The wall time of one step of the explicit engine.
#[derive(Debug, Clone, Copy)]
pub struct StepTime {
    /// Index of the layer in [`Vgg::layers`].
    pub layer: usize,
    /// Its [`Layer::kind`].
    pub kind: &'static str,
    /// Forward or backward.
    pub phase: Phase,
    /// How long the step took.
    pub time: Duration,
}

/// The steps of one explicit pass with `rules` (the modified gradient of `class` at `x`), in
/// the order they ran, with their wall times: where an explanation spends its time.
pub fn profile(model: &Vgg, x: &Tensor, class: usize, rules: &LayerRules) -> Result<Vec<StepTime>> {
    model.check_input(x)?;
    if class >= model.classes() {
        return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
    }
    let mut steps = Vec::new();
    timed_modified_gradient(model, x, class, rules, &mut |s| steps.push(s))?;
    Ok(steps)
}

/// `g` where `a > 0`, else 0 (PyTorch's ReLU mask), in one pass instead of candle's
/// `gt` + `zeros_like` + `where_cond` (14 ms on a 64×224×224 map). The selection masks the
/// bits of `g`: the signs of `a` are random, so a branch would be mispredicted half the time
/// (as slow as the candle ops).
fn relu_mask(a: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
    zip_map(
        [a, g],
        |[a, g]| f32::from_bits(g.to_bits() & u32::from(a > 0.0).wrapping_neg()),
        |[a, g]| f64::from_bits(g.to_bits() & u64::from(a > 0.0).wrapping_neg()),
    )
}

pub(crate) fn no_rule(i: usize, layer: &Layer) -> Error {
    Error::InvalidParameter {
        name: "composite",
        value: format!("layer {i} ({})", layer.kind()),
        why: "gives no rule for a layer with parameters".into(),
    }
}

pub(crate) fn bounds_not_first(i: usize, rule: &str) -> Error {
    Error::InvalidParameter {
        name: "composite",
        value: format!("{rule} on layer {i}"),
        why: "a rule with input bounds (zB) only applies to the first layer".into(),
    }
}
