//! The zB rule for bounded inputs (Montavon et al. 2017; the sheet's `ConvPx`; zennit's `ZBox`).

use super::{Group, Input, Modified, Modifier, Propagation, Rule, Stabiliser, Term, invalid};
use crate::error::{Error, Result};
use crate::image::{IMAGENET_MEAN, IMAGENET_STD};

/// zB, for inputs bounded by `l ≤ x ≤ h` per channel:
///
/// ```text
/// R_i = Σ_j (x_i w_ij − l_i w_ij⁺ − h_i w_ij⁻) / stab(Σ_i (x_i w_ij − l_i w_ij⁺ − h_i w_ij⁻)) · R_j
/// ```
///
/// Three terms, `(x, W, b) − (L, W⁺, b⁺) − (H, W⁻, b⁻)`: the biases cancel in the denominator,
/// as in the sheet's `ConvPx`. The input's relevance is `R = x ⊙ ∂x + L ⊙ ∂L + H ⊙ ∂H`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZBox {
    low: Vec<f64>,
    high: Vec<f64>,
    stabiliser: Stabiliser,
}

impl ZBox {
    /// Bounds per channel: as many lows as highs (at least one), finite, `low ≤ high`; with
    /// zennit's stabiliser 10⁻⁶.
    pub fn new(low: Vec<f64>, high: Vec<f64>) -> Result<Self> {
        if low.is_empty() || low.len() != high.len() {
            return Err(Error::InvalidParameter {
                name: "zB bounds",
                value: format!("low {low:?}, high {high:?}"),
                why: "needs one low and one high bound per input channel".into(),
            });
        }
        for (&l, &h) in low.iter().zip(&high) {
            if !l.is_finite() || !h.is_finite() || l > h {
                return Err(invalid(
                    "zB bound",
                    if l.is_finite() { h } else { l },
                    &format!("bounds must be finite with low ≤ high, got low {l}, high {h}"),
                ));
            }
        }
        Ok(Self { low, high, stabiliser: Stabiliser::DEFAULT })
    }

    // ANCHOR: zbox_bounds
    /// Bounds of pixels in `[0, 1]` after normalisation by `mean` and `std`:
    /// `L = (0 − mean)/std`, `H = (1 − mean)/std`.
    pub fn normalized(mean: &[f64], std: &[f64]) -> Result<Self> {
        let low = mean.iter().zip(std).map(|(m, s)| (0.0 - m) / s).collect();
        let high = mean.iter().zip(std).map(|(m, s)| (1.0 - m) / s).collect();
        Self::new(low, high)
    }
    // ANCHOR_END: zbox_bounds

    /// The sheet's bounds, for ImageNet-normalised pixels.
    pub fn imagenet() -> Self {
        let low = IMAGENET_MEAN.iter().zip(IMAGENET_STD).map(|(m, s)| (0.0 - m) / s).collect();
        let high = IMAGENET_MEAN.iter().zip(IMAGENET_STD).map(|(m, s)| (1.0 - m) / s).collect();
        Self { low, high, stabiliser: Stabiliser::DEFAULT }
    }

    /// The same rule with another stabiliser ([`Stabiliser::NONE`] for the sheet's `ConvPx`).
    pub fn with_stabiliser(self, stabiliser: Stabiliser) -> Self {
        Self { stabiliser, ..self }
    }

    /// The lower bound per channel.
    pub fn low(&self) -> &[f64] {
        &self.low
    }

    /// The upper bound per channel.
    pub fn high(&self) -> &[f64] {
        &self.high
    }
}

impl Default for ZBox {
    /// [`ZBox::imagenet`].
    fn default() -> Self {
        Self::imagenet()
    }
}

// ANCHOR: zbox_rule
impl Rule for ZBox {
    fn name(&self) -> String {
        "zbox".into()
    }

    fn propagation(&self) -> Propagation {
        let group = Group::new(vec![
            Term::new(Input::Activation, Modifier::Keep, Modifier::Keep),
            Term::new(Input::PerChannel(self.low.clone()), Modifier::Positive, Modifier::Positive)
                .subtracted(),
            Term::new(Input::PerChannel(self.high.clone()), Modifier::Negative, Modifier::Negative)
                .subtracted(),
        ]);
        Propagation::Modified(Modified { groups: vec![group], stabiliser: self.stabiliser })
    }
}
// ANCHOR_END: zbox_rule
