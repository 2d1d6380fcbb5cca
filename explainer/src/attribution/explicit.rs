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
//! Only input gradients are computed (autograd would also compute every weight gradient), and
//! the layers run their fast paths (Winograd convolutions and their adjoints, a convolution
//! and its ReLU in one pass).
//!
//! [`profile`] runs the same pass and reports the wall time of every step.

use std::time::{Duration, Instant};

use candle_core::Tensor;

use super::one_hot;
use crate::composite::LayerRules;
use crate::error::{Error, Result};
use crate::model::elementwise::{contiguous_part, update_in_place, zip_map};
use crate::model::{Layer, Vgg};

// ANCHOR: explicit_forward
/// What the backward pass needs from the forward pass.
struct Trace {
    /// `values[i]` is the input of layer `i`; the last entry is the logits. A convolution or
    /// dense layer followed by a ReLU runs together with it
    /// ([`forward_relu`](crate::model::Affine::forward_relu)), so that ReLU's input is
    /// recorded rectified, `max(0, z)`: its mask `[z > 0]` is the same, and the layer's rule
    /// sees `max(0, z)` for `z`, which equals `z` wherever the gradient coming down through
    /// the mask is not zero.
    values: Vec<Tensor>,
    /// The argmax of each max-pool layer.
    argmax: Vec<Option<Tensor>>,
}

fn forward(model: &Vgg, x: &Tensor, on_step: &mut impl FnMut(StepTime)) -> Result<Trace> {
    let layers = model.layers();
    let mut values = vec![x.clone()];
    let mut argmax = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let start = Instant::now();
        let h = values.last().expect("the input is recorded");
        let rectified = i > 0 && layers[i - 1].affine().is_some();
        let (out, arg) = match (layer, layer.affine(), layers.get(i + 1)) {
            (Layer::MaxPool2d(p), _, _) => {
                let (out, arg) = p.forward_with_argmax(h)?;
                (out, Some(arg))
            }
            (Layer::Relu, _, _) if rectified => (h.clone(), None),
            (_, Some(affine), Some(Layer::Relu)) => (affine.forward_relu(h)?, None),
            (layer, _, _) => (layer.forward(h)?, None),
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
            Layer::Relu => g = relu_mask(&a, g)?,
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

/// `g` where `a > 0`, else 0 (PyTorch's ReLU mask), written over `g` when `g` is contiguous
/// (every gradient the engine holds is its own: made by a rule, a routing or a reshape of
/// one), else into a new tensor. The selection masks the bits of `g`: the signs of `a` are
/// random, so a branch would be mispredicted half the time.
fn relu_mask(a: &Tensor, g: Tensor) -> candle_core::Result<Tensor> {
    // candle refuses (before writing) when `a` shares `g`'s storage.
    let fits = g.is_contiguous() && a.shape() == g.shape() && a.dtype() == g.dtype();
    if fits && g.inplace_op2(&a.contiguous()?, &ReluMask).is_ok() {
        return Ok(g);
    }
    zip_map([a, &g], |[a, g]| mask32(a, g), |[a, g]| mask64(a, g))
}

fn mask32(a: f32, g: f32) -> f32 {
    f32::from_bits(g.to_bits() & u32::from(a > 0.0).wrapping_neg())
}

fn mask64(a: f64, g: f64) -> f64 {
    f64::from_bits(g.to_bits() & u64::from(a > 0.0).wrapping_neg())
}

/// [`relu_mask`] in place, the first tensor being `g`.
struct ReluMask;

impl candle_core::InplaceOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "relu-mask"
    }

    fn cpu_fwd(
        &self,
        g: &mut candle_core::CpuStorage,
        g_layout: &candle_core::Layout,
        a: &candle_core::CpuStorage,
        a_layout: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        use candle_core::CpuStorage::{F32, F64};
        let range = g_layout.contiguous_offsets();
        let Some((g0, g1)) = range else { candle_core::bail!("relu-mask needs contiguous tensors") };
        match (g, a) {
            (F32(g), F32(a)) => {
                update_in_place(&mut g[g0..g1], [contiguous_part(a, a_layout)?], |g, [a]| mask32(a, g))
            }
            (F64(g), F64(a)) => {
                update_in_place(&mut g[g0..g1], [contiguous_part(a, a_layout)?], |g, [a]| mask64(a, g))
            }
            _ => candle_core::bail!("relu-mask needs two f32 or two f64 tensors"),
        }
        Ok(())
    }
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
