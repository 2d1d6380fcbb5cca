//! The random baseline: relevance that is seeded noise, blind to model and image.

use super::splitmix::{Domain, SplitMix64};
use crate::error::Result;
use crate::heatmap::RelevanceMap;

/// Relevance drawn uniformly from `[−1, 1)` for each pixel, independently of model and
/// input: what every metric should beat. Each scene's map depends only on `(seed, scene)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomRelevance {
    /// The seed of all maps.
    pub seed: u64,
}

impl RandomRelevance {
    /// The noise map of scene `scene` (e.g. its generator seed), `width × height`.
    pub fn map(&self, scene: u64, width: usize, height: usize) -> Result<RelevanceMap> {
        let mut rng = SplitMix64::new(Domain::Relevance, self.seed, scene);
        let values = (0..width * height).map(|_| 2.0 * rng.uniform() - 1.0).collect();
        RelevanceMap::from_values(width, height, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_per_scene_and_in_range() {
        let random = RandomRelevance { seed: 9 };
        let a = random.map(3, 8, 8).unwrap();
        assert_eq!(a, random.map(3, 8, 8).unwrap());
        assert_ne!(a, random.map(4, 8, 8).unwrap());
        assert!(a.values().iter().all(|v| (-1.0..1.0).contains(v)));
        let mean = a.sum() / 64.0;
        assert!(mean.abs() < 0.3, "mean {mean}");
    }
}
