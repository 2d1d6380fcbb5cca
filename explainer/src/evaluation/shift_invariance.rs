//! Input-shift invariance as a [`Metric`].

use super::method::Method;
use super::metric::{Batch, Column, Metric, Scores, check_maps};
use super::model_variants::{absorbing_shift, shifted_input};
use crate::error::Result;
use crate::heatmap::RelevanceMap;
use crate::model::Vgg;

/// Input invariance (Kindermans et al. 2019, "The (un)reliability of saliency methods"):
/// shift every input by a constant per channel, `x' = x + c`, and let the first layer's bias
/// absorb it ([`absorbing_shift`]), so the network computes the same function of the image.
/// The column is the map's relative change `Σ_p |R'_p − R_p| / Σ_p |R_p|` (0: invariant;
/// undefined for an all-zero map).
///
/// With zero padding the shift is absorbed exactly only away from the image's border, so even
/// the plain gradient changes a little; Gradient×Input changes by `c ⊙ ∂f/∂x`.
#[derive(Debug)]
pub struct ShiftInvariance {
    shift: Vec<f64>,
    shifted: Vgg,
}

impl ShiftInvariance {
    /// The test with shift `shift` (one value per input channel) on `trained`.
    pub fn new(trained: &Vgg, shift: Vec<f64>) -> Result<Self> {
        let shifted = absorbing_shift(trained, &shift)?;
        Ok(Self { shift, shifted })
    }
}

impl Metric for ShiftInvariance {
    fn columns(&self) -> Vec<Column> {
        vec![Column { key: "shift_change", heading: "change under input shift" }]
    }

    fn scores(&self, batch: &Batch, method: &Method, maps: &[RelevanceMap]) -> Result<Scores> {
        check_maps(batch, maps)?;
        let input = shifted_input(batch.input, &self.shift)?;
        let shifted = method.maps(&self.shifted, &input, batch.classes, batch.scenes)?;
        let values = maps
            .iter()
            .zip(&shifted)
            .map(|(a, b)| {
                let total: f64 = a.values().iter().map(|v| v.abs()).sum();
                let change: f64 = a.values().iter().zip(b.values()).map(|(x, y)| (x - y).abs()).sum();
                (total > 0.0).then(|| change / total)
            })
            .collect();
        Ok(Scores { values: vec![values], curves: Vec::new() })
    }
}
