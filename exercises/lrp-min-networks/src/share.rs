//! The share of the relevance that goes to `a1`, `R_1 / (R_1 + R_2)`, anywhere in the plane.

use crate::error::Result;
use crate::lrp_gamma::LrpGamma;
use crate::network::Network;

// ANCHOR: share
/// `R_1 / (R_1 + R_2)` for a two-input network at `(a1, a2)` under `rule`.
///
/// Returns `Ok(None)` where `R_1 + R_2 = 0` (for the min-networks on `a1, a2 ≥ 0`: exactly
/// where `y = min(a1, a2) = 0`), because the share is undefined there. Errors as
/// [`LrpGamma::explain`] (a network with other than two inputs is a shape mismatch).
pub fn relevance_share(network: &Network, a1: f64, a2: f64, rule: &LrpGamma) -> Result<Option<f64>> {
    let explanation = rule.explain(network, &[a1, a2])?;
    let r = explanation.input_relevance();
    let total = r[0] + r[1];
    Ok((total != 0.0).then(|| r[0] / total))
}
// ANCHOR_END: share
