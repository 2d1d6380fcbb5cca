//! The flat rule (Lapuschkin et al. 2019; zennit's `Flat`), for the input layer.

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term};

/// Flat: every input in a receptive field gets the same share, whatever its value and weight:
/// `R_i = Σ_j 1 / stab(Σ_i' 1) · R_j`, the sums over the receptive field of output `j` (zero
/// padding counts as outside). The input is replaced by ones and the weights by ones, the
/// bias by 0. A rule of the input layer: it does not look at the input at all.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flat {
    stabiliser: Stabiliser,
}

impl Flat {
    /// Flat with this stabiliser.
    pub fn new(stabiliser: Stabiliser) -> Self {
        Self { stabiliser }
    }
}

impl Rule for Flat {
    fn name(&self) -> String {
        "flat".into()
    }

    fn propagation(&self) -> Propagation {
        let term = Term::new(Input::Ones, Modifier::Ones, Modifier::Zero);
        Propagation::Modified(Modified { groups: vec![Group::new(vec![term])], stabiliser: self.stabiliser })
    }
}
