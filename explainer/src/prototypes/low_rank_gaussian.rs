//! A Gaussian whose covariance is low-rank plus isotropic: probabilistic PCA (Tipping and
//! Bishop, 1999).
//!
//! `Σ = U diag(s) Uᵀ + σ² (I − U Uᵀ)`, with `U` (`d × k`, orthonormal columns) the top `k`
//! principal directions of the data, `s` their variances and `σ²` the mean variance of the
//! other `d − k` directions. Equivalently `Σ = W Wᵀ + σ² I` with the loading
//! `W = U diag(√(s − σ²))`: the data are `x = W z + μ + ε`, `z ~ N(0, I_k)`, `ε ~ N(0, σ² I)`.
//! Only `U`, `s`, `σ²` and `μ` are stored (`d·k` numbers, not `d²`: a 3×64×64 image has
//! `d = 12288`), and the log-density and its gradient are exact from that structure.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::{Error, Result};

/// Largest `|UᵀU − I|` entry accepted as orthonormal.
const ORTHONORMAL: f64 = 1e-8;

/// `N(μ, U diag(s) Uᵀ + σ² (I − U Uᵀ))`.
#[derive(Debug, Clone, PartialEq)]
pub struct LowRankGaussian {
    mean: DVector<f64>,
    basis: DMatrix<f64>,
    variances: DVector<f64>,
    noise: f64,
}

impl LowRankGaussian {
    /// The Gaussian with mean `μ`, principal directions `U` (columns, orthonormal), their
    /// variances `s` and the variance `σ²` of every other direction. Needs `s_i ≥ σ² > 0`
    /// (the principal directions vary at least as much as the rest) and `k < d`.
    pub fn new(mean: DVector<f64>, basis: DMatrix<f64>, variances: DVector<f64>, noise: f64) -> Result<Self> {
        let (d, k) = basis.shape();
        let invalid =
            |name, value: String, why: &str| Error::InvalidParameter { name, value, why: why.into() };
        if mean.len() != d || variances.len() != k {
            return Err(Error::ShapeMismatch {
                what: "mean, basis and variances",
                expected: format!("mean {d}, variances {k} for a {d}×{k} basis"),
                found: format!("mean {}, variances {}", mean.len(), variances.len()),
            });
        }
        if k >= d {
            return Err(invalid("rank", k.to_string(), &format!("must be below the dimension {d}")));
        }
        for (what, values) in [("mean", mean.as_slice()), ("basis", basis.as_slice())] {
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what, index, value: values[index] });
            }
        }
        if !(noise.is_finite() && noise > 0.0) {
            return Err(invalid("noise variance σ²", noise.to_string(), "must be finite and positive"));
        }
        if let Some(s) = variances.iter().find(|s| !(s.is_finite() && **s >= noise)) {
            return Err(invalid("principal variance", s.to_string(), "must be finite and at least σ²"));
        }
        let gram = basis.tr_mul(&basis) - DMatrix::identity(k, k);
        if gram.amax() > ORTHONORMAL {
            return Err(invalid(
                "basis",
                format!("|UᵀU − I| = {:e}", gram.amax()),
                "columns must be orthonormal",
            ));
        }
        Ok(Self { mean, basis, variances, noise })
    }

    /// The maximum-likelihood fit to the rows of `samples` (`N × d`): `μ` their mean, `U`
    /// and `s` the top `rank` eigenvectors and eigenvalues of their covariance
    /// `C = (1/N) Σ (x − μ)(x − μ)ᵀ`, and `σ² = (tr C − Σ s_i) / (d − rank)`.
    ///
    /// `C` is never formed when `d > N`: its nonzero eigenvalues are those of the Gram matrix
    /// `G = (1/N) X̃ X̃ᵀ` (`N × N`, `X̃` the centred samples), with eigenvectors
    /// `u_i = X̃ᵀ g_i / √(N s_i)`.
    pub fn fit(samples: &DMatrix<f64>, rank: usize) -> Result<Self> {
        let (n, d) = samples.shape();
        if rank == 0 || rank >= n || rank >= d {
            return Err(Error::InvalidParameter {
                name: "rank",
                value: rank.to_string(),
                why: format!("needs 0 < rank < min(samples, dimension) = min({n}, {d})"),
            });
        }
        if let Some(index) = samples.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "samples", index, value: samples[index] });
        }
        let mean = DVector::from_iterator(d, samples.column_iter().map(|c| c.mean()));
        let mut centred = samples.clone();
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let total_variance = centred.norm_squared() / n as f64;
        let (basis, variances) = if d <= n {
            let covariance = centred.tr_mul(&centred) / n as f64;
            top_eigenpairs(covariance, rank, |vectors| vectors)
        } else {
            let gram = &centred * centred.transpose() / n as f64;
            top_eigenpairs(gram, rank, |vectors| {
                let mut basis = centred.tr_mul(&vectors);
                for mut column in basis.column_iter_mut() {
                    let norm = column.norm();
                    if norm > 0.0 {
                        column /= norm;
                    }
                }
                basis
            })
        };
        let noise = (total_variance - variances.sum()) / (d - rank) as f64;
        if noise.is_nan() || noise <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "rank",
                value: rank.to_string(),
                why: "the samples have no variance outside the top components: lower the rank".into(),
            });
        }
        Self::new(mean, basis, variances, noise)
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The rank `k` of the principal part.
    pub fn rank(&self) -> usize {
        self.variances.len()
    }

    /// The mean `μ`.
    pub fn mean(&self) -> &DVector<f64> {
        &self.mean
    }

    /// The principal directions `U`, one per column.
    pub fn basis(&self) -> &DMatrix<f64> {
        &self.basis
    }

    /// The variances `s` along the principal directions, largest first.
    pub fn variances(&self) -> &DVector<f64> {
        &self.variances
    }

    /// The variance `σ²` of every direction orthogonal to `U`.
    pub fn noise(&self) -> f64 {
        self.noise
    }

    /// The loading `W = U diag(√(s − σ²))`, so that `Σ = W Wᵀ + σ² I`.
    pub fn loading(&self) -> DMatrix<f64> {
        let scales = self.variances.map(|s| (s - self.noise).sqrt());
        &self.basis * DMatrix::from_diagonal(&scales)
    }

    // ANCHOR: log_density
    /// `log N(x; μ, Σ) = −½ (d log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ))`, with
    /// `log det Σ = Σ log s_i + (d − k) log σ²` and, for `r = x − μ`, `a = Uᵀ r`,
    /// `(x − μ)ᵀ Σ⁻¹ (x − μ) = Σ a_i² / s_i + ‖r − U a‖² / σ²`.
    pub fn log_density(&self, x: &DVector<f64>) -> Result<f64> {
        let (coefficients, residual) = self.split(x)?;
        let (d, k) = (self.dim() as f64, self.rank() as f64);
        let log_det = self.variances.iter().map(|s| s.ln()).sum::<f64>() + (d - k) * self.noise.ln();
        let mahalanobis = coefficients.component_div(&self.variances).dot(&coefficients)
            + residual.norm_squared() / self.noise;
        Ok(-0.5 * (d * (2.0 * std::f64::consts::PI).ln() + log_det + mahalanobis))
    }

    /// `∇ log N(x; μ, Σ) = −Σ⁻¹ (x − μ) = −(U diag(1/s) a + (r − U a) / σ²)`.
    pub fn log_density_gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        let (coefficients, residual) = self.split(x)?;
        Ok(-(&self.basis * coefficients.component_div(&self.variances) + residual / self.noise))
    }
    // ANCHOR_END: log_density

    /// The dense covariance `W Wᵀ + σ² I` (`d × d`: for small `d` only, e.g. tests).
    pub fn dense_covariance(&self) -> DMatrix<f64> {
        let loading = self.loading();
        &loading * loading.transpose() + DMatrix::identity(self.dim(), self.dim()) * self.noise
    }

    /// `a = Uᵀ (x − μ)` and the residual `(x − μ) − U a`.
    fn split(&self, x: &DVector<f64>) -> Result<(DVector<f64>, DVector<f64>)> {
        if x.len() != self.dim() {
            return Err(Error::ShapeMismatch {
                what: "the point of a Gaussian",
                expected: self.dim().to_string(),
                found: x.len().to_string(),
            });
        }
        let centred = x - &self.mean;
        let coefficients = self.basis.tr_mul(&centred);
        let residual = &centred - &self.basis * &coefficients;
        Ok((coefficients, residual))
    }
}

/// The `rank` largest eigenvalues of the symmetric `matrix` and `to_basis` of their
/// eigenvectors (as columns), largest first.
fn top_eigenpairs(
    matrix: DMatrix<f64>,
    rank: usize,
    to_basis: impl FnOnce(DMatrix<f64>) -> DMatrix<f64>,
) -> (DMatrix<f64>, DVector<f64>) {
    let eigen = SymmetricEigen::new(matrix);
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let top = &order[..rank];
    let vectors =
        DMatrix::from_columns(&top.iter().map(|&i| eigen.eigenvectors.column(i)).collect::<Vec<_>>());
    let values = DVector::from_iterator(rank, top.iter().map(|&i| eigen.eigenvalues[i]));
    (to_basis(vectors), values)
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Two exact computations in f64 that round differently.
    const ROUNDING: f64 = 1e-9;

    /// `n` samples of a small "image" (3 channels × 4 × 4 = 48 values) with correlated pixels.
    fn small_images(n: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let d = 48;
        let mixing = DMatrix::from_fn(d, 6, |_, _| rng.random_range(-1.0..1.0));
        DMatrix::from_fn(n, 6, |_, _| rng.random_range(-1.0..1.0)) * mixing.transpose()
            + DMatrix::from_fn(n, d, |_, _| 0.1 * rng.random_range(-1.0..1.0))
            + DMatrix::from_element(n, d, 0.5)
    }

    /// The dense log-density `−½ (d log 2π + log det Σ + rᵀ Σ⁻¹ r)` and gradient `−Σ⁻¹ r`,
    /// by a Cholesky factorisation of `Σ = W Wᵀ + σ² I`.
    fn dense(gaussian: &LowRankGaussian, x: &DVector<f64>) -> (f64, DVector<f64>) {
        let covariance = gaussian.dense_covariance();
        let cholesky = covariance.clone().cholesky().unwrap();
        let r = x - gaussian.mean();
        let solved = cholesky.solve(&r);
        let log_det = 2.0 * cholesky.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
        let d = x.len() as f64;
        (-0.5 * (d * (2.0 * std::f64::consts::PI).ln() + log_det + r.dot(&solved)), -solved)
    }

    #[test]
    fn log_density_and_gradient_match_the_dense_computation() {
        // Both branches of the fit: more samples than dimensions (covariance) and fewer (Gram).
        for samples in [200, 30] {
            let gaussian = LowRankGaussian::fit(&small_images(samples, 1), 5).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            for _ in 0..5 {
                let x = DVector::from_fn(48, |_, _| rng.random_range(-0.5..1.5));
                let (log_density, gradient) = dense(&gaussian, &x);
                assert_relative_eq!(gaussian.log_density(&x).unwrap(), log_density, max_relative = ROUNDING);
                assert_relative_eq!(
                    gaussian.log_density_gradient(&x).unwrap(),
                    gradient,
                    epsilon = ROUNDING,
                    max_relative = ROUNDING
                );
            }
        }
    }

    #[test]
    fn fit_keeps_the_total_variance_and_the_top_directions() {
        let samples = small_images(200, 3);
        let gaussian = LowRankGaussian::fit(&samples, 5).unwrap();
        // The sample covariance, dense.
        let mean = gaussian.mean().clone();
        let mut centred = samples.clone();
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let covariance = centred.tr_mul(&centred) / 200.0;
        // Probabilistic PCA keeps the trace (the maximum-likelihood σ² spreads the rest evenly)…
        assert_relative_eq!(gaussian.dense_covariance().trace(), covariance.trace(), max_relative = ROUNDING);
        // …and each principal direction is an eigenvector of the sample covariance.
        for (i, u) in gaussian.basis().column_iter().enumerate() {
            let image = &covariance * u;
            assert_relative_eq!(image, u * gaussian.variances()[i], epsilon = ROUNDING, max_relative = 1e-7);
        }
        // Fitting from fewer samples than dimensions (the Gram route) gives the same model as
        // the covariance route on the same samples.
        let few = samples.rows(0, 30).into_owned();
        let via_gram = LowRankGaussian::fit(&few, 4).unwrap();
        let few_mean = via_gram.mean().clone();
        let mut few_centred = few.clone();
        for mut row in few_centred.row_iter_mut() {
            row -= few_mean.transpose();
        }
        let few_covariance = few_centred.tr_mul(&few_centred) / 30.0;
        let eigen = SymmetricEigen::new(few_covariance);
        let mut values: Vec<f64> = eigen.eigenvalues.iter().copied().collect();
        values.sort_by(|a, b| b.total_cmp(a));
        assert_relative_eq!(via_gram.variances().as_slice(), &values[..4], max_relative = 1e-9);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let samples = small_images(20, 4);
        assert!(matches!(LowRankGaussian::fit(&samples, 0), Err(Error::InvalidParameter { .. })));
        assert!(matches!(LowRankGaussian::fit(&samples, 20), Err(Error::InvalidParameter { .. })));
        let mut nan = samples.clone();
        nan[(3, 7)] = f64::NAN;
        assert!(matches!(LowRankGaussian::fit(&nan, 2), Err(Error::NonFinite { .. })));
        let basis = DMatrix::from_column_slice(3, 1, &[1.0, 1.0, 0.0]);
        let not_orthonormal =
            LowRankGaussian::new(DVector::zeros(3), basis, DVector::from_element(1, 2.0), 1.0);
        assert!(matches!(not_orthonormal, Err(Error::InvalidParameter { .. })));
        let basis = DMatrix::from_column_slice(3, 1, &[1.0, 0.0, 0.0]);
        let no_noise = LowRankGaussian::new(DVector::zeros(3), basis, DVector::from_element(1, 2.0), 0.0);
        assert!(matches!(no_noise, Err(Error::InvalidParameter { .. })));
        let gaussian = LowRankGaussian::fit(&samples, 2).unwrap();
        assert!(matches!(gaussian.log_density(&DVector::zeros(5)), Err(Error::ShapeMismatch { .. })));
    }
}
