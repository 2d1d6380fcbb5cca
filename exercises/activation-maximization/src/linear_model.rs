//! The linear model `f(x) = wᵀx + b` whose output activation maximization explains.

use nalgebra::DVector;

use crate::{Result, validation};

// ANCHOR: linear_model
/// The linear model `f(x) = wᵀx + b` of exercise sheet 11, exercise 1.
///
/// Its gradient is `∇f(x) = w` everywhere: the model grows fastest along `w`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    weights: DVector<f64>,
    bias: f64,
}

impl LinearModel {
    /// The model with weights `w` and bias `b`; every entry must be finite.
    pub fn new(weights: DVector<f64>, bias: f64) -> Result<Self> {
        validation::finite_entries("w", &weights)?;
        validation::finite_scalar("b", bias)?;
        Ok(Self { weights, bias })
    }

    /// The output `f(x) = wᵀx + b`; `x` must have as many entries as `w`.
    pub fn output(&self, x: &DVector<f64>) -> Result<f64> {
        validation::argument("x", x, self.dimension())?;
        validation::finite_result("the model output wᵀx + b", self.weights.dot(x) + self.bias)
    }
}
// ANCHOR_END: linear_model

impl LinearModel {
    /// The weights `w`.
    pub fn weights(&self) -> &DVector<f64> {
        &self.weights
    }

    /// The bias `b`.
    pub fn bias(&self) -> f64 {
        self.bias
    }

    /// The input dimension `n` (length of `w`).
    pub fn dimension(&self) -> usize {
        self.weights.len()
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::dvector;

    use super::*;
    use crate::Error;

    #[test]
    fn output_is_affine() {
        let model = LinearModel::new(dvector![1.0, -2.0], 0.5).unwrap();
        assert_eq!(model.output(&dvector![3.0, 1.0]).unwrap(), 3.0 - 2.0 + 0.5);
    }

    #[test]
    fn rejects_non_finite_weights_and_wrong_input_length() {
        assert!(matches!(
            LinearModel::new(dvector![1.0, f64::NAN], 0.0),
            Err(Error::NonFinite { name: "w", index: 1, .. })
        ));
        let model = LinearModel::new(dvector![1.0, 2.0], 0.0).unwrap();
        assert!(matches!(model.output(&dvector![1.0]), Err(Error::DimensionMismatch { name: "x", .. })));
    }
}
