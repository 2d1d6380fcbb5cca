//! Penalty (a) of exercise 1: `Ω(x) = λ‖x − x₀‖²`, a ball around a reference input `x₀` (the
//! mean scene). Nothing in it prefers images that look like data: what the network's gradient
//! asks for, it gets, so high-frequency patterns the data never show appear.

use nalgebra::DVector;

use super::penalty::InputPenalty;
use crate::error::{Error, Result};

/// `Ω(x) = λ‖x − x₀‖²`.
#[derive(Debug, Clone, PartialEq)]
pub struct L2Penalty {
    lambda: f64,
    anchor: DVector<f64>,
}

impl L2Penalty {
    /// `λ‖x − x₀‖²` with `λ > 0` (otherwise the objective is unbounded above or flat) and a
    /// finite `x₀`.
    pub fn new(lambda: f64, anchor: DVector<f64>) -> Result<Self> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda.to_string(),
                why: "the L2 penalty needs a finite λ > 0".into(),
            });
        }
        if let Some(index) = anchor.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "the reference input x₀", index, value: anchor[index] });
        }
        Ok(Self { lambda, anchor })
    }

    /// `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// `x₀`.
    pub fn anchor(&self) -> &DVector<f64> {
        &self.anchor
    }
}

impl InputPenalty for L2Penalty {
    fn value(&self, x: &DVector<f64>) -> Result<f64> {
        Ok(self.lambda * (x - &self.anchor).norm_squared())
    }

    /// `∇Ω(x) = 2λ(x − x₀)`.
    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        Ok((x - &self.anchor) * (2.0 * self.lambda))
    }
}
