//! A small seeded generator (SplitMix64, Steele et al. 2014) for the evaluation's random
//! pixel orders, noise replacements and noise relevance: reproducible on every platform.

/// What a random stream is used for: each use draws from its own streams, so that, e.g., the
/// noise relevance of a scene is independent of its noise replacement under the same seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    /// Random pixel orders.
    Order = 1,
    /// Noise relevance of the random baseline.
    Relevance = 2,
    /// Noise that replaces removed pixels.
    Replacement = 3,
}

/// SplitMix64: a 64-bit state advanced by a constant and scrambled.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for one stream of one use: `seed` mixed with `domain` (what the numbers
    /// are for: [`Domain`]) and `stream` (e.g. a scene's seed), so streams neither depend on the
    /// order or batching in which they are drawn nor repeat each other across uses of one seed.
    pub(crate) fn new(domain: Domain, seed: u64, stream: u64) -> Self {
        let mut mixer = Self(seed ^ (domain as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut mixer = Self(mixer.next_u64() ^ stream);
        Self(mixer.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n ≥ 1`), by Lemire's multiply-shift (bias below 2⁻⁶⁴·n).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut g = SplitMix64::new(Domain::Order, 1, 7);
                move |_| g.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut g = SplitMix64::new(Domain::Order, 1, 7);
                move |_| g.next_u64()
            })
            .collect();
        let c = SplitMix64::new(Domain::Order, 1, 8).next_u64();
        let d = SplitMix64::new(Domain::Relevance, 1, 7).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        assert_ne!(a[0], d);
    }

    #[test]
    fn uniform_and_below_stay_in_range() {
        let mut g = SplitMix64::new(Domain::Order, 3, 0);
        for _ in 0..1000 {
            let u = g.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!(g.below(7) < 7);
        }
        assert_eq!(g.below(1), 0);
    }
}
