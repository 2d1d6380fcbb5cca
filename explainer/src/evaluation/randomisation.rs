//! The model-randomisation sanity check: an explanation must change when the weights do.

use super::order::most_relevant_first;
use crate::error::{Error, Result};
use crate::heatmap::RelevanceMap;

// ANCHOR: spearman
/// Spearman's rank correlation `ρ = Pearson(rank(a), rank(b))`, tied values taking the mean
/// of their ranks, in `[−1, 1]`.
///
/// Fails with [`Error::ShapeMismatch`] for slices of different or fewer than two values,
/// [`Error::NonFinite`] for NaN or ±∞, and [`Error::UndefinedMetric`] when either slice is
/// constant (its ranks have no variance).
pub fn spearman(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return Err(Error::ShapeMismatch {
            what: "rank correlation inputs",
            expected: format!("two slices of one length ≥ 2 (the first has {})", a.len()),
            found: format!("{} values", b.len()),
        });
    }
    for values in [a, b] {
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "rank correlation input", index, value: values[index] });
        }
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let mean = (a.len() as f64 + 1.0) / 2.0;
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - mean) * (y - mean);
        va += (x - mean) * (x - mean);
        vb += (y - mean) * (y - mean);
    }
    if va == 0.0 || vb == 0.0 {
        return Err(Error::UndefinedMetric {
            metric: "Spearman rank correlation",
            why: "one of the inputs is constant".into(),
        });
    }
    Ok((cov / (va * vb).sqrt()).clamp(-1.0, 1.0))
}
// ANCHOR_END: spearman

/// Ranks `1..=n` (1 = smallest), ties sharing the mean of their ranks.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order = most_relevant_first(values);
    order.reverse();
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = mean_rank;
        }
        start = end;
    }
    ranks
}

// ANCHOR: model_randomisation
/// Model-randomisation similarity: Spearman's rank correlation of `|R|` between an
/// explanation of the trained model and one of the same input by a model with randomised
/// weights (Adebayo et al. 2018, "Sanity checks for saliency maps", NeurIPS; Quantus'
/// `ModelParameterRandomisation`, which also uses Spearman's ρ of absolute relevance).
///
/// A method that explains the model scores well below 1; one that ignores the weights (an
/// edge detector, input-only noise) scores ≈ 1. Errors as [`spearman`].
pub fn model_randomisation_similarity(trained: &RelevanceMap, randomised: &RelevanceMap) -> Result<f64> {
    let abs = |map: &RelevanceMap| map.values().iter().map(|v| v.abs()).collect::<Vec<f64>>();
    spearman(&abs(trained), &abs(randomised))
}
// ANCHOR_END: model_randomisation

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    const EXACT: f64 = 1e-12;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 30.0, 20.0, 20.0]), vec![1.0, 4.0, 2.5, 2.5]);
    }

    #[test]
    fn monotone_maps_correlate_perfectly() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [2.0, 20.0, 21.0, 100.0, 1e6];
        assert_relative_eq!(spearman(&a, &b).unwrap(), 1.0, epsilon = EXACT);
        let reversed: Vec<f64> = b.iter().map(|v| -v).collect();
        assert_relative_eq!(spearman(&a, &reversed).unwrap(), -1.0, epsilon = EXACT);
    }

    #[test]
    fn a_hand_computed_case() {
        // Ranks (1, 2, 3, 4) and (1, 3, 2, 4): Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8.
        assert_relative_eq!(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap(),
            0.8,
            epsilon = EXACT
        );
        // With a tie: ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): ρ = 4.5 / √(4.5·5).
        let expected = 4.5 / (4.5f64 * 5.0).sqrt();
        assert_relative_eq!(
            spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap(),
            expected,
            epsilon = EXACT
        );
    }

    #[test]
    fn similarity_uses_absolute_relevance() {
        let a = RelevanceMap::from_values(4, 1, vec![1.0, -2.0, 3.0, -4.0]).unwrap();
        let b = RelevanceMap::from_values(4, 1, vec![-1.0, 2.0, -3.0, 4.0]).unwrap();
        assert_relative_eq!(model_randomisation_similarity(&a, &b).unwrap(), 1.0, epsilon = EXACT);
        assert_relative_eq!(model_randomisation_similarity(&a, &a).unwrap(), 1.0, epsilon = EXACT);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(spearman(&[1.0, 2.0], &[1.0]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(spearman(&[1.0], &[1.0]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(spearman(&[1.0, f64::NAN], &[1.0, 2.0]), Err(Error::NonFinite { index: 1, .. })));
        assert!(matches!(spearman(&[1.0, 1.0], &[1.0, 2.0]), Err(Error::UndefinedMetric { .. })));
    }
}
