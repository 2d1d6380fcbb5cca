//! Explaining an outlier score: how much of `o(x)` each support vector and each input feature
//! carries. Follows the neuralize-then-propagate idea of Kauffmann, Müller, Montavon, "Towards
//! Explaining Anomalies: A Deep Taylor Decomposition of One-Class Models" (Pattern Recognition
//! 2020), with an exact treatment of the `−γ⁻¹ log α_i` bias and of the soft-min (see the book).

use crate::error::Result;
use crate::model::OneClassSvm;
use crate::softmin::{soft_min, soft_min_log_weights, soft_min_weights};

// ANCHOR: explanation
/// The decomposition of one outlier score `o(x)`.
///
/// With the soft-min weights `p_j = exp(−γ h_j) / Σ_k exp(−γ h_k)` the score splits exactly as
///
/// `o(x) = Σ_j p_j o(x) = Σ_i Σ_j p_j (x_i − u_ji)²  +  Σ_j p_j (−γ⁻¹ log α_j)  +  γ⁻¹ Σ_j p_j log p_j`,
///
/// because `h_j + γ⁻¹ log p_j = o(x)` for every `j`. The three sums are
/// [`Explanation::features`] (summed over `i`), [`Explanation::weight_term`] and
/// [`Explanation::pooling_term`].
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The score `o(x)` being explained.
    pub score: f64,
    /// The soft-min weights `p_j` (one-hot on the arg-min for min-pooling).
    pub weights: Vec<f64>,
    /// Relevance of support vector `j`: `R_j = p_j o(x)` (as in the paper); `Σ_j R_j = o(x)`.
    pub support_vectors: Vec<f64>,
    /// Relevance of input feature `i`: `R_i = Σ_j p_j (x_i − u_ji)² ≥ 0`, each squared distance
    /// split over its coordinates.
    pub features: Vec<f64>,
    /// The part of `o(x)` carried by the biases: `Σ_j p_j (−γ⁻¹ log α_j)`; no feature's.
    pub weight_term: f64,
    /// The part carried by the soft-min itself: `γ⁻¹ Σ_j p_j log p_j = −H(p)/γ ∈ [−(log M)/γ, 0]`;
    /// zero for min-pooling.
    pub pooling_term: f64,
}
// ANCHOR_END: explanation

impl Explanation {
    /// `Σ_i R_i + weight_term + pooling_term`, which equals [`Explanation::score`] (conservation).
    pub fn total(&self) -> f64 {
        self.features.iter().sum::<f64>() + self.weight_term + self.pooling_term
    }
}

/// Per-feature squared differences `(x_i − u_ji)²` of support vector `j`.
fn squared_differences(model: &OneClassSvm, x: &[f64], j: usize) -> Vec<f64> {
    model.support_vectors().row(j).iter().zip(x).map(|(u, xi)| (xi - u) * (xi - u)).collect()
}

/// Assembles an explanation from the score, the weights `p_j` and the already computed pooling term.
fn assemble(model: &OneClassSvm, x: &[f64], score: f64, weights: Vec<f64>, pooling_term: f64) -> Explanation {
    let gamma = model.gamma();
    let mut features = vec![0.0; model.dimension()];
    let mut weight_term = 0.0;
    for (j, (&p, &a)) in weights.iter().zip(model.alpha().iter()).enumerate() {
        if p == 0.0 {
            continue;
        }
        for (r, s) in features.iter_mut().zip(squared_differences(model, x, j)) {
            *r += p * s;
        }
        weight_term += p * (-a.ln() / gamma);
    }
    let support_vectors = weights.iter().map(|p| p * score).collect();
    Explanation { score, weights, support_vectors, features, weight_term, pooling_term }
}

// ANCHOR: explain
/// Explains `o(x)` of the soft-min network (see [`Explanation`]). Weights that underflow to 0
/// contribute 0 (the limit of `p log p`), so every entry is finite.
pub fn explain(model: &OneClassSvm, x: &[f64]) -> Result<Explanation> {
    let h = model.hidden(x)?;
    let gamma = model.gamma();
    let score = soft_min(&h, gamma)?;
    let weights = soft_min_weights(&h, gamma)?;
    let log_weights = soft_min_log_weights(&h, gamma)?;
    let pooling_term =
        weights.iter().zip(&log_weights).filter(|(p, _)| **p > 0.0).map(|(p, log_p)| p * log_p / gamma).sum();
    Ok(assemble(model, x, score, weights, pooling_term))
}
// ANCHOR_END: explain

// ANCHOR: explain_min_pooling
/// Explains the min-pooling output `min_j h_j` (the `γ → ∞` network): all relevance goes to the
/// nearest support vector `k` in `h` (the first one on ties), `R_i = (x_i − u_ki)²`, the weight
/// term is `−γ⁻¹ log α_k` and the pooling term is 0; conservation is exact.
pub fn explain_min_pooling(model: &OneClassSvm, x: &[f64]) -> Result<Explanation> {
    let h = model.hidden(x)?;
    let (k, score) = h
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::INFINITY), |best, (j, hj)| if hj < best.1 { (j, hj) } else { best });
    let mut weights = vec![0.0; h.len()];
    weights[k] = 1.0;
    Ok(assemble(model, x, score, weights, 0.0))
}
// ANCHOR_END: explain_min_pooling

// ANCHOR: explain_proportional
/// The paper-style feature relevance, for comparison: each support vector's `R_j = p_j o(x)` is
/// spread over the coordinates in proportion to `(x_i − u_ji)² / ‖x − u_j‖²`, so bias and soft-min
/// shares are handed to the features too. Returns `(R_i, unassigned)`: a support vector with
/// `x = u_j` has no coordinates to split over, and its `R_j` is reported as `unassigned`.
/// Conservation: `Σ_i R_i + unassigned = o(x)`.
pub fn explain_proportional(model: &OneClassSvm, x: &[f64]) -> Result<(Vec<f64>, f64)> {
    let explanation = explain(model, x)?;
    let distances = model.squared_distances(x)?;
    let mut features = vec![0.0; model.dimension()];
    let mut unassigned = 0.0;
    for (j, (&r, &d)) in explanation.support_vectors.iter().zip(&distances).enumerate() {
        if r == 0.0 {
            continue;
        }
        if d == 0.0 {
            unassigned += r;
            continue;
        }
        for (f, s) in features.iter_mut().zip(squared_differences(model, x, j)) {
            *f += r * (s / d);
        }
    }
    Ok((features, unassigned))
}
// ANCHOR_END: explain_proportional

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use nalgebra::{DMatrix, DVector};

    const EXACT: f64 = 1e-12;

    #[test]
    fn conserves_the_score() {
        let model = OneClassSvm::new(
            DMatrix::from_row_slice(3, 2, &[0.0, 0.0, 1.0, 0.5, -1.0, 2.0]),
            DVector::from_vec(vec![0.3, 1.0, 0.05]),
            0.8,
        )
        .unwrap();
        let x = [2.0, -1.0];
        let e = explain(&model, &x).unwrap();
        assert_relative_eq!(e.total(), e.score, max_relative = EXACT);
        assert_relative_eq!(e.support_vectors.iter().sum::<f64>(), e.score, max_relative = EXACT);
        let (paper, unassigned) = explain_proportional(&model, &x).unwrap();
        assert_eq!(unassigned, 0.0);
        assert_relative_eq!(paper.iter().sum::<f64>(), e.score, max_relative = EXACT);
    }
}
