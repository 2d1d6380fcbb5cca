//! Norm (zennit's `Norm`): relevance through a pooling layer, split by contribution.

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term};

/// Norm: `R_j = Σ_k a_j w_jk / stab(z_k) · R_k` with the layer's parameters unmodified; on an
/// average pool (`w_jk = 1/|bin k|`) each input gets its share of its bin's mean. The same
/// step as LRP-ε, with ε only a stabiliser (10⁻⁶). zennit applies it to every average pool,
/// also where the pool is the identity (VGG's at 224×224): then `R ← R · z/(z + ε·sign z)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Norm {
    stabiliser: Stabiliser,
}

impl Norm {
    /// Norm with this stabiliser.
    pub fn new(stabiliser: Stabiliser) -> Self {
        Self { stabiliser }
    }
}

impl Default for Norm {
    fn default() -> Self {
        Self::new(Stabiliser::DEFAULT)
    }
}

impl Rule for Norm {
    fn name(&self) -> String {
        "norm".into()
    }

    fn propagation(&self) -> Propagation {
        let term = Term::new(Input::Activation, Modifier::Keep, Modifier::Keep);
        Propagation::Modified(Modified { groups: vec![Group::new(vec![term])], stabiliser: self.stabiliser })
    }
}
