//! The z⁺ rule (Montavon et al. 2017; zennit's `ZPlus`).

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term};

/// z⁺: only positive contributions count,
/// `R_j = Σ_k (a_j⁺ w_jk⁺ + a_j⁻ w_jk⁻) / stab(Σ_j (a_j⁺ w_jk⁺ + a_j⁻ w_jk⁻) + b_k⁺) · R_k`.
/// For inputs after a ReLU it is Deep Taylor's z⁺ rule; it equals αβ with α = 1, β = 0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ZPlus {
    stabiliser: Stabiliser,
}

impl ZPlus {
    /// z⁺ with this stabiliser.
    pub fn new(stabiliser: Stabiliser) -> Self {
        Self { stabiliser }
    }
}

impl Rule for ZPlus {
    fn name(&self) -> String {
        "zplus".into()
    }

    fn propagation(&self) -> Propagation {
        let group = Group::new(vec![
            Term::new(Input::Positive, Modifier::Positive, Modifier::Positive),
            Term::new(Input::Negative, Modifier::Negative, Modifier::Zero),
        ]);
        Propagation::Modified(Modified { groups: vec![group], stabiliser: self.stabiliser })
    }
}
