//! Pixel orders: most relevant first (for rank accuracy and pixel flipping) and a seeded
//! random permutation (the random-order baseline of pixel flipping).

use super::splitmix::{Domain, SplitMix64};

// ANCHOR: most_relevant_first
/// Pixel indices sorted by relevance, largest first; ties keep the lower (row-major) index
/// first, so the order is deterministic. Relevance is signed: the most negative pixels come last.
pub fn most_relevant_first(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    // A stable sort keeps index order among equal values.
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    order
}
// ANCHOR_END: most_relevant_first

// ANCHOR: random_order
/// A uniformly random permutation of `0..pixels` (Fisher–Yates), reproducible from
/// `(seed, stream)`; use the scene's seed as `stream` so the order does not depend on batching.
pub fn random_order(pixels: usize, seed: u64, stream: u64) -> Vec<usize> {
    let mut rng = SplitMix64::new(Domain::Order, seed, stream);
    let mut order: Vec<usize> = (0..pixels).collect();
    for i in (1..pixels).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}
// ANCHOR_END: random_order

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_descending_and_breaks_ties_by_index() {
        assert_eq!(most_relevant_first(&[0.5, 2.0, -1.0, 2.0, 0.0]), vec![1, 3, 0, 4, 2]);
        assert!(most_relevant_first(&[]).is_empty());
    }

    #[test]
    fn random_orders_are_seeded_permutations() {
        let a = random_order(100, 5, 1);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, random_order(100, 5, 1));
        assert_ne!(a, random_order(100, 5, 2));
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }
}
