//! LRP-γ (exercise 4, "next convolutions"; zennit's `Gamma`).

use candle_core::{Result, Tensor};

use super::{Rule, positive, reassign, scaled_ratio_over, single};
use crate::model::Affine;
use crate::model::elementwise::zip_map;

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

    /// `θ + γθ⁺` for a weight or bias `θ`, for the autograd engine (differentiable).
    fn modify(&self, theta: &Tensor) -> Result<Tensor> {
        theta.add(&positive(theta)?.affine(self.gamma, 0.0)?)
    }

    /// [`Gamma::modify`]'s values in one pass instead of three candle ops (17 ms for a
    /// 512×512×3×3 kernel), with the same arithmetic (`relu` is `max(0)`, `affine` rounds γ to the dtype).
    fn modify_fused(&self, theta: &Tensor) -> Result<Tensor> {
        let (g32, g64) = (self.gamma as f32, self.gamma);
        zip_map([theta], |[t]| t + (t.max(0.0) * g32 + 0.0), |[t]| t + (t.max(0.0) * g64 + 0.0))
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
        let key = format!("gamma {:e}", self.gamma);
        let w = layer.derived_weight(&key, &|w| self.modify_fused(w))?;
        let p = layer.apply(a, &w, Some(&self.modify_fused(layer.bias())?))?;
        let s = scaled_ratio_over(p, g, z)?;
        Ok(vec![layer.apply_transposed(&s, &w, a.shape())?])
    }
}
// ANCHOR_END: gamma_rule
