//! The neuralized one-class SVM (exercise sheet 11, exercise 3a): a distance layer and a soft-min
//! pooling layer with explicit weights, computing the same `o(x)` as [`OneClassSvm`].

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};
use crate::model::OneClassSvm;
use crate::softmin::{min_pooling, soft_min};

// ANCHOR: network
/// The two-layer network of exercise 3a, as data:
///
/// - layer 1, one neuron per support vector: `h_i = ‖x − c_i‖² + b_i` with centre `c_i = u_i`
///   and bias `b_i = −γ⁻¹ log α_i`;
/// - layer 2: the soft-min `−γ⁻¹ log Σ_i exp(−γ h_i)`, or, in the limit `γ → ∞`, the
///   min-pooling `min_i h_i`.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerNetwork {
    /// The centres `c_i = u_i`, one per row.
    pub centres: DMatrix<f64>,
    /// The biases `b_i = −γ⁻¹ log α_i`.
    pub biases: DVector<f64>,
    /// The soft-min stiffness `γ`.
    pub gamma: f64,
}
// ANCHOR_END: network

impl TwoLayerNetwork {
    // ANCHOR: from_model
    /// The network equal to `model`: centres `u_i`, biases `−γ⁻¹ log α_i`, stiffness `γ`.
    pub fn from_model(model: &OneClassSvm) -> Self {
        let gamma = model.gamma();
        let biases = model.alpha().map(|a| -a.ln() / gamma);
        Self { centres: model.support_vectors().clone(), biases, gamma }
    }
    // ANCHOR_END: from_model

    // ANCHOR: layers
    /// Layer 1: `h_i = ‖x − c_i‖² + b_i`.
    pub fn layer1(&self, x: &[f64]) -> Result<Vec<f64>> {
        if x.len() != self.centres.ncols() {
            return Err(Error::DimensionMismatch {
                what: "x",
                expected: self.centres.ncols(),
                found: x.len(),
            });
        }
        if self.biases.len() != self.centres.nrows() {
            return Err(Error::DimensionMismatch {
                what: "biases",
                expected: self.centres.nrows(),
                found: self.biases.len(),
            });
        }
        crate::error::check_finite_input(x)?;
        let h: Vec<f64> = self
            .centres
            .row_iter()
            .zip(self.biases.iter())
            .map(|(c, b)| c.iter().zip(x).map(|(ci, xi)| (xi - ci).powi(2)).sum::<f64>() + b)
            .collect();
        if h.iter().any(|v| !v.is_finite()) {
            return Err(Error::Overflow { what: "the pre-activation h_i" });
        }
        Ok(h)
    }

    /// The network's output: layer 2 (soft-min) applied to layer 1.
    pub fn forward(&self, x: &[f64]) -> Result<f64> {
        soft_min(&self.layer1(x)?, self.gamma)
    }

    /// The output with layer 2 replaced by its `γ → ∞` limit, the min-pooling `min_i h_i`.
    pub fn forward_min_pooling(&self, x: &[f64]) -> Result<f64> {
        min_pooling(&self.layer1(x)?)
    }
    // ANCHOR_END: layers
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn network_reproduces_the_model() {
        let model = OneClassSvm::new(
            DMatrix::from_row_slice(3, 1, &[0.0, 1.0, 3.0]),
            DVector::from_vec(vec![0.2, 0.7, 0.1]),
            1.5,
        )
        .unwrap();
        let network = TwoLayerNetwork::from_model(&model);
        for x in [-1.0, 0.4, 2.2] {
            assert_relative_eq!(
                network.forward(&[x]).unwrap(),
                model.outlier_score_naive(&[x]).unwrap(),
                max_relative = 1e-12
            );
        }
    }
}
