//! Sparseness: the Gini index of the absolute relevance.

use super::mask::Mask;
use super::metric::{Column, MapMetric};
use crate::error::Result;
use crate::heatmap::RelevanceMap;

/// Sparseness (Chalasani et al. 2020, "Concise explanations of neural networks using
/// adversarial training", ICML; Quantus' `Sparseness`): the Gini index of `a = |R|` sorted
/// ascending, `G = Σ_i (2i − n − 1) a_(i) / (n Σ_i a_i)` (`i = 1..n`), in `[0, 1 − 1/n]`: 0 for
/// a uniform map, `1 − 1/n` for all relevance on one pixel. Undefined for an all-zero map.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sparseness;

impl MapMetric for Sparseness {
    fn column(&self) -> Column {
        Column { key: "sparseness", heading: "sparseness (Gini)" }
    }

    fn score(&self, map: &RelevanceMap, _mask: &Mask) -> Result<Option<f64>> {
        let mut a: Vec<f64> = map.values().iter().map(|v| v.abs()).collect();
        a.sort_by(f64::total_cmp);
        let n = a.len() as f64;
        let total: f64 = a.iter().sum();
        if total <= 0.0 {
            return Ok(None);
        }
        let weighted: f64 = a.iter().enumerate().map(|(i, v)| (2.0 * (i + 1) as f64 - n - 1.0) * v).sum();
        Ok(Some(weighted / (n * total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gini(values: Vec<f64>) -> Option<f64> {
        let mask = Mask::new(values.len(), 1, vec![true; values.len()]).unwrap();
        Sparseness.score(&RelevanceMap::from_values(values.len(), 1, values).unwrap(), &mask).unwrap()
    }

    #[test]
    fn uniform_is_zero_a_spike_is_one_minus_one_over_n_and_sign_does_not_matter() {
        assert_eq!(gini(vec![2.0; 4]), Some(0.0));
        assert_eq!(gini(vec![0.0, -3.0, 0.0, 0.0]), Some(0.75));
        // Sorted |R| = (1, 2, 3): (−2·1 + 0·2 + 2·3) / (3·6) = 4/18.
        assert!((gini(vec![3.0, -1.0, 2.0]).unwrap() - 4.0 / 18.0).abs() < 1e-15);
        assert_eq!(gini(vec![0.0; 3]), None);
    }
}
