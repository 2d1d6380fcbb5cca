//! The 2-D data the one-class SVM is fitted on: two Gaussian blobs, seeded so that every run (and
//! every figure) is the same.

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seed of the data set used by the tests, the figures and the book.
pub const SEED: u64 = 11;
/// Points per blob in [`two_blobs`]'s default use.
pub const POINTS_PER_BLOB: usize = 60;
/// Centres of the two blobs.
pub const BLOB_CENTRES: [[f64; 2]; 2] = [[-1.5, -0.5], [1.5, 0.75]];
/// Standard deviation of each blob, per coordinate.
pub const BLOB_SPREAD: f64 = 0.5;

/// A standard normal sample by the Box–Muller transform (so no distribution crate is needed).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1], so the log is finite
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

// ANCHOR: two_blobs
/// `2 · per_blob` points in the plane, one row each: `per_blob` from `N(c, σ² I)` around each of
/// [`BLOB_CENTRES`] with `σ =` [`BLOB_SPREAD`], drawn from ChaCha8 seeded with `seed`.
pub fn two_blobs(per_blob: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(4 * per_blob);
    for centre in BLOB_CENTRES {
        for _ in 0..per_blob {
            for c in centre {
                values.push(c + BLOB_SPREAD * standard_normal(&mut rng));
            }
        }
    }
    DMatrix::from_row_slice(2 * per_blob, 2, &values)
}
// ANCHOR_END: two_blobs

/// Hand-picked points off the data whose outlier scores the book explains: one far along each
/// axis, one above the gap between the blobs and one diagonal.
pub const OUTLIERS: [[f64; 2]; 4] = [[0.0, -3.0], [4.0, 0.75], [0.0, 2.5], [-3.5, 2.5]];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_deterministic_and_centred() {
        let a = two_blobs(POINTS_PER_BLOB, SEED);
        assert_eq!(a, two_blobs(POINTS_PER_BLOB, SEED));
        assert_eq!(a.shape(), (2 * POINTS_PER_BLOB, 2));
        let first_mean = a.rows(0, POINTS_PER_BLOB).row_mean();
        assert!((first_mean[0] - BLOB_CENTRES[0][0]).abs() < 3.0 * BLOB_SPREAD);
    }
}
