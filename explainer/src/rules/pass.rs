//! Pass (zennit's `Pass`): relevance passes an elementwise layer unchanged.

use super::{Propagation, Rule};

/// Pass, for ReLU: `R_in = R_out`. In the engines' modified gradient this is the ReLU's own
/// mask: `R = a ⊙ g` is 0 wherever the ReLU is off, so masking `g` there changes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pass;

impl Rule for Pass {
    fn name(&self) -> String {
        "pass".into()
    }

    fn propagation(&self) -> Propagation {
        Propagation::Pass
    }
}
