//! LRP-γ (exercise 4, "next convolutions"; zennit's `Gamma`).

use candle_core::{Result, Tensor};

use super::{Rule, positive, ratio, reassign, single};
use crate::model::Affine;

/// LRP-γ: `R_j = Σ_k a_j (w_jk + γ w_jk⁺) / Σ_j a_j (w_jk + γ w_jk⁺) · R_k`.
///
/// Modified forward `p = (w + γw⁺)⋆a + (b + γb⁺)` (the bias as the LRP tutorial's
/// `newlayer`), reassigned `z ← p·[z/p]_cst`. γ = 0 is the plain gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    /// γ ≥ 0: how much positive contributions are favoured.
    pub gamma: f64,
}

// ANCHOR: gamma_rule
impl Gamma {
    /// LRP-γ with this γ (validated by [`crate::GammaSchedule`]).
    pub fn new(gamma: f64) -> Self {
        Self { gamma }
    }

    /// `θ + γθ⁺` for a weight or bias `θ`.
    fn modify(&self, theta: &Tensor) -> Result<Tensor> {
        theta.add(&positive(theta)?.affine(self.gamma, 0.0)?)
    }
}

impl Rule for Gamma {
    fn name(&self) -> String {
        format!("gamma({})", self.gamma)
    }

    fn forward(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<Tensor> {
        let a = single(self, inputs)?;
        let z = layer.apply(a, layer.weight(), Some(layer.bias()))?;
        let p = layer.apply(a, &self.modify(layer.weight())?, Some(&self.modify(layer.bias())?))?;
        reassign(&z, &p)
    }

    fn backward(&self, layer: &dyn Affine, inputs: &[Tensor], z: &Tensor, g: &Tensor) -> Result<Vec<Tensor>> {
        let a = single(self, inputs)?;
        let w = self.modify(layer.weight())?;
        let p = layer.apply(a, &w, Some(&self.modify(layer.bias())?))?;
        let s = g.mul(&ratio(z, &p)?)?;
        Ok(vec![layer.apply_transposed(&s, &w, a.shape())?])
    }
}
// ANCHOR_END: gamma_rule
