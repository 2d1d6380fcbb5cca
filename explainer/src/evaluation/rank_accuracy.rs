//! Relevance rank accuracy: how many of the K most relevant pixels lie on the object.

use super::mask::Mask;
use super::metric::{Column, MapMetric};
use super::order::most_relevant_first;
use crate::error::Result;
use crate::heatmap::RelevanceMap;

// ANCHOR: rank_accuracy
/// Relevance rank accuracy `|top-K(R) ∩ mask| / K` with `K = |mask|`: the share of the K
/// most relevant pixels (signed relevance, ties broken by the lower row-major index) that lie
/// inside the object mask, in `[0, 1]`.
///
/// Arras, Osman & Samek (2022), "CLEVR-XAI", Inf. Fusion 81; Quantus'
/// `RelevanceRankAccuracy`. A random map scores the mask's area share in expectation.
///
/// Fails with [`crate::Error::ShapeMismatch`] when `map` and `mask` differ in size (a
/// [`Mask`] is never empty, so K ≥ 1).
pub fn relevance_rank_accuracy(map: &RelevanceMap, mask: &Mask) -> Result<f64> {
    mask.check(map)?;
    let k = mask.count();
    let hits = most_relevant_first(map.values()).into_iter().take(k).filter(|&i| mask.contains(i)).count();
    Ok(hits as f64 / k as f64)
}
// ANCHOR_END: rank_accuracy

/// [`relevance_rank_accuracy`] as a [`MapMetric`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RankAccuracy;

impl MapMetric for RankAccuracy {
    fn column(&self) -> Column {
        Column { key: "rank_accuracy", heading: "rank accuracy" }
    }

    fn score(&self, map: &RelevanceMap, mask: &Mask) -> Result<Option<f64>> {
        relevance_rank_accuracy(map, mask).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn map(values: Vec<f64>) -> RelevanceMap {
        RelevanceMap::from_values(values.len(), 1, values).unwrap()
    }

    #[test]
    fn top_k_with_k_the_mask_size() {
        let mask = Mask::new(5, 1, vec![true, false, true, false, false]).unwrap();
        // K = 2; the two largest are pixels 0 (9) and 3 (7): one of them is inside.
        assert_eq!(relevance_rank_accuracy(&map(vec![9.0, 1.0, 2.0, 7.0, -3.0]), &mask).unwrap(), 0.5);
        assert_eq!(relevance_rank_accuracy(&map(vec![9.0, 1.0, 8.0, 7.0, -3.0]), &mask).unwrap(), 1.0);
        assert_eq!(relevance_rank_accuracy(&map(vec![-9.0, 1.0, -8.0, 7.0, 3.0]), &mask).unwrap(), 0.0);
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        let mask = Mask::new(3, 1, vec![false, true, false]).unwrap();
        assert_eq!(relevance_rank_accuracy(&map(vec![1.0, 1.0, 1.0]), &mask).unwrap(), 0.0);
        let mask = Mask::new(3, 1, vec![true, false, false]).unwrap();
        assert_eq!(relevance_rank_accuracy(&map(vec![1.0, 1.0, 1.0]), &mask).unwrap(), 1.0);
    }

    #[test]
    fn sizes_must_agree() {
        let mask = Mask::new(2, 2, vec![true, false, false, false]).unwrap();
        assert!(matches!(
            relevance_rank_accuracy(&map(vec![1.0; 3]), &mask),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
