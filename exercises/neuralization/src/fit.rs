//! Fitting a real one-class SVM with linfa-svm and reading off `u_i`, `α_i`, `γ`.

use linfa::dataset::{Dataset, Pr};
use linfa::traits::Fit;
use linfa_svm::Svm;
use nalgebra::{DMatrix, DVector};
use ndarray::{Array2, ArrayView1};

use crate::error::{Error, Result};
use crate::model::OneClassSvm;

/// linfa-svm's own cut-off for a support vector: `|α_i| > 100 · ε_f64` (see its `nsupport`).
pub const SUPPORT_THRESHOLD: f64 = 100.0 * f64::EPSILON;

/// ν of the model in the book: at most this fraction of training points lies outside.
pub const NU: f64 = 0.1;
/// linfa's Gaussian width `eps` of the model in the book; the sheet's `γ = 1/eps`.
pub const KERNEL_EPS: f64 = 0.5;

// ANCHOR: fitted
/// A linfa-svm one-class fit together with our [`OneClassSvm`] read off from it.
#[derive(Debug, Clone)]
pub struct FittedOneClassSvm {
    /// Our model: the training rows with `α_i > ` [`SUPPORT_THRESHOLD`], their `α_i`, `γ = 1/eps`.
    pub model: OneClassSvm,
    /// linfa's offset `ρ`: its decision value is `f(x) − ρ`.
    pub rho: f64,
    /// The training rows that became support vectors, in order.
    pub support_indices: Vec<usize>,
    svm: Svm<f64, bool>,
}
// ANCHOR_END: fitted

impl FittedOneClassSvm {
    /// linfa's decision value `Σ_i α_i exp(−‖x − x_i‖²/eps) − ρ` at `x`.
    pub fn linfa_decision(&self, x: &[f64]) -> Result<f64> {
        self.model.check_input(x)?;
        Ok(self.svm.weighted_sum(&ArrayView1::from(x)) - self.rho)
    }
}

// ANCHOR: fit
/// Fits `Svm::<f64, Pr>::params().nu_weight(ν).gaussian_kernel(eps)` on the rows of `data` and
/// extracts the support vectors (rows with `α_i > 100 ε`), their weights and `γ = 1/eps`.
///
/// Errors: `ν ∉ (0, 1]`, `eps ≤ 0` or a non-finite value → [`Error::InvalidParameter`]; no rows →
/// [`Error::NoSupportVectors`] (as does a fit without any support vector); a fit whose offset ρ
/// is not finite (ν = 1 puts every point at its bound) → [`Error::InvalidParameter`] on ν.
pub fn fit_one_class_svm(data: &DMatrix<f64>, nu: f64, eps: f64) -> Result<FittedOneClassSvm> {
    if !(nu > 0.0 && nu <= 1.0) {
        return Err(Error::invalid("nu", nu, "ν must lie in (0, 1]"));
    }
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::invalid("eps", eps, "the kernel width must be positive and finite"));
    }
    if data.nrows() == 0 || data.ncols() == 0 {
        return Err(Error::NoSupportVectors);
    }
    if let Some(v) = data.iter().find(|v| !v.is_finite()) {
        return Err(Error::invalid("data", *v, "training points must be finite"));
    }
    let records = Array2::from_shape_fn((data.nrows(), data.ncols()), |(i, k)| data[(i, k)]);
    let svm = Svm::<f64, Pr>::params()
        .nu_weight(nu)
        .gaussian_kernel(eps)
        .fit(&Dataset::from(records))
        .map_err(|_| Error::invalid("nu", nu, "linfa-svm rejected the parameters"))?;
    let support_indices: Vec<usize> =
        svm.alpha.iter().enumerate().filter(|(_, a)| **a > SUPPORT_THRESHOLD).map(|(i, _)| i).collect();
    if support_indices.is_empty() {
        return Err(Error::NoSupportVectors);
    }
    if !svm.rho.is_finite() {
        // With ν = 1 every α_i sits at its bound 1/(νn) and no free support vector fixes ρ;
        // linfa-svm then returns ρ = ±∞.
        return Err(Error::invalid(
            "nu",
            nu,
            "linfa-svm's fit has no finite offset ρ (every point is a bounded support vector); use a ν below 1",
        ));
    }
    let support_vectors = data.select_rows(&support_indices);
    let alpha = DVector::from_iterator(support_indices.len(), support_indices.iter().map(|&i| svm.alpha[i]));
    let model = OneClassSvm::new(support_vectors, alpha, 1.0 / eps)?;
    Ok(FittedOneClassSvm { model, rho: svm.rho, support_indices, svm })
}
// ANCHOR_END: fit

/// The model of the book: [`fit_one_class_svm`] on [`crate::data::two_blobs`] with [`NU`] and
/// [`KERNEL_EPS`].
pub fn book_model() -> Result<FittedOneClassSvm> {
    let data = crate::data::two_blobs(crate::data::POINTS_PER_BLOB, crate::data::SEED);
    fit_one_class_svm(&data, NU, KERNEL_EPS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// linfa sums the same terms in the same order: agreement is to rounding.
    const SAME_SUM: f64 = 1e-12;

    #[test]
    fn our_f_is_linfas_decision_plus_rho() {
        let fitted = book_model().unwrap();
        let m = fitted.model.len();
        assert!(m >= (NU * 2.0 * crate::data::POINTS_PER_BLOB as f64) as usize);
        for x in [[0.0, 0.0], [-1.5, -0.5], [2.0, 2.0], [5.0, -4.0]] {
            let ours = fitted.model.inlierness(&x).unwrap();
            let linfa = fitted.linfa_decision(&x).unwrap() + fitted.rho;
            assert_relative_eq!(ours, linfa, epsilon = SAME_SUM, max_relative = SAME_SUM);
        }
        eprintln!("M = {m}, rho = {}, alpha = {:?}", fitted.rho, fitted.model.alpha().as_slice());
    }
}
