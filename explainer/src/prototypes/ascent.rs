//! Projected gradient ascent with a backtracking (Armijo) step size.
//!
//! Each iteration at `v` with gradient `∇g(v)` tries `v⁺ = P(v + t ∇g(v))` (`P` the
//! projection onto the feasible set: the valid pixel range, or nothing) and halves `t` until
//! the increase is at least a fraction `c` of the one the gradient predicts,
//! `g(v⁺) ≥ g(v) + c ∇g(v)ᵀ(v⁺ − v)`; near a maximum, where `g(v⁺)` and `g(v)` agree to
//! rounding, a step is accepted if the slope at its end still points forward,
//! `∇g(v⁺)ᵀ(v⁺ − v) ≥ 0` (which for `g` concave along the step means it increased). After an accepted step `t` doubles, so the step grows
//! back when the objective allows it. The ascent stops when the gradient mapping
//! `‖P(v + t ∇g(v)) − v‖ / t` (the gradient's norm when nothing is projected, and 0 exactly at
//! a constrained maximum) falls to the tolerance, or at the iteration limit.

use nalgebra::DVector;

use crate::error::{Error, Result};

/// A function to maximise, with its gradient and the set it is maximised over.
pub trait Objective {
    /// `g(v)`.
    fn value(&self, v: &DVector<f64>) -> Result<f64>;
    /// `g(v)` and `∇g(v)`.
    fn value_and_gradient(&self, v: &DVector<f64>) -> Result<(f64, DVector<f64>)>;
    /// The nearest feasible point to `v` (the identity when every point is feasible).
    fn project(&self, v: DVector<f64>) -> DVector<f64> {
        v
    }
}

/// The step-size rule and the stopping criterion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ascent {
    /// The first step size tried.
    pub initial_step: f64,
    /// Armijo's `c` in `(0, 1)`: the fraction of the predicted increase a step must reach.
    pub sufficient_increase: f64,
    /// Stop when the gradient mapping's norm is at most this.
    pub tolerance: f64,
    /// Stop after this many accepted steps.
    pub max_iterations: usize,
}

impl Default for Ascent {
    fn default() -> Self {
        Self { initial_step: 1.0, sufficient_increase: 1e-4, tolerance: 1e-6, max_iterations: 500 }
    }
}

/// Where an ascent ended and how it got there.
#[derive(Debug, Clone, PartialEq)]
pub struct AscentResult {
    /// The last iterate.
    pub point: DVector<f64>,
    /// `g` there.
    pub value: f64,
    /// `g` at the start and after every accepted step (non-decreasing).
    pub values: Vec<f64>,
    /// Accepted steps.
    pub iterations: usize,
    /// The gradient mapping's norm at the last iterate.
    pub stationarity: f64,
    /// Whether [`AscentResult::stationarity`] reached the tolerance (otherwise the iteration
    /// limit was hit, or no step of representable size increased `g`).
    pub converged: bool,
}

/// Relative difference below which two values of the objective are equal to rounding.
const ROUNDING: f64 = 1e-13;

/// Halvings of the step before the line search gives up: `t · 2⁻²⁰⁰` is below any useful step.
const MAX_HALVINGS: usize = 200;

impl Ascent {
    /// Checks the settings: a positive finite step and tolerance, `0 < c < 1`.
    pub fn validate(&self) -> Result<()> {
        let invalid = |name, value: f64, why: &str| {
            Err(Error::InvalidParameter { name, value: value.to_string(), why: why.into() })
        };
        if !(self.initial_step.is_finite() && self.initial_step > 0.0) {
            return invalid("initial step", self.initial_step, "must be finite and positive");
        }
        if !(self.sufficient_increase > 0.0 && self.sufficient_increase < 1.0) {
            return invalid("sufficient increase", self.sufficient_increase, "must lie in (0, 1)");
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return invalid("tolerance", self.tolerance, "must be finite and non-negative");
        }
        Ok(())
    }

    // ANCHOR: maximize
    /// Maximises `objective` from `start` (projected first), calling `progress` with the
    /// iteration and the value after each accepted step.
    pub fn maximize(
        &self,
        objective: &impl Objective,
        start: &DVector<f64>,
        mut progress: impl FnMut(usize, f64),
    ) -> Result<AscentResult> {
        self.validate()?;
        let mut point = objective.project(start.clone());
        let (mut value, mut gradient) = checked(objective.value_and_gradient(&point)?)?;
        let mut values = vec![value];
        let mut step = self.initial_step;
        let mut stationarity = gradient_mapping(objective, &point, &gradient, step);
        let mut iterations = 0;
        while stationarity > self.tolerance && iterations < self.max_iterations {
            let Some(next) = self.line_search(objective, &point, value, &gradient, &mut step)? else {
                break;
            };
            point = next;
            (value, gradient) = checked(objective.value_and_gradient(&point)?)?;
            values.push(value);
            iterations += 1;
            progress(iterations, value);
            step *= 2.0;
            stationarity = gradient_mapping(objective, &point, &gradient, step);
        }
        let converged = stationarity <= self.tolerance;
        Ok(AscentResult { point, value, values, iterations, stationarity, converged })
    }
    // ANCHOR_END: maximize

    /// The first `P(v + t∇g)` with `t = step, step/2, …` that satisfies Armijo's condition;
    /// `step` is left at the accepted size. `None` if no step of representable
    /// size increases `g` (`v` is stationary to rounding).
    fn line_search(
        &self,
        objective: &impl Objective,
        point: &DVector<f64>,
        value: f64,
        gradient: &DVector<f64>,
        step: &mut f64,
    ) -> Result<Option<DVector<f64>>> {
        for _ in 0..MAX_HALVINGS {
            let candidate = objective.project(point + gradient * *step);
            let predicted = gradient.dot(&(&candidate - point));
            if predicted <= 0.0 {
                return Ok(None);
            }
            let candidate_value = objective.value(&candidate)?;
            if candidate_value.is_finite() && candidate_value >= value + self.sufficient_increase * predicted
            {
                return Ok(Some(candidate));
            }
            if (candidate_value - value).abs() <= ROUNDING * value.abs().max(1.0) {
                // The values agree to rounding: they can no longer show an increase. The slope
                // at the step's end still pointing forward does (for g concave along the step).
                let (_, slope) = objective.value_and_gradient(&candidate)?;
                if slope.dot(&(&candidate - point)) >= 0.0 {
                    return Ok(Some(candidate));
                }
            }
            *step /= 2.0;
        }
        Ok(None)
    }
}

/// `‖P(v + t ∇g) − v‖ / t`.
fn gradient_mapping(
    objective: &impl Objective,
    point: &DVector<f64>,
    gradient: &DVector<f64>,
    step: f64,
) -> f64 {
    (objective.project(point + gradient * step) - point).norm() / step
}

/// The value and gradient if they are finite, else the error naming the first bad entry.
fn checked((value, gradient): (f64, DVector<f64>)) -> Result<(f64, DVector<f64>)> {
    if !value.is_finite() {
        return Err(Error::NonFinite { what: "the objective", index: 0, value });
    }
    if let Some(index) = gradient.iter().position(|g| !g.is_finite()) {
        return Err(Error::NonFinite { what: "the objective's gradient", index, value: gradient[index] });
    }
    Ok((value, gradient))
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use nalgebra::{DMatrix, dvector};

    use super::*;

    /// `g(v) = −½ (v − a)ᵀ H (v − a)` with `H` positive definite, optionally over a box.
    struct Quadratic {
        peak: DVector<f64>,
        curvature: DMatrix<f64>,
        bounds: Option<(f64, f64)>,
    }

    impl Objective for Quadratic {
        fn value(&self, v: &DVector<f64>) -> Result<f64> {
            let r = v - &self.peak;
            Ok(-0.5 * r.dot(&(&self.curvature * &r)))
        }
        fn value_and_gradient(&self, v: &DVector<f64>) -> Result<(f64, DVector<f64>)> {
            let r = v - &self.peak;
            Ok((self.value(v)?, -(&self.curvature * r)))
        }
        fn project(&self, v: DVector<f64>) -> DVector<f64> {
            match self.bounds {
                Some((low, high)) => v.map(|x| x.clamp(low, high)),
                None => v,
            }
        }
    }

    fn ill_conditioned(bounds: Option<(f64, f64)>) -> Quadratic {
        Quadratic {
            peak: dvector![0.3, -2.0, 5.0],
            curvature: DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.0, 1.0, 3.0, 0.1, 0.0, 0.1, 0.05]),
            bounds,
        }
    }

    #[test]
    fn reaches_the_maximum_of_a_quadratic_and_never_decreases() {
        let objective = ill_conditioned(None);
        let ascent = Ascent { tolerance: 1e-10, max_iterations: 10_000, ..Ascent::default() };
        let result = ascent.maximize(&objective, &DVector::zeros(3), |_, _| {}).unwrap();
        assert!(result.converged, "{} iterations, stationarity {:e}", result.iterations, result.stationarity);
        // The stopping criterion: the gradient (nothing is projected) is at the tolerance, so
        // the error is at most ‖H⁻¹‖ · 1e-10.
        assert!(result.stationarity <= 1e-10);
        assert_relative_eq!(result.point, objective.peak, epsilon = 1e-8);
        assert!(result.values.windows(2).all(|w| w[1] >= w[0]), "the objective decreased");
        assert_eq!(result.values.len(), result.iterations + 1);
    }

    #[test]
    fn a_too_large_first_step_is_halved_until_the_objective_increases() {
        let objective = ill_conditioned(None);
        let ascent = Ascent { initial_step: 1e6, max_iterations: 1, ..Ascent::default() };
        let result = ascent.maximize(&objective, &DVector::zeros(3), |_, _| {}).unwrap();
        assert_eq!(result.iterations, 1);
        // Armijo's condition holds for the accepted step.
        let (value, gradient) = objective.value_and_gradient(&DVector::zeros(3)).unwrap();
        let increase = result.value - value;
        assert!(increase >= 1e-4 * gradient.dot(&result.point) && increase > 0.0);
        assert!(!result.converged, "one step cannot reach the tolerance");
    }

    #[test]
    fn a_constrained_maximum_is_the_projection_of_the_free_one() {
        // With H = I the maximum over the box [0, 1]³ is the clamped peak (0.3, 0, 1).
        let objective = Quadratic { curvature: DMatrix::identity(3, 3), ..ill_conditioned(Some((0.0, 1.0))) };
        let ascent = Ascent { tolerance: 1e-12, ..Ascent::default() };
        let result = ascent.maximize(&objective, &dvector![0.5, 0.5, 0.5], |_, _| {}).unwrap();
        assert!(result.converged);
        assert_relative_eq!(result.point, dvector![0.3, 0.0, 1.0], epsilon = 1e-12);
        // The gradient there is not zero: only its feasible part is.
        let (_, gradient) = objective.value_and_gradient(&result.point).unwrap();
        assert!(gradient.norm() > 1.0);
    }

    #[test]
    fn stops_at_the_iteration_limit_and_reports_progress() {
        let objective = ill_conditioned(None);
        let ascent = Ascent { tolerance: 1e-12, max_iterations: 7, ..Ascent::default() };
        let mut seen = Vec::new();
        let result = ascent.maximize(&objective, &DVector::zeros(3), |i, v| seen.push((i, v))).unwrap();
        assert_eq!(result.iterations, 7);
        assert!(!result.converged);
        assert_eq!(seen.len(), 7);
        assert_eq!(seen.last().map(|s| s.1), Some(result.value));
    }

    #[test]
    fn bad_settings_and_non_finite_objectives_are_errors() {
        let objective = ill_conditioned(None);
        for bad in [
            Ascent { initial_step: 0.0, ..Ascent::default() },
            Ascent { sufficient_increase: 1.0, ..Ascent::default() },
            Ascent { tolerance: f64::NAN, ..Ascent::default() },
        ] {
            let err = bad.maximize(&objective, &DVector::zeros(3), |_, _| {}).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter { .. }), "{err}");
        }
        let start = dvector![f64::NAN, 0.0, 0.0];
        let err = Ascent::default().maximize(&objective, &start, |_, _| {}).unwrap_err();
        assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    }
}
