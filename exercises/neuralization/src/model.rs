//! The one-class SVM of exercise sheet 11, exercise 3: `f(x) = Σ_i α_i exp(−γ ‖x − u_i‖²)` and its
//! outlier score `o(x) = −γ⁻¹ log f(x)`.

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result, check_finite_input, check_gamma};
use crate::softmin::soft_min;

// ANCHOR: model
/// A one-class SVM with Gaussian kernel `k(x, x') = exp(−γ ‖x − x'‖²)`: support vectors `u_i`
/// (the rows of an `M × d` matrix), weights `α_i > 0` and width `γ > 0`
/// (exercise sheet 11, exercise 3). The fields are private so that every model is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct OneClassSvm {
    support_vectors: DMatrix<f64>,
    alpha: DVector<f64>,
    gamma: f64,
}
// ANCHOR_END: model

impl OneClassSvm {
    /// A model from its support vectors (one per row), weights and kernel width.
    ///
    /// Errors: no rows → [`Error::NoSupportVectors`]; zero columns, a non-finite coordinate,
    /// `α_i ≤ 0` or non-finite, `γ ≤ 0` or non-finite → [`Error::InvalidParameter`]; one weight
    /// per row is required → [`Error::DimensionMismatch`]; a layer-1 bias `−γ⁻¹ log α_i` beyond
    /// `f64` (only for sub-normal `γ`) → [`Error::Overflow`].
    pub fn new(support_vectors: DMatrix<f64>, alpha: DVector<f64>, gamma: f64) -> Result<Self> {
        if support_vectors.nrows() == 0 {
            return Err(Error::NoSupportVectors);
        }
        if support_vectors.ncols() == 0 {
            return Err(Error::invalid("dimension", 0.0, "support vectors need at least one coordinate"));
        }
        if alpha.len() != support_vectors.nrows() {
            return Err(Error::DimensionMismatch {
                what: "alpha",
                expected: support_vectors.nrows(),
                found: alpha.len(),
            });
        }
        for (i, row) in support_vectors.row_iter().enumerate() {
            if let Some(k) = row.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(format!("u[{i}][{k}]"), row[k], "support vectors must be finite"));
            }
        }
        if let Some(i) = alpha.iter().position(|a| !(a.is_finite() && *a > 0.0)) {
            return Err(Error::invalid(
                format!("alpha[{i}]"),
                alpha[i],
                "weights must be positive and finite",
            ));
        }
        check_gamma(gamma)?;
        if alpha.iter().any(|a| !(a.ln() / gamma).is_finite()) {
            return Err(Error::Overflow { what: "the layer-1 bias −γ⁻¹ log α_i" });
        }
        Ok(Self { support_vectors, alpha, gamma })
    }

    /// The same support vectors and weights with another kernel width (the sheet's limit
    /// `γ → ∞` keeps `u_i` and `α_i` fixed).
    pub fn with_gamma(&self, gamma: f64) -> Result<Self> {
        Self::new(self.support_vectors.clone(), self.alpha.clone(), gamma)
    }

    /// The support vectors `u_i`, one per row.
    pub fn support_vectors(&self) -> &DMatrix<f64> {
        &self.support_vectors
    }

    /// The weights `α_i`.
    pub fn alpha(&self) -> &DVector<f64> {
        &self.alpha
    }

    /// The kernel width `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The number `M` of support vectors.
    pub fn len(&self) -> usize {
        self.support_vectors.nrows()
    }

    /// Always `false`: a model has at least one support vector.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The input dimension `d`.
    pub fn dimension(&self) -> usize {
        self.support_vectors.ncols()
    }

    /// Checks that `x` has the model's dimension and finite coordinates.
    pub(crate) fn check_input(&self, x: &[f64]) -> Result<()> {
        if x.len() != self.dimension() {
            return Err(Error::DimensionMismatch { what: "x", expected: self.dimension(), found: x.len() });
        }
        check_finite_input(x)
    }

    /// The squared distances `d_i² = ‖x − u_i‖²` to every support vector.
    pub fn squared_distances(&self, x: &[f64]) -> Result<Vec<f64>> {
        self.check_input(x)?;
        let distances: Vec<f64> = self
            .support_vectors
            .row_iter()
            .map(|u| u.iter().zip(x).map(|(ui, xi)| (xi - ui) * (xi - ui)).sum())
            .collect();
        if distances.iter().any(|d| !d.is_finite()) {
            return Err(Error::Overflow { what: "the squared distance ‖x − u_i‖²" });
        }
        Ok(distances)
    }

    // ANCHOR: inlierness
    /// The inlierness `f(x) = Σ_i α_i exp(−γ ‖x − u_i‖²)`, summed literally as on the sheet.
    ///
    /// This is the model's definition, and what linfa-svm's decision function adds `−ρ` to; far
    /// from every support vector it underflows to `0` (e.g. `γ ‖x − u_i‖² > 745`), which is why
    /// [`OneClassSvm::outlier_score`] never goes through it.
    pub fn inlierness(&self, x: &[f64]) -> Result<f64> {
        let distances = self.squared_distances(x)?;
        Ok(distances.iter().zip(self.alpha.iter()).map(|(d, a)| a * (-self.gamma * d).exp()).sum())
    }
    // ANCHOR_END: inlierness

    /// `−γ⁻¹ log f(x)` through [`OneClassSvm::inlierness`], literally: the slow reference for tests.
    /// It is `+∞` once `f(x)` underflows; use it only where `f(x)` is a normal number.
    pub fn outlier_score_naive(&self, x: &[f64]) -> Result<f64> {
        Ok(-self.inlierness(x)?.ln() / self.gamma)
    }

    // ANCHOR: outlier_score
    /// The outlier score `o(x) = −γ⁻¹ log f(x)` (exercise sheet 11, exercise 3), evaluated as the
    /// soft-min of `h_i = ‖x − u_i‖² − γ⁻¹ log α_i` (3a), which [`soft_min`] evaluates with the
    /// minimum factored out. Never forms `f(x)` or `γ ‖x − u_i‖²`, so it stays finite and accurate
    /// where `f(x)` underflows and for `γ` from `1e-6` to `1e300`.
    pub fn outlier_score(&self, x: &[f64]) -> Result<f64> {
        let h = self.hidden(x)?;
        soft_min(&h, self.gamma)
    }
    // ANCHOR_END: outlier_score

    // ANCHOR: hidden
    /// Layer 1 of the neuralized model: `h_i = ‖x − u_i‖² − γ⁻¹ log α_i`.
    pub fn hidden(&self, x: &[f64]) -> Result<Vec<f64>> {
        let distances = self.squared_distances(x)?;
        let h: Vec<f64> =
            distances.iter().zip(self.alpha.iter()).map(|(d, a)| d - a.ln() / self.gamma).collect();
        if h.iter().any(|v| !v.is_finite()) {
            return Err(Error::Overflow { what: "the pre-activation h_i" });
        }
        Ok(h)
    }
    // ANCHOR_END: hidden

    /// `min_i ‖x − u_i‖²`, the squared distance to the nearest support vector: the limit of
    /// `o(x)` as `γ → ∞` with `u_i`, `α_i` fixed (exercise 3b).
    pub fn nearest_squared_distance(&self, x: &[f64]) -> Result<f64> {
        Ok(self.squared_distances(x)?.into_iter().fold(f64::INFINITY, f64::min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const EXACT: f64 = 1e-12;

    fn two_points() -> OneClassSvm {
        OneClassSvm::new(
            DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 0.0]),
            DVector::from_vec(vec![0.5, 0.25]),
            2.0,
        )
        .unwrap()
    }

    #[test]
    fn score_is_minus_log_inlierness_over_gamma() {
        let model = two_points();
        let x = [0.3, -0.2];
        let f = 0.5 * (-2.0 * 0.13_f64).exp() + 0.25 * (-2.0 * 0.53_f64).exp();
        assert_relative_eq!(model.inlierness(&x).unwrap(), f, max_relative = EXACT);
        assert_relative_eq!(model.outlier_score(&x).unwrap(), -f.ln() / 2.0, max_relative = EXACT);
    }

    #[test]
    fn far_point_underflows_f_but_not_o() {
        let model = two_points();
        let x = [1e3, 0.0];
        assert_eq!(model.inlierness(&x).unwrap(), 0.0);
        assert!(model.outlier_score(&x).unwrap().is_finite());
    }
}
