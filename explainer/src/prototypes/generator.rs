//! Penalty (c) of exercise 1: the prototype is generated, `x = A z + c`, and only the code is
//! penalised, `Ω(z) = λ‖z‖²` (`z ~ N(0, I)` a priori). With `A` the loading and `c` the mean
//! of the fitted [`LowRankGaussian`] (probabilistic PCA's noise-free part), every prototype
//! lies in the span of the scenes' top principal directions around their mean.
//!
//! On images the generated values are clamped to the pixel range, `x = clip(A z + c)`, and
//! the gradient `Aᵀ (𝟙[inside] ⊙ ∇f_c(x)) − 2λ z` flows through the pixels inside it only.

use nalgebra::{DMatrix, DVector};

use super::ascent::Objective;
use super::low_rank_gaussian::LowRankGaussian;
use super::penalty::clamp;
use super::score::ClassScore;
use crate::error::{Error, Result};

/// `x = A z + c` with `Ω(z) = λ‖z‖²`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGenerator {
    matrix: DMatrix<f64>,
    offset: DVector<f64>,
    lambda: f64,
}

impl LinearGenerator {
    /// The generator `A z + c` (`A` is `d × k`, `c` has `d` entries) with penalty weight `λ > 0`.
    pub fn new(matrix: DMatrix<f64>, offset: DVector<f64>, lambda: f64) -> Result<Self> {
        if offset.len() != matrix.nrows() {
            return Err(Error::ShapeMismatch {
                what: "the generator's offset c",
                expected: matrix.nrows().to_string(),
                found: offset.len().to_string(),
            });
        }
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda.to_string(),
                why: "the generator's code penalty needs a finite λ > 0".into(),
            });
        }
        Ok(Self { matrix, offset, lambda })
    }

    /// `A = W` and `c = μ` of probabilistic PCA.
    pub fn from_gaussian(density: &LowRankGaussian, lambda: f64) -> Result<Self> {
        Self::new(density.loading(), density.mean().clone(), lambda)
    }

    /// `A`.
    pub fn matrix(&self) -> &DMatrix<f64> {
        &self.matrix
    }

    /// `c`.
    pub fn offset(&self) -> &DVector<f64> {
        &self.offset
    }

    /// `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The code's length `k`.
    pub fn code_len(&self) -> usize {
        self.matrix.ncols()
    }

    /// `A z + c`, clamped to `range`.
    pub fn generate(&self, code: &DVector<f64>, range: Option<(f64, f64)>) -> Result<DVector<f64>> {
        if code.len() != self.code_len() {
            return Err(Error::ShapeMismatch {
                what: "the generator's code z",
                expected: self.code_len().to_string(),
                found: code.len().to_string(),
            });
        }
        Ok(clamp(&self.matrix * code + &self.offset, range))
    }

    /// `Ω(z) = λ‖z‖²`.
    pub fn penalty(&self, code: &DVector<f64>) -> f64 {
        self.lambda * code.norm_squared()
    }
}

/// `g(z) = f_c(clip(A z + c)) − λ‖z‖²`, maximised over the code `z`.
pub struct CodeObjective<'a> {
    /// The class scores `f`.
    pub score: &'a dyn ClassScore,
    /// The class `c`.
    pub class: usize,
    /// The generator and its penalty.
    pub generator: &'a LinearGenerator,
    /// The range the generated values are clamped to, or `None`.
    pub range: Option<(f64, f64)>,
}

impl Objective for CodeObjective<'_> {
    fn value(&self, z: &DVector<f64>) -> Result<f64> {
        let x = self.generator.generate(z, self.range)?;
        Ok(self.score.logits(&x)?[self.class] - self.generator.penalty(z))
    }

    /// `∇g(z) = Aᵀ (𝟙[A z + c inside the range] ⊙ ∇f_c(x)) − 2λ z`.
    fn value_and_gradient(&self, z: &DVector<f64>) -> Result<(f64, DVector<f64>)> {
        let unclamped = self.generator.generate(z, None)?;
        let x = clamp(unclamped.clone(), self.range);
        let (logits, mut gradient) = self.score.logits_and_gradient(&x, self.class)?;
        if let Some((low, high)) = self.range {
            for (g, v) in gradient.iter_mut().zip(unclamped.iter()) {
                if *v < low || *v > high {
                    *g = 0.0;
                }
            }
        }
        let code_gradient = self.generator.matrix.tr_mul(&gradient) - z * (2.0 * self.generator.lambda);
        Ok((logits[self.class] - self.generator.penalty(z), code_gradient))
    }
}
