//! LRP-γ (Montavon et al. 2019; zennit's generalised `Gamma`).

use super::{Group, Input, Modified, Modifier, Outputs, Propagation, Rule, Stabiliser, Term, invalid};
use crate::error::Result;

/// LRP-γ: positive contributions favoured by γ. For non-negative inputs (after a ReLU) and a
/// positive output `z_k`,
///
/// ```text
/// R_j = Σ_k a_j (w_jk + γ w_jk⁺) / stab(Σ_j a_j (w_jk + γ w_jk⁺) + b_k + γ b_k⁺) · R_k
/// ```
///
/// the sheet's rule (exercise 4). As zennit's generalised rule it also explains negative
/// outputs (with `w + γw⁻`, favouring the negative contributions that made them) and negative
/// inputs (`a⁻` pairs with the other modified weight, without bias):
///
/// ```text
/// z_k > 0:  p_k = (W + γW⁺) a⁺ + (W + γW⁻) a⁻ + b + γb⁺
/// z_k < 0:  p_k = (W + γW⁻) a⁺ + (W + γW⁺) a⁻ + b + γb⁻
/// ```
///
/// Behind a ReLU no relevance reaches a negative output, so only the first line acts, and with
/// [`Stabiliser::NONE`] that is the sheet's `ConvGamma` exactly. γ = 0 is LRP-0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    gamma: f64,
    stabiliser: Stabiliser,
}

impl Gamma {
    /// LRP-γ with `γ ≥ 0`, finite, and zennit's stabiliser 10⁻⁶.
    pub fn new(gamma: f64) -> Result<Self> {
        if !gamma.is_finite() || gamma < 0.0 {
            return Err(invalid("gamma", gamma, "γ must be finite and ≥ 0"));
        }
        Ok(Self { gamma, stabiliser: Stabiliser::DEFAULT })
    }

    /// LRP-γ for a γ already checked (a [`crate::GammaSchedule`]'s).
    pub(crate) fn from_valid(gamma: f64) -> Self {
        Self { gamma, stabiliser: Stabiliser::DEFAULT }
    }

    /// The same rule with another stabiliser ([`Stabiliser::NONE`] for the sheet's).
    pub fn with_stabiliser(self, stabiliser: Stabiliser) -> Self {
        Self { stabiliser, ..self }
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

// ANCHOR: gamma_rule
impl Rule for Gamma {
    fn name(&self) -> String {
        format!("gamma({:?})", self.gamma)
    }

    fn propagation(&self) -> Propagation {
        let (up, down) = (Modifier::AddPositive(self.gamma), Modifier::AddNegative(self.gamma));
        let group = |favoured: Modifier, other: Modifier, outputs| Group {
            terms: vec![
                Term::new(Input::Positive, favoured, favoured),
                Term::new(Input::Negative, other, Modifier::Zero),
            ],
            factor: 1.0,
            outputs,
        };
        Propagation::Modified(Modified {
            groups: vec![group(up, down, Outputs::Positive), group(down, up, Outputs::Negative)],
            stabiliser: self.stabiliser,
        })
    }
}
// ANCHOR_END: gamma_rule
