//! LRP-ε (zennit's `Epsilon`): the denominator stabilised away from zero.

use candle_core::{Result, Tensor};

use super::{Rule, ratio, scaled_ratio, single};
use crate::model::Affine;

/// LRP-ε: `R_j = Σ_k a_j w_jk / (z_k + ε·sign(z_k)) · R_k`, with `sign(0) = 1` as zennit.
///
/// `p = z + ε·sign(z)`, the stabiliser held constant, so `c = Wᵀ (g · z/p)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epsilon {
    /// ε > 0.
    pub epsilon: f64,
}

impl Epsilon {
    /// `p = z + ε·sign(z)`.
    fn stabilise(&self, z: &Tensor) -> Result<Tensor> {
        let sign = z.ge(&z.zeros_like()?)?.to_dtype(z.dtype())?.affine(2.0, -1.0)?;
        z.add(&sign.affine(self.epsilon, 0.0)?)
    }
}

impl Rule for Epsilon {
    fn name(&self) -> String {
        format!("epsilon({})", self.epsilon)
    }

    fn forward(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<Tensor> {
        let z = layer.apply(single(self, inputs)?, layer.weight(), Some(layer.bias()))?;
        let stabiliser = self.stabilise(&z.detach())?.sub(&z.detach())?;
        let p = z.add(&stabiliser)?;
        p.mul(&ratio(&z.detach(), &p.detach())?.detach())
    }

    fn backward(&self, layer: &dyn Affine, inputs: &[Tensor], z: &Tensor, g: &Tensor) -> Result<Vec<Tensor>> {
        let a = single(self, inputs)?;
        let s = scaled_ratio(g, z, &self.stabilise(z)?)?;
        Ok(vec![layer.apply_transposed(&s, layer.weight(), a.shape())?])
    }
}
