//! The pointing game: does the most relevant pixel lie on the object?

use super::mask::Mask;
use super::metric::{Column, MapMetric};
use super::order::most_relevant_first;
use crate::error::Result;
use crate::heatmap::RelevanceMap;

// ANCHOR: pointing_game
/// The pointing game: a hit when the pixel of maximal relevance, `argmax_i R_i` (the lowest
/// row-major index among ties), lies inside the object mask.
///
/// Zhang et al. (2018), "Top-down neural attention by excitation backprop", IJCV 126 (without
/// their 15-pixel tolerance); Quantus' `PointingGame`. The mean over images is the hit rate.
///
/// Fails with [`crate::Error::ShapeMismatch`] when `map` and `mask` differ in size.
pub fn pointing_game(map: &RelevanceMap, mask: &Mask) -> Result<bool> {
    mask.check(map)?;
    Ok(most_relevant_first(map.values()).first().is_some_and(|&i| mask.contains(i)))
}
// ANCHOR_END: pointing_game

/// [`pointing_game`] as a [`MapMetric`]: 1 for a hit, 0 for a miss.
#[derive(Debug, Clone, Copy, Default)]
pub struct PointingGame;

impl MapMetric for PointingGame {
    fn column(&self) -> Column {
        Column { key: "pointing_game", heading: "pointing game" }
    }

    fn score(&self, map: &RelevanceMap, mask: &Mask) -> Result<Option<f64>> {
        Ok(Some(if pointing_game(map, mask)? { 1.0 } else { 0.0 }))
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
    fn hit_when_the_maximum_is_inside() {
        let mask = Mask::new(4, 1, vec![false, false, true, false]).unwrap();
        assert!(pointing_game(&map(vec![1.0, -4.0, 3.0, 2.0]), &mask).unwrap());
        assert!(!pointing_game(&map(vec![1.0, -4.0, 3.0, 3.5]), &mask).unwrap());
        // Largest magnitude is negative: the maximum (signed) is what counts.
        assert!(pointing_game(&map(vec![-9.0, -4.0, 0.5, 0.0]), &mask).unwrap());
    }

    #[test]
    fn ties_take_the_first_maximum() {
        let mask = Mask::new(3, 1, vec![false, true, false]).unwrap();
        assert!(!pointing_game(&map(vec![2.0, 2.0, 0.0]), &mask).unwrap());
        assert!(pointing_game(&map(vec![0.0, 2.0, 2.0]), &mask).unwrap());
    }

    #[test]
    fn sizes_must_agree() {
        let mask = Mask::new(2, 1, vec![true, false]).unwrap();
        assert!(matches!(pointing_game(&map(vec![1.0]), &mask), Err(Error::ShapeMismatch { .. })));
    }
}
