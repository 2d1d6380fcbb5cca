//! The plain gradient: the layer left as it is.

use super::{Propagation, Rule};

// ANCHOR: gradient_rule
/// The gradient rule: `c = Wᵀ g`, the layer's own backward pass. On every layer it gives the
/// gradient (and Gradient×Input); the sheet's composite uses it on the dense layers. Where a
/// layer's output `z ≠ 0` it equals LRP-0: `a ⊙ Wᵀ(R/z)` with `R = z ⊙ g`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GradientRule;

impl Rule for GradientRule {
    fn name(&self) -> String {
        "gradient".into()
    }

    fn propagation(&self) -> Propagation {
        Propagation::Gradient
    }
}
// ANCHOR_END: gradient_rule
