//! Penalty (b) of exercise 1: `Ω(x) = −λ log N(x; μ, Σ)` with `μ`, `Σ` fitted to training
//! scenes as a [`LowRankGaussian`] (probabilistic PCA). It pulls the prototype towards the
//! scenes' mean and lets it move cheaply only along the directions in which scenes vary
//! (their colours and layout), and expensively (`1/σ²`) along every other direction.
//!
//! The exercise has `λ = 1`. A `λ < 1` is the prior `N(μ, Σ/λ)` up to a constant: the same
//! directions, wider; on images, where `log N` changes by thousands between scenes and a logit
//! by tens, `λ = 1` leaves the prototype at the mean.

use nalgebra::DVector;

use super::low_rank_gaussian::LowRankGaussian;
use super::penalty::InputPenalty;
use crate::error::{Error, Result};

/// `Ω(x) = −λ log N(x; μ, Σ)`.
#[derive(Debug, Clone, Copy)]
pub struct GaussianPrior<'a> {
    density: &'a LowRankGaussian,
    lambda: f64,
}

impl<'a> GaussianPrior<'a> {
    /// The penalty `−λ log N` of the fitted Gaussian `density`, `λ > 0`.
    pub fn new(density: &'a LowRankGaussian, lambda: f64) -> Result<Self> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda.to_string(),
                why: "the Gaussian prior's weight must be finite and positive".into(),
            });
        }
        Ok(Self { density, lambda })
    }
}

impl InputPenalty for GaussianPrior<'_> {
    fn value(&self, x: &DVector<f64>) -> Result<f64> {
        Ok(-self.lambda * self.density.log_density(x)?)
    }

    /// `∇Ω(x) = λ Σ⁻¹(x − μ)`.
    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        Ok(self.density.log_density_gradient(x)? * -self.lambda)
    }
}
