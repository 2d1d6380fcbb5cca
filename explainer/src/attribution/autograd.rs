//! The autograd engine: the sheet's trick run through candle's autograd.
//!
//! Every convolution and dense layer is replaced by its rule's `p · [z/p]_cst`
//! ([`Rule::forward`](crate::rules::Rule::forward)); ReLU is `x · [x > 0]_cst` (PyTorch's
//! mask, where candle's own ReLU backward lets the gradient through at 0); max-pools use
//! [`RoutedMaxPool`](crate::model::RoutedMaxPool), whose backward routes the gradient to
//! the argmax (candle 0.11.1's is wrong, see `model/max_pool.rs`). Then `f_class` is differentiated with
//! respect to the input and the bounds: Gradient×Input with the modified gradient.
//!
//! Slow (candle computes weight gradients too) and a reference for the explicit engine.

use candle_core::{Tensor, Var};

use super::explicit::{bounds_not_first, no_rule};
use crate::composite::LayerRules;
use crate::error::{Error, Result};
use crate::model::{Layer, Vgg};

// ANCHOR: autograd_engine
/// The logits, the first layer's inputs `[x, bounds…]` and the modified gradient at each.
pub(crate) fn modified_gradient(
    model: &Vgg,
    x: &Tensor,
    class: usize,
    rules: &LayerRules,
) -> Result<(Tensor, Vec<Tensor>, Vec<Tensor>)> {
    let x = Var::from_tensor(&x.detach())?;
    let mut leaves = vec![x.clone()];
    let mut h = x.as_tensor().clone();
    for (i, layer) in model.layers().iter().enumerate() {
        h = match layer {
            Layer::Relu => h.mul(&h.detach().gt(0.0)?.to_dtype(h.dtype())?)?,
            Layer::MaxPool2d(p) => p.forward_autograd(&h)?,
            Layer::Flatten => h.flatten_from(1)?,
            Layer::Dropout => h,
            Layer::Conv2d(_) | Layer::Linear(_) => {
                let affine = layer.affine().expect("convolutions and dense layers are affine");
                let rule = rules.get(i).cloned().flatten().ok_or_else(|| no_rule(i, layer))?;
                let bounds = rule.bounds(&h)?;
                if i > 0 && !bounds.is_empty() {
                    return Err(bounds_not_first(i, &rule.name()));
                }
                for b in bounds {
                    leaves.push(Var::from_tensor(&b)?);
                }
                let inputs: Vec<Tensor> =
                    if i == 0 { leaves.iter().map(|v| v.as_tensor().clone()).collect() } else { vec![h] };
                rule.forward(affine, &inputs)?
            }
        };
    }
    let logits = h;
    let grads = logits.narrow(1, class, 1)?.sum_all()?.backward()?;
    let inputs: Vec<Tensor> = leaves.iter().map(|v| v.as_tensor().detach()).collect();
    let gradients = leaves
        .iter()
        .map(|v| match grads.get(v.as_tensor()) {
            Some(g) => Ok(g.detach()),
            None => Ok(v.as_tensor().zeros_like()?),
        })
        .collect::<Result<Vec<_>>>()
        .map_err(|e: Error| e)?;
    Ok((logits.detach(), inputs, gradients))
}
// ANCHOR_END: autograd_engine
