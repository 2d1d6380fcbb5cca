//! The numeric solver: gradient ascent with a backtracking step, independent of the closed forms.

use nalgebra::DVector;

use crate::{Error, Objective, Result, validation};

/// Default [`GradientAscent::tolerance`]: stop once the gradient norm has shrunk by this factor.
pub const DEFAULT_TOLERANCE: f64 = 1e-12;
/// Default [`GradientAscent::max_iterations`].
pub const DEFAULT_MAX_ITERATIONS: usize = 100_000;
/// Default [`GradientAscent::initial_step`].
pub const DEFAULT_INITIAL_STEP: f64 = 1.0;
/// How often one iteration may halve its step before the ascent gives up.
pub const MAX_HALVINGS: usize = 200;

// ANCHOR: ascent_types
/// Gradient ascent `v ← v + t ∇g(v)` with a backtracking step `t`
/// (exercise sheet 11, exercise 1, solved numerically).
///
/// Each iteration first tries twice the previous step and halves it until the new point has
/// not passed the maximum along the search direction, i.e. until `∇g(v + t d)ᵀ d ≥ 0` with
/// `d = ∇g(v)`. For a concave `g` this keeps `t` within a factor 2 of the exact line search,
/// and `g` never decreases. The test uses gradients only: near the maximum, differences of
/// `g` drown in rounding long before its gradient does.
///
/// It stops when `‖∇g(v_k)‖ ≤ tolerance · max(‖∇g(v₀)‖, ‖∇g(0)‖)`, relative to the gradient at
/// the start and at the origin so that the rule does not depend on the units of `w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientAscent {
    /// Relative gradient-norm tolerance of the stopping rule, in `(0, 1)`.
    pub tolerance: f64,
    /// Iterations allowed before [`Error::NotConverged`].
    pub max_iterations: usize,
    /// The first step size tried, positive.
    pub initial_step: f64,
    /// Whether [`Ascent::path`] keeps every iterate (for plotting); off by default, since the
    /// path takes `(iterations + 1) · d` numbers.
    pub keep_path: bool,
}

/// The result of a converged ascent.
#[derive(Debug, Clone, PartialEq)]
pub struct Ascent {
    /// The last iterate, the numeric maximizer.
    pub argmax: DVector<f64>,
    /// Number of iterations (steps taken).
    pub iterations: usize,
    /// `‖∇g‖` at [`Ascent::argmax`].
    pub gradient_norm: f64,
    /// With [`GradientAscent::keep_path`], every iterate from the start to [`Ascent::argmax`]
    /// (`iterations + 1` points); otherwise empty.
    pub path: Vec<DVector<f64>>,
}
// ANCHOR_END: ascent_types

impl Default for GradientAscent {
    fn default() -> Self {
        Self {
            tolerance: DEFAULT_TOLERANCE,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            initial_step: DEFAULT_INITIAL_STEP,
            keep_path: false,
        }
    }
}

// ANCHOR: maximize
impl GradientAscent {
    /// The same settings, keeping every iterate in [`Ascent::path`].
    pub fn keeping_path(self) -> Self {
        Self { keep_path: true, ..self }
    }

    /// Maximizes `objective` starting from `start`.
    ///
    /// Errors: invalid settings ([`Error::InvalidParameter`]), a `start` of the wrong length or
    /// with non-finite entries, an iterate that overflows ([`Error::Overflow`]), and
    /// [`Error::NotConverged`] if the stopping rule is not met within `max_iterations`, and
    /// [`Error::LineSearchFailed`] if no step of [`MAX_HALVINGS`] halvings makes progress.
    pub fn maximize<O: Objective + ?Sized>(&self, objective: &O, start: &DVector<f64>) -> Result<Ascent> {
        self.validate()?;
        validation::vector_length("start", start, objective.dimension())?;
        validation::finite_entries("start", start)?;
        let origin_gradient = objective.gradient(&DVector::zeros(start.len()))?;
        let mut point = start.clone();
        let mut gradient = objective.gradient(&point)?;
        let threshold = self.tolerance * gradient.norm().max(origin_gradient.norm());
        let mut path = if self.keep_path { vec![point.clone()] } else { Vec::new() };
        let mut step = 0.5 * self.initial_step;
        let mut iteration = 0;
        loop {
            let gradient_norm = gradient.norm();
            if !gradient_norm.is_finite() {
                return Err(Error::Overflow { what: "the gradient during the ascent" });
            }
            if gradient_norm <= threshold {
                return Ok(Ascent { argmax: point, iterations: iteration, gradient_norm, path });
            }
            if iteration == self.max_iterations {
                return Err(Error::NotConverged { iterations: iteration, gradient_norm });
            }
            step *= 2.0;
            let mut halvings = 0;
            loop {
                let candidate = &point + step * &gradient;
                // A step so long that the candidate or its gradient overflows is too long.
                let candidate_gradient = match objective.gradient(&candidate) {
                    Ok(g) => Some(g),
                    Err(Error::Overflow { .. } | Error::NonFinite { .. }) => None,
                    Err(e) => return Err(e),
                };
                if let Some(candidate_gradient) = candidate_gradient
                    && candidate_gradient.dot(&gradient) >= 0.0
                {
                    validation::no_overflow("an iterate of the ascent", &candidate)?;
                    point = candidate;
                    gradient = candidate_gradient;
                    break;
                }
                halvings += 1;
                if halvings > MAX_HALVINGS {
                    return Err(Error::LineSearchFailed { iteration, halvings: MAX_HALVINGS, gradient_norm });
                }
                step *= 0.5;
            }
            if self.keep_path {
                path.push(point.clone());
            }
            iteration += 1;
        }
    }

    /// `Ok(())` if the settings are usable.
    fn validate(&self) -> Result<()> {
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(Error::InvalidParameter {
                name: "tolerance",
                value: self.tolerance,
                why: "the relative gradient tolerance must lie in (0, 1)",
            });
        }
        if !(self.initial_step.is_finite() && self.initial_step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "initial_step",
                value: self.initial_step,
                why: "the first step size must be positive and finite",
            });
        }
        Ok(())
    }
}
// ANCHOR_END: maximize

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use nalgebra::{dmatrix, dvector};

    use super::*;
    use crate::{Gaussian, GaussianObjective, L2Objective, LinearModel, closed_form};

    /// Agreement of the converged ascent with the closed form.
    const SOLVER: f64 = 1e-9;
    /// Rounding allowed when comparing objective values along the path.
    const ROUNDING: f64 = 1e-12;

    #[test]
    fn finds_the_anisotropic_gaussian_prototype_and_never_decreases() {
        let model = LinearModel::new(dvector![1.0, 0.5], 0.0).unwrap();
        let prior = Gaussian::new(dvector![0.5, -0.5], dmatrix![1.0, 0.6; 0.6, 0.5]).unwrap();
        let objective = GaussianObjective::new(model, prior).unwrap();
        let ascent =
            GradientAscent::default().keeping_path().maximize(&objective, &dvector![-2.0, 2.0]).unwrap();
        let exact = closed_form::gaussian_prototype(&objective).unwrap();
        assert_relative_eq!(ascent.argmax, exact, epsilon = SOLVER, max_relative = SOLVER);
        assert_eq!(ascent.path.len(), ascent.iterations + 1);
        let values: Vec<f64> = ascent.path.iter().map(|x| objective.value(x).unwrap()).collect();
        assert!(values.windows(2).all(|pair| pair[1] >= pair[0] - ROUNDING * pair[0].abs().max(1.0)));
    }

    #[test]
    fn starting_at_the_maximum_takes_no_step() {
        let objective = L2Objective::new(LinearModel::new(dvector![1.0, 2.0], 0.0).unwrap(), 0.5).unwrap();
        let ascent = GradientAscent::default().maximize(&objective, &dvector![1.0, 2.0]).unwrap();
        assert_eq!(ascent.iterations, 0);
    }

    #[test]
    fn reports_non_convergence_and_bad_settings() {
        let objective = L2Objective::new(LinearModel::new(dvector![1.0, 2.0], 0.0).unwrap(), 0.3).unwrap();
        let few = GradientAscent { max_iterations: 2, ..GradientAscent::default() };
        assert!(matches!(
            few.maximize(&objective, &dvector![0.0, 0.0]),
            Err(Error::NotConverged { iterations: 2, gradient_norm }) if gradient_norm > 0.0
        ));
        let bad = GradientAscent { tolerance: 0.0, ..GradientAscent::default() };
        assert!(matches!(bad.maximize(&objective, &dvector![0.0, 0.0]), Err(Error::InvalidParameter { .. })));
        let bad = GradientAscent { initial_step: f64::NAN, ..GradientAscent::default() };
        assert!(matches!(bad.maximize(&objective, &dvector![0.0, 0.0]), Err(Error::InvalidParameter { .. })));
        let start = GradientAscent::default().maximize(&objective, &dvector![0.0]);
        assert!(matches!(start, Err(Error::DimensionMismatch { name: "start", .. })));
    }
}
