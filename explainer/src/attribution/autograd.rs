//! The autograd engine: the sheet's trick, generalised, through candle's autograd.
//!
//! Every layer with a modified step is replaced by `[z]_cst + y − [y]_cst` with
//! `y = Σ_G p_G · [f_G · sel_G(z) · z / stab(p_G)]_cst`: its value is the layer's output `z`,
//! and its gradient `Σ_G ∂p_G/∂aᵀ (g · f_G · sel_G(z) · z/stab(p_G))` is the rule's (for one
//! group with `f = 1` and no stabiliser it is the sheet's `p · [z/p]_cst`). ReLU is
//! `x · [x > 0]_cst` (PyTorch's mask); max-pools route their gradient to the argmax
//! ([`crate::model::RoutedMaxPool`]). Then `f_class` is differentiated with respect to the
//! input and the first layer's extra inputs (zB's bounds, flat's ones).
//!
//! Slow (candle computes weight gradients too) and a reference for the explicit engine.

use candle_core::{Tensor, Var};

use super::ratio::Ratio;
use super::step::{Contributions, Step, modified, per_channel};
use crate::error::{Error, Result};
use crate::model::{Layer, PreparedModel};
use crate::rules::Input;

// ANCHOR: autograd_engine
/// The logits and the first layer's contributions (inputs and the modified gradient at each).
pub(crate) fn modified_gradient(
    network: &PreparedModel<'_>,
    steps: &[Step],
    x: &Tensor,
    class: usize,
) -> Result<(Tensor, Contributions)> {
    let x = Var::from_tensor(&x.detach())?;
    // The leaves: x, and the inputs the first layer's rule reads instead (bounds, ones).
    let mut leaves: Vec<(Input, Var)> = vec![(Input::Activation, x.clone())];
    let model = network.model();
    let mut values: Vec<Tensor> = vec![x.as_tensor().clone()];
    for (i, layer) in model.layers().iter().enumerate() {
        let reads: Vec<&Tensor> = model.inputs(i).iter().map(|&v| &values[v]).collect();
        let out = match (layer, &steps[i], reads.as_slice()) {
            (Layer::Sum, step, [first, rest @ ..]) => {
                let sum = rest.iter().try_fold((*first).clone(), |sum, x| sum.add(x))?;
                match step {
                    Step::Gradient => sum,
                    Step::Modified(m) => norm(sum, m.epsilon())?,
                }
            }
            (_, _, [h]) => layer_autograd(layer, &steps[i], h, &mut leaves, i)?,
            _ => return Err(missing(i)),
        };
        values.push(out);
    }
    let logits = values.pop().ok_or_else(|| missing(0))?;
    let grads = logits.narrow(1, class, 1)?.sum_all()?.backward()?;
    let contributions = leaves
        .into_iter()
        .map(|(input, v)| {
            let g = match grads.get(v.as_tensor()) {
                Some(g) => g.detach(),
                None => v.as_tensor().zeros_like()?,
            };
            // Leaves made behind a flatten (a dense first layer) take the input's shape.
            let shape = x.as_tensor().shape();
            Ok((input, v.as_tensor().detach().reshape(shape)?, g.reshape(shape)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((logits.detach(), contributions))
}
// ANCHOR_END: autograd_engine

/// `[z]_cst + y − [y]_cst` with `y = x · [z/stab(z)]_cst`, `z = x` (Norm on a layer
/// without parameters): the value `z`, the gradient `g·z/stab(z)` (the identity rule).
fn norm(x: Tensor, epsilon: f64) -> Result<Tensor> {
    let ratio = Ratio { factor: 1.0, outputs: crate::rules::Outputs::All, epsilon };
    let z = x.detach();
    let scale = ratio.new_tensor(&z, &z.ones_like()?, &z)?;
    let y = x.mul(&scale)?;
    Ok(z.add(&y.sub(&y.detach())?)?)
}

/// Layer `index` (which reads one value, `h`) with its step, differentiable.
fn layer_autograd(
    layer: &Layer,
    step: &Step,
    h: &Tensor,
    leaves: &mut Vec<(Input, Var)>,
    index: usize,
) -> Result<Tensor> {
    let h = h.clone();
    Ok(match (layer, step) {
        (Layer::Relu, _) => h.mul(&h.detach().gt(0.0)?.to_dtype(h.dtype())?)?,
        (Layer::MaxPool2d(p), _) => p.forward_autograd(&h)?,
        (Layer::Flatten, _) => h.flatten_from(1)?,
        (Layer::Dropout | Layer::Sum, _) => h,
        (Layer::BatchNorm2d(b), _) => b.forward(&h)?,
        (Layer::AvgPool2d(p), step) => {
            let pooled = p.forward_differentiable(&h)?;
            match step {
                Step::Gradient => pooled,
                Step::Modified(m) => norm(pooled, m.epsilon())?,
            }
        }
        (Layer::Conv2d(_) | Layer::Linear(_), Step::Gradient) => {
            let affine = layer.affine().ok_or_else(|| missing(index))?;
            affine.apply(&h, affine.weight(), Some(affine.bias()))?
        }
        (Layer::Conv2d(_) | Layer::Linear(_), Step::Modified(step)) => {
            let affine = layer.affine().ok_or_else(|| missing(index))?;
            let z = affine.apply(&h, affine.weight(), Some(affine.bias()))?.detach();
            let mut y: Option<Tensor> = None;
            for group in &step.spec.groups {
                let mut p: Option<Tensor> = None;
                for term in &group.terms {
                    let input = match &term.input {
                        Input::Activation => h.clone(),
                        Input::Positive => h.relu()?,
                        Input::Negative => h.sub(&h.relu()?)?,
                        extra => leaf(leaves, extra, &h)?,
                    };
                    let w = modified(affine.weight(), term.weight, term.sign)?;
                    let b = modified(affine.bias(), term.bias, term.sign)?;
                    let out = affine.apply(&input, &w, Some(&b))?;
                    p = Some(match p {
                        Some(p) => p.add(&out)?,
                        None => out,
                    });
                }
                let Some(p) = p else { continue };
                let ratio = Ratio { factor: group.factor, outputs: group.outputs, epsilon: step.epsilon() };
                let scale = ratio.new_tensor(&p.detach(), &z.ones_like()?, &z)?;
                let term = p.mul(&scale)?;
                y = Some(match y {
                    Some(y) => y.add(&term)?,
                    None => term,
                });
            }
            match y {
                Some(y) => z.add(&y.sub(&y.detach())?)?,
                None => z,
            }
        }
    })
}

/// The leaf for an input the first layer's rule reads instead of the activation, made once.
fn leaf(leaves: &mut Vec<(Input, Var)>, input: &Input, like: &Tensor) -> Result<Tensor> {
    if let Some((_, v)) = leaves.iter().find(|(i, _)| i == input) {
        return Ok(v.as_tensor().clone());
    }
    let value = match input {
        Input::Ones => like.ones_like()?,
        Input::PerChannel(values) => per_channel(values, like)?,
        _ => return Err(missing(0)),
    };
    let v = Var::from_tensor(&value)?;
    leaves.push((input.clone(), v.clone()));
    Ok(v.as_tensor().clone())
}

fn missing(i: usize) -> Error {
    Error::InvalidParameter { name: "model", value: format!("layer {i}"), why: "has no parameters".into() }
}
