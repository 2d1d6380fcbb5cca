//! The explicit engine: the modified gradient computed layer by layer, without autograd.
//!
//! 1. Forward pass, keeping every layer's input and each max-pool's argmax.
//! 2. Backward from the one-hot gradient `g` of the explained class, layer by layer:
//!    - ReLU: `g ← g · [z > 0]` (PyTorch's mask; zennit's `Pass`);
//!    - max-pool: `g` routed to the recorded argmax (first maximum on ties, as PyTorch);
//!    - flatten, dropout: reshape, identity;
//!    - convolution, dense layer, average pool: its `Step`: the gradient `c = Wᵀ g`, or the
//!      generic LRP step (`ModifiedStep::backward`), whose terms give `c = Σ_k mask_k ⊙ c_k`
//!      (`mask` 1 for `a`, `[a > 0]` for `a⁺`, `[a < 0]` for `a⁻`).
//! 3. The relevance is `Σ_k input_k ⊙ c_k` over the first layer's inputs.
//!
//! Only input gradients are computed, on the kernels' fast paths (Winograd convolutions and
//! their adjoints, a convolution and its ReLU in one pass).

use std::time::{Duration, Instant};

use candle_core::Tensor;
use kernels::elementwise::{contiguous_part, update_in_place, zip_map};

use super::one_hot;
use super::step::{Contributions, Step};
use crate::error::Result;
use crate::model::{Layer, LayerKind, PreparedModel};
use crate::rules::Input;

// ANCHOR: explicit_forward
/// What the backward pass needs from the forward pass.
struct Trace {
    /// `values[v]`: the network input (`v = 0`) or the output of layer `v − 1`; the last entry
    /// is the logits. A convolution or dense layer followed by a ReLU runs together with it,
    /// so that its output is recorded rectified, `max(0, z)`: the ReLU's mask `[z > 0]` is the
    /// same, and the layer's rule sees `max(0, z)` for `z`, which equals `z` wherever the
    /// gradient coming down through the mask is not zero.
    values: Vec<Option<Tensor>>,
    /// Whether each value is known to be non-negative (after a ReLU).
    nonnegative: Vec<bool>,
    /// The argmax of each max-pool layer.
    argmax: Vec<Option<Tensor>>,
}

fn forward(network: &PreparedModel<'_>, x: &Tensor, on_step: &mut impl FnMut(StepTime)) -> Result<Trace> {
    let model = network.model();
    let layers = model.layers();
    let mut values = vec![Some(x.clone())];
    let mut nonnegative = vec![x.min_all()?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()? >= 0.0];
    let mut argmax = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let start = Instant::now();
        let reads = model.inputs(i);
        let xs = reads.iter().map(|&v| value(&values, v)).collect::<Result<Vec<_>>>()?;
        let rectified = i > 0 && network.fuses_relu(i - 1);
        let fused = network.fuses_relu(i);
        let (out, arg) = match (layer, xs.as_slice()) {
            (Layer::MaxPool2d(p), [h]) => {
                let (out, arg) = p.forward_with_argmax(h)?;
                (out, Some(arg))
            }
            (Layer::Relu, [h]) if rectified => ((*h).clone(), None),
            _ => (network.layer_forward(i, &xs, fused)?, None),
        };
        let read_nonnegative = reads.iter().all(|&v| nonnegative[v]);
        let keeps_sign = matches!(
            layer.kind(),
            LayerKind::MaxPool
                | LayerKind::AvgPool
                | LayerKind::Flatten
                | LayerKind::Dropout
                | LayerKind::Sum
        );
        nonnegative.push(matches!(layer, Layer::Relu) || fused || (keeps_sign && read_nonnegative));
        values.push(Some(out));
        argmax.push(arg);
        on_step(StepTime { layer: i, kind: layer.kind(), phase: Phase::Forward, time: start.elapsed() });
    }
    Ok(Trace { values, nonnegative, argmax })
}
// ANCHOR_END: explicit_forward

/// Value `v` of a pass, which must still be held.
fn value(values: &[Option<Tensor>], v: usize) -> Result<&Tensor> {
    values.get(v).and_then(Option::as_ref).ok_or_else(|| crate::Error::InvalidParameter {
        name: "model",
        value: format!("value {v}"),
        why: "is read after it was dropped (the layers are not in a topological order)".into(),
    })
}

/// The logits and the first layer's contributions (inputs and the modified gradient at each).
pub(crate) fn modified_gradient(
    network: &PreparedModel<'_>,
    steps: &[Step],
    x: &Tensor,
    class: usize,
) -> Result<(Tensor, Contributions)> {
    timed_modified_gradient(network, steps, x, class, &mut |_| {})
}

// ANCHOR: explicit_backward
/// [`modified_gradient`], calling `on_step` after every step. The layers run in reverse; the
/// modified gradient at a value read by several layers (a residual block's input) is the sum
/// of what each gives it, so that the relevance there, `a ⊙ g`, is the sum of theirs.
fn timed_modified_gradient(
    network: &PreparedModel<'_>,
    steps: &[Step],
    x: &Tensor,
    class: usize,
    on_step: &mut impl FnMut(StepTime),
) -> Result<(Tensor, Contributions)> {
    let model = network.model();
    let layers = model.layers();
    let Trace { mut values, nonnegative, argmax } = forward(network, x, on_step)?;
    let logits = value(&values, layers.len())?.clone();
    let mut grads: Vec<Option<Tensor>> = vec![None; layers.len() + 1];
    grads[layers.len()] = Some(one_hot(&logits, class)?);
    for (i, layer) in layers.iter().enumerate().rev() {
        let start = Instant::now();
        // Every reader of layer i's output has run: its gradient is complete, its value done.
        let z = values[i + 1].take().ok_or_else(|| no_layers(network))?;
        let Some(g) = grads[i + 1].take() else { continue };
        let reads = model.inputs(i);
        if let Layer::Sum = layer {
            let s = match &steps[i] {
                Step::Gradient => g,
                Step::Modified(step) => step.sum_ratio(&z, &g)?,
            };
            // Each input gets its own copy: later steps write gradients in place.
            for (k, &v) in reads.iter().enumerate() {
                let part = if k + 1 == reads.len() { s.clone() } else { s.copy()? };
                accumulate(&mut grads[v], part)?;
            }
            on_step(StepTime { layer: i, kind: layer.kind(), phase: Phase::Backward, time: start.elapsed() });
            continue;
        }
        let read = reads[0];
        let a = value(&values, read)?.clone();
        let contributions = match (layer, &steps[i]) {
            (Layer::Relu, _) => vec![(Input::Activation, a.clone(), relu_mask(&a, g)?)],
            (Layer::MaxPool2d(p), _) => {
                let arg = argmax[i].as_ref().ok_or_else(|| no_layers(network))?;
                vec![(Input::Activation, a.clone(), p.route(&g, arg, a.shape())?)]
            }
            (Layer::Flatten, _) => vec![(Input::Activation, a.clone(), g.reshape(a.shape())?)],
            (Layer::Dropout | Layer::Sum, _) => vec![(Input::Activation, a.clone(), g)],
            (Layer::BatchNorm2d(b), _) => vec![(Input::Activation, a.clone(), b.transposed(&g)?)],
            (_, Step::Gradient) => {
                let kernel = network.kernel(i).ok_or_else(|| no_layers(network))?;
                vec![(Input::Activation, a.clone(), kernel.transposed(&g, a.shape())?)]
            }
            (_, Step::Modified(step)) => {
                step.backward(network, i, &a, nonnegative[read], &z, nonnegative[i + 1], &g)?
            }
        };
        on_step(StepTime { layer: i, kind: layer.kind(), phase: Phase::Backward, time: start.elapsed() });
        if read == 0 {
            // The network input's one reader: its contributions are the answer.
            return Ok((logits, contributions));
        }
        if contributions.iter().any(|(input, _, _)| replaces_the_input(input)) {
            // The first layer with parameters, behind only reshaping layers (a dense network's
            // flatten): its contributions, shaped as the network's input, are the answer.
            return Ok((logits, shaped_as(contributions, x, network, i)?));
        }
        let g_in = gradient_at_input(&a, contributions)?;
        accumulate(&mut grads[read], g_in)?;
    }
    Err(no_layers(network))
}
// ANCHOR_END: explicit_backward

/// `slot ← slot + part` (or `part` when empty).
fn accumulate(slot: &mut Option<Tensor>, part: Tensor) -> Result<()> {
    *slot = Some(match slot.take() {
        Some(sum) => sum.add(&part)?,
        None => part,
    });
    Ok(())
}

/// Whether a term reads something other than the activation (zB's bounds, ones).
fn replaces_the_input(input: &Input) -> bool {
    matches!(input, Input::Ones | Input::PerChannel(_))
}

/// `contributions` of layer `layer` reshaped to the network input `x`'s shape, if only reshaping
/// layers (flatten, dropout) come before it.
pub(crate) fn shaped_as(
    contributions: Contributions,
    x: &Tensor,
    network: &PreparedModel<'_>,
    layer: usize,
) -> Result<Contributions> {
    let reshaping =
        network.model().layers()[..layer].iter().all(|l| matches!(l, Layer::Flatten | Layer::Dropout));
    if !reshaping {
        return Err(crate::Error::InvalidParameter {
            name: "composite",
            value: network.model().layer_names()[layer].clone(),
            why: "a rule that replaces the input applies to the first layer only".into(),
        });
    }
    contributions
        .into_iter()
        .map(|(input, read, c)| Ok((input, read.reshape(x.shape())?, c.reshape(x.shape())?)))
        .collect()
}

/// The modified gradient at a layer's input `a` from its contributions: `Σ_k mask_k ⊙ c_k`
/// with `mask` 1 for `a` (and for `a⁺` when `a ≥ 0`, where it was read as `a`), `[a > 0]` for
/// `a⁺`, `[a < 0]` for `a⁻`, so that `a ⊙ c` is the relevance `Σ_k a_k ⊙ c_k`.
fn gradient_at_input(a: &Tensor, contributions: Contributions) -> Result<Tensor> {
    let mut sum: Option<Tensor> = None;
    for (input, read, c) in contributions {
        let part = match input {
            Input::Activation => c,
            // Read as `a` itself when `a ≥ 0`: then `a⁺ ⊙ c = a ⊙ c`.
            Input::Positive if read.id() == a.id() => c,
            Input::Positive => relu_mask(a, c)?,
            Input::Negative => zip_map(
                [a, &c],
                |[a, c]| if a < 0.0 { c } else { 0.0 },
                |[a, c]| {
                    if a < 0.0 { c } else { 0.0 }
                },
            )?,
            Input::Ones | Input::PerChannel(_) => {
                return Err(crate::Error::InvalidParameter {
                    name: "composite",
                    value: format!("{input:?}"),
                    why: "a rule that replaces the input applies to the first layer only".into(),
                });
            }
        };
        sum = Some(match sum {
            Some(s) => s.add(&part)?,
            None => part,
        });
    }
    Ok(sum.unwrap_or(a.zeros_like()?))
}

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
    /// Index of the layer in [`crate::model::Network::layers`].
    pub layer: usize,
    /// Its kind.
    pub kind: LayerKind,
    /// Forward or backward.
    pub phase: Phase,
    /// How long the step took.
    pub time: Duration,
}

/// The steps of one explicit pass (the modified gradient of `class` at `x`), in the order they
/// ran, with their wall times: where an explanation spends its time.
pub(crate) fn profile_steps(
    network: &PreparedModel<'_>,
    steps: &[Step],
    x: &Tensor,
    class: usize,
) -> Result<Vec<StepTime>> {
    let mut times = Vec::new();
    timed_modified_gradient(network, steps, x, class, &mut |s| times.push(s))?;
    Ok(times)
}

/// `g` where `a > 0`, else 0 (PyTorch's ReLU mask), written over `g` when `g` is contiguous
/// (every gradient the engine holds is its own), else into a new tensor. The selection masks
/// the bits of `g`: the signs of `a` are random, so a branch would be mispredicted half the time.
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

fn no_layers(network: &PreparedModel<'_>) -> crate::Error {
    crate::Error::InvalidParameter {
        name: "model",
        value: network.model().name().to_owned(),
        why: "has no layers, or its pass recorded fewer values than it has layers".into(),
    }
}
