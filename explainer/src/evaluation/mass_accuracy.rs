//! Relevance mass accuracy: the share of positive relevance that falls on the object.

use super::mask::Mask;
use super::metric::{Column, MapMetric, defined};
use crate::error::{Error, Result};
use crate::heatmap::RelevanceMap;

// ANCHOR: mass_accuracy
/// Relevance mass accuracy `Σ_{i ∈ mask} R⁺_i / Σ_i R⁺_i` with `R⁺ = max(R, 0)`: the share of
/// the positive relevance that lies inside the object mask, in `[0, 1]`.
///
/// Arras, Osman & Samek (2022), "CLEVR-XAI: A benchmark dataset for the ground truth
/// evaluation of neural network explanations", Inf. Fusion 81; Quantus'
/// `RelevanceMassAccuracy`. A uniform map scores the mask's area share, a perfect one 1.
///
/// Fails with [`Error::UndefinedMetric`] when no pixel has positive relevance, and with
/// [`Error::ShapeMismatch`] when `map` and `mask` differ in size.
pub fn relevance_mass_accuracy(map: &RelevanceMap, mask: &Mask) -> Result<f64> {
    mask.check(map)?;
    let (mut inside, mut total) = (0.0, 0.0);
    for (i, &r) in map.values().iter().enumerate() {
        let positive = r.max(0.0);
        total += positive;
        if mask.contains(i) {
            inside += positive;
        }
    }
    if total <= 0.0 {
        return Err(Error::UndefinedMetric {
            metric: "relevance mass accuracy",
            why: "no pixel has positive relevance".into(),
        });
    }
    Ok(inside / total)
}
// ANCHOR_END: mass_accuracy

/// [`relevance_mass_accuracy`] as a [`MapMetric`] (undefined without positive relevance).
#[derive(Debug, Clone, Copy, Default)]
pub struct MassAccuracy;

impl MapMetric for MassAccuracy {
    fn column(&self) -> Column {
        Column { key: "mass_accuracy", heading: "mass accuracy" }
    }

    fn score(&self, map: &RelevanceMap, mask: &Mask) -> Result<Option<f64>> {
        defined(relevance_mass_accuracy(map, mask))
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    const EXACT: f64 = 1e-15;

    fn map(values: Vec<f64>) -> RelevanceMap {
        RelevanceMap::from_values(values.len(), 1, values).unwrap()
    }

    #[test]
    fn counts_only_positive_relevance() {
        let mask = Mask::new(4, 1, vec![true, true, false, false]).unwrap();
        // Inside: 3 + 0 (the −5 does not count); outside: 1 + 0 → 3 / 4.
        let r = relevance_mass_accuracy(&map(vec![3.0, -5.0, 1.0, -2.0]), &mask).unwrap();
        assert_relative_eq!(r, 0.75, epsilon = EXACT);
    }

    #[test]
    fn perfect_uniform_and_missing_maps() {
        let mask = Mask::new(4, 1, vec![false, true, false, false]).unwrap();
        assert_eq!(relevance_mass_accuracy(&map(vec![0.0, 2.0, 0.0, -1.0]), &mask).unwrap(), 1.0);
        assert_relative_eq!(
            relevance_mass_accuracy(&map(vec![1.0; 4]), &mask).unwrap(),
            0.25,
            epsilon = EXACT
        );
        assert_eq!(relevance_mass_accuracy(&map(vec![5.0, 0.0, 0.0, 0.0]), &mask).unwrap(), 0.0);
    }

    #[test]
    fn no_positive_relevance_is_undefined_not_nan() {
        let mask = Mask::new(2, 1, vec![true, false]).unwrap();
        let error = relevance_mass_accuracy(&map(vec![0.0, -1.0]), &mask).unwrap_err();
        assert!(matches!(error, Error::UndefinedMetric { .. }), "{error}");
    }

    #[test]
    fn sizes_must_agree() {
        let mask = Mask::new(2, 1, vec![true, false]).unwrap();
        assert!(matches!(
            relevance_mass_accuracy(&map(vec![1.0; 3]), &mask),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
