//! A penalty on the input and the objective `g(x) = f_c(x) − Ω(x)` it makes with a class
//! score, maximised over the valid pixel range.

use nalgebra::DVector;

use super::ascent::Objective;
use super::score::ClassScore;
use crate::error::Result;

/// `Ω(x)`, a penalty on the input, and its gradient.
pub trait InputPenalty {
    /// `Ω(x)`.
    fn value(&self, x: &DVector<f64>) -> Result<f64>;
    /// `∇Ω(x)`.
    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>>;
}

/// `g(x) = f_c(x) − Ω(x)` over the box `range` of every input value (or over all inputs).
pub struct InputObjective<'a> {
    /// The class scores `f`.
    pub score: &'a dyn ClassScore,
    /// The class `c`.
    pub class: usize,
    /// `Ω`.
    pub penalty: &'a dyn InputPenalty,
    /// `[low, high]` for every input value (pixel values), or `None` for no constraint.
    pub range: Option<(f64, f64)>,
}

impl Objective for InputObjective<'_> {
    fn value(&self, x: &DVector<f64>) -> Result<f64> {
        Ok(self.score.logits(x)?[self.class] - self.penalty.value(x)?)
    }

    /// `∇g(x) = ∇f_c(x) − ∇Ω(x)`.
    fn value_and_gradient(&self, x: &DVector<f64>) -> Result<(f64, DVector<f64>)> {
        let (logits, gradient) = self.score.logits_and_gradient(x, self.class)?;
        Ok((logits[self.class] - self.penalty.value(x)?, gradient - self.penalty.gradient(x)?))
    }

    /// Clamps every value into the range.
    fn project(&self, x: DVector<f64>) -> DVector<f64> {
        clamp(x, self.range)
    }
}

/// `x` with every value clamped to `range` (unchanged for `None`).
pub fn clamp(x: DVector<f64>, range: Option<(f64, f64)>) -> DVector<f64> {
    match range {
        Some((low, high)) => x.map(|v| v.clamp(low, high)),
        None => x,
    }
}
