//! The plain gradient rule (zennit's `Pass`/`Gradient`): the layer is left as it is.

use candle_core::{Result, Tensor};

use super::{Rule, single};
use crate::model::Affine;

/// The layer unchanged: `p = z`, so the modified gradient is the gradient, `c = Wᵀ g`.
/// The sheet's composite uses it on the dense layers; on every layer it gives Gradient×Input.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pass;

// ANCHOR: pass_rule
impl Rule for Pass {
    fn name(&self) -> String {
        "pass".into()
    }

    fn forward(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<Tensor> {
        layer.apply(single(self, inputs)?, layer.weight(), Some(layer.bias()))
    }

    fn backward(
        &self,
        layer: &dyn Affine,
        inputs: &[Tensor],
        _z: &Tensor,
        g: &Tensor,
    ) -> Result<Vec<Tensor>> {
        Ok(vec![layer.apply_transposed(g, layer.weight(), single(self, inputs)?.shape())?])
    }
}
// ANCHOR_END: pass_rule
