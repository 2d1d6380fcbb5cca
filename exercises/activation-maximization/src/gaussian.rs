//! The Gaussian `N(μ, Σ)` whose negative log-density is the penalty of exercise 1 (b).

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use crate::{Error, Result, validation};

/// Largest accepted `|Σᵢⱼ − Σⱼᵢ|`, relative to the largest `|Σᵢⱼ|`.
pub const SYMMETRY_TOLERANCE: f64 = 1e-12;

// ANCHOR: gaussian
/// A multivariate normal distribution `N(μ, Σ)` with symmetric positive definite `Σ`,
/// held with the Cholesky factor `Σ = LLᵀ` (exercise sheet 11, exercise 1 (b)).
///
/// Its log-density is
/// `log p(x) = −½ (x − μ)ᵀ Σ⁻¹ (x − μ) − ½ log((2π)ⁿ det Σ)`;
/// the last term is a constant that does not depend on `x`.
#[derive(Debug, Clone)]
pub struct Gaussian {
    mean: DVector<f64>,
    covariance: DMatrix<f64>,
    cholesky: Cholesky<f64, Dyn>,
}

impl Gaussian {
    /// The Gaussian with mean `μ` and covariance `Σ`.
    ///
    /// Errors: non-finite entries, `Σ` not `n × n` for `n = len(μ)`, `Σ` not symmetric (up to
    /// [`SYMMETRY_TOLERANCE`]) or not positive definite (its Cholesky factorisation fails).
    pub fn new(mean: DVector<f64>, covariance: DMatrix<f64>) -> Result<Self> {
        validation::finite_entries("mu", &mean)?;
        validation::finite_entries("sigma", &covariance)?;
        let n = mean.len();
        validation::matrix_shape("sigma", &covariance, n, Some(n))?;
        let scale = covariance.amax();
        let asymmetry = (&covariance - covariance.transpose()).amax();
        if asymmetry > SYMMETRY_TOLERANCE * scale {
            return Err(Error::NotPositiveDefinite { name: "sigma", why: "it is not symmetric" });
        }
        let symmetric = (&covariance + covariance.transpose()) * 0.5;
        let cholesky = Cholesky::new(symmetric.clone()).ok_or(Error::NotPositiveDefinite {
            name: "sigma",
            why: "its Cholesky factorisation fails (an eigenvalue is ≤ 0)",
        })?;
        Ok(Self { mean, covariance: symmetric, cholesky })
    }

    /// `log p(x) = −½ (x − μ)ᵀ Σ⁻¹ (x − μ) − ½ log((2π)ⁿ det Σ)`.
    pub fn log_density(&self, x: &DVector<f64>) -> Result<f64> {
        validation::argument("x", x, self.dimension())?;
        let centred = x - &self.mean;
        validation::no_overflow("x − μ", &centred)?;
        let log_density = -0.5 * centred.dot(&self.precision_times(&centred)?) - self.log_normalizer();
        validation::finite_result("log p(x)", log_density)
    }

    /// The constant `½ log((2π)ⁿ det Σ)` of the negative log-density; it shifts the objective
    /// but not its maximizer.
    pub fn log_normalizer(&self) -> f64 {
        0.5 * (self.dimension() as f64 * std::f64::consts::TAU.ln() + self.cholesky.ln_determinant())
    }

    /// `Σ⁻¹ v`, by two triangular solves with the Cholesky factor (no inverse is formed).
    ///
    /// Errors: `v` of another length than `μ` ([`crate::Error::DimensionMismatch`]) or with a
    /// non-finite entry, and a result too large for `f64` ([`crate::Error::Overflow`]).
    pub fn precision_times(&self, v: &DVector<f64>) -> Result<DVector<f64>> {
        validation::argument("v", v, self.dimension())?;
        let solved = self.cholesky.solve(v);
        validation::no_overflow("Σ⁻¹ v", &solved)?;
        Ok(solved)
    }
}
// ANCHOR_END: gaussian

impl Gaussian {
    /// The mean `μ`.
    pub fn mean(&self) -> &DVector<f64> {
        &self.mean
    }

    /// The covariance `Σ` (symmetrised: `(Σ + Σᵀ)/2`).
    pub fn covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }

    /// The precision matrix `Σ⁻¹`.
    pub fn precision(&self) -> DMatrix<f64> {
        self.cholesky.inverse()
    }

    /// The dimension `n`.
    pub fn dimension(&self) -> usize {
        self.mean.len()
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use nalgebra::{dmatrix, dvector};

    use super::*;

    /// Agreement of two ways to compute the same quantity in `f64`.
    const EXACT: f64 = 1e-12;

    #[test]
    fn standard_normal_density_at_mean() {
        let gaussian = Gaussian::new(dvector![0.0, 0.0], DMatrix::identity(2, 2)).unwrap();
        let expected = -(std::f64::consts::TAU).ln();
        assert_relative_eq!(gaussian.log_density(&dvector![0.0, 0.0]).unwrap(), expected, epsilon = EXACT);
    }

    #[test]
    fn log_density_matches_explicit_inverse() {
        let sigma = dmatrix![2.0, 0.5; 0.5, 1.0];
        let gaussian = Gaussian::new(dvector![1.0, -1.0], sigma.clone()).unwrap();
        let x = dvector![0.3, 0.7];
        let centred = &x - dvector![1.0, -1.0];
        let inverse = sigma.clone().try_inverse().unwrap();
        let expected = -0.5 * (centred.transpose() * inverse * &centred)[0]
            - 0.5 * (std::f64::consts::TAU.powi(2) * sigma.determinant()).ln();
        assert_relative_eq!(
            gaussian.log_density(&x).unwrap(),
            expected,
            epsilon = EXACT,
            max_relative = EXACT
        );
    }

    #[test]
    fn rejects_asymmetric_and_indefinite_covariances() {
        let asymmetric = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 0.5; 0.0, 1.0]);
        assert!(matches!(asymmetric, Err(Error::NotPositiveDefinite { why: "it is not symmetric", .. })));
        let indefinite = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 2.0; 2.0, 1.0]);
        assert!(matches!(indefinite, Err(Error::NotPositiveDefinite { .. })));
    }
}
