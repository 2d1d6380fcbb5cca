//! The αβ rule (Bach et al. 2015; zennit's `AlphaBeta`).

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term, invalid};
use crate::error::Result;

/// αβ: positive and negative contributions normalised separately and weighted `α` and `−β`,
///
/// ```text
/// R_j = Σ_k ( α (a_j⁺w_jk⁺ + a_j⁻w_jk⁻) / stab(p_k⁺) − β (a_j⁺w_jk⁻ + a_j⁻w_jk⁺) / stab(p_k⁻) ) R_k
/// p_k⁺ = Σ_j (a_j⁺w_jk⁺ + a_j⁻w_jk⁻) + b_k⁺,   p_k⁻ = Σ_j (a_j⁺w_jk⁻ + a_j⁻w_jk⁺) + b_k⁻
/// ```
///
/// with `α − β = 1`, so that relevance is conserved where both parts are non-zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaBeta {
    alpha: f64,
    beta: f64,
    stabiliser: Stabiliser,
}

impl AlphaBeta {
    /// αβ with `α − β = 1` (to 1e-12) and `β ≥ 0`, both finite; zennit's stabiliser 10⁻⁶.
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        if !alpha.is_finite() || !beta.is_finite() {
            return Err(invalid("alpha", alpha, "α and β must be finite"));
        }
        if beta < 0.0 {
            return Err(invalid("beta", beta, "β must be ≥ 0"));
        }
        if ((alpha - beta) - 1.0).abs() > 1e-12 {
            return Err(invalid("alpha", alpha, &format!("α − β must be 1 (β = {beta})")));
        }
        Ok(Self { alpha, beta, stabiliser: Stabiliser::DEFAULT })
    }

    /// α = 2, β = 1 (zennit's `epsilon_alpha2_beta1` presets).
    pub fn alpha2_beta1() -> Self {
        Self { alpha: 2.0, beta: 1.0, stabiliser: Stabiliser::DEFAULT }
    }

    /// α = 1, β = 0 (z⁺ for non-negative inputs).
    pub fn alpha1_beta0() -> Self {
        Self { alpha: 1.0, beta: 0.0, stabiliser: Stabiliser::DEFAULT }
    }

    /// The same rule with another stabiliser.
    pub fn with_stabiliser(self, stabiliser: Stabiliser) -> Self {
        Self { stabiliser, ..self }
    }

    /// α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl Rule for AlphaBeta {
    fn name(&self) -> String {
        format!("alpha{:?}_beta{:?}", self.alpha, self.beta)
    }

    fn propagation(&self) -> Propagation {
        use Modifier::{Negative, Positive, Zero};
        let group = |factor, w_pos: Modifier, w_neg: Modifier| Group {
            terms: vec![Term::new(Input::Positive, w_pos, w_pos), Term::new(Input::Negative, w_neg, Zero)],
            factor,
            outputs: super::Outputs::All,
        };
        Propagation::Modified(Modified {
            groups: vec![group(self.alpha, Positive, Negative), group(-self.beta, Negative, Positive)],
            stabiliser: self.stabiliser,
        })
    }
}
