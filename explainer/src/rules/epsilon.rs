//! LRP-ε (Bach et al. 2015; zennit's `Epsilon`): LRP-0 with the denominator pushed away from 0.

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term, invalid};
use crate::error::Result;

/// LRP-ε: `R_j = Σ_k a_j w_jk / (z_k + ε·sign(z_k)) · R_k`, `sign(0) = 1` as zennit. The ε
/// absorbs some relevance: weak, contradictory contributions are explained less. Used on the
/// dense layers by every zennit preset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epsilon {
    epsilon: Stabiliser,
}

impl Epsilon {
    /// LRP-ε with `ε > 0`, finite (`ε = 0` is [`super::Lrp0`]).
    pub fn new(epsilon: f64) -> Result<Self> {
        if epsilon.is_nan() || epsilon <= 0.0 {
            return Err(invalid("epsilon", epsilon, "ε must be > 0 (ε = 0 is the rule LRP-0)"));
        }
        Ok(Self { epsilon: Stabiliser::new(epsilon)? })
    }

    /// ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon.epsilon()
    }
}

impl Default for Epsilon {
    /// zennit's default, `ε = 10⁻⁶`.
    fn default() -> Self {
        Self { epsilon: Stabiliser::DEFAULT }
    }
}

impl Rule for Epsilon {
    fn name(&self) -> String {
        format!("epsilon({:?})", self.epsilon())
    }

    fn propagation(&self) -> Propagation {
        let term = Term::new(Input::Activation, Modifier::Keep, Modifier::Keep);
        Propagation::Modified(Modified { groups: vec![Group::new(vec![term])], stabiliser: self.epsilon })
    }
}
