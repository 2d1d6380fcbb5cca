//! LRP-0 (Bach et al. 2015): relevance in proportion to the contributions.

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term};

/// LRP-0: `R_j = Σ_k a_j w_jk / z_k · R_k` with `z_k = Σ_j a_j w_jk + b_k` (0 where `z_k = 0`).
/// On a layer without bias it is Gradient×Input's rule: `R_j = a_j Σ_k w_jk g_k`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lrp0;

impl Rule for Lrp0 {
    fn name(&self) -> String {
        "lrp0".into()
    }

    fn propagation(&self) -> Propagation {
        let term = Term::new(Input::Activation, Modifier::Keep, Modifier::Keep);
        Propagation::Modified(Modified { groups: vec![Group::new(vec![term])], stabiliser: Stabiliser::NONE })
    }
}
