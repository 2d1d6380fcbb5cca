//! The w² rule (Montavon et al. 2017; zennit's `WSquare`), for unbounded inputs.

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term};

/// w²: relevance in proportion to the squared weights, whatever the input's value:
/// `R_i = Σ_j w_ij² / stab(Σ_i' w_i'j² + b_j²) · R_j`. As zennit, the bias is squared too
/// (not zeroed). A rule of the input layer (Deep Taylor with the root point search in ℝᵈ).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WSquare {
    stabiliser: Stabiliser,
}

impl WSquare {
    /// w² with this stabiliser.
    pub fn new(stabiliser: Stabiliser) -> Self {
        Self { stabiliser }
    }
}

impl Rule for WSquare {
    fn name(&self) -> String {
        "wsquare".into()
    }

    fn propagation(&self) -> Propagation {
        let term = Term::new(Input::Ones, Modifier::Square, Modifier::Square);
        Propagation::Modified(Modified { groups: vec![Group::new(vec![term])], stabiliser: self.stabiliser })
    }
}
