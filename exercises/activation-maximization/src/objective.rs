//! The objective `g = f − Ω` of activation maximization, for the three penalties of
//! exercise sheet 11, exercise 1.

use nalgebra::{DMatrix, DVector};

use crate::{Gaussian, LinearGenerator, LinearModel, Result, validation};

// ANCHOR: objective_trait
/// A twice differentiable function `g(v)` to be maximized over `v ∈ ℝᵈ`: the activation
/// maximization objective `f − Ω` (exercise sheet 11, exercise 1).
///
/// All three objectives of the exercise are concave quadratics, so their Hessian is a constant.
pub trait Objective {
    /// The number `d` of variables.
    fn dimension(&self) -> usize;
    /// `g(v)`; errors if `v` does not have [`Objective::dimension`] entries.
    fn value(&self, v: &DVector<f64>) -> Result<f64>;
    /// `∇g(v)`; errors if `v` does not have [`Objective::dimension`] entries.
    fn gradient(&self, v: &DVector<f64>) -> Result<DVector<f64>>;
    /// The (constant) Hessian `∇²g`, a `d × d` matrix.
    fn hessian(&self) -> DMatrix<f64>;
}
// ANCHOR_END: objective_trait

// ANCHOR: l2_objective
/// Exercise 1 (a): `g(x) = wᵀx + b − λ‖x‖²`, with `∇g(x) = w − 2λx` and `∇²g = −2λI`.
#[derive(Debug, Clone, PartialEq)]
pub struct L2Objective {
    model: LinearModel,
    lambda: f64,
}

impl L2Objective {
    /// The objective for `model` and penalty weight `λ`.
    ///
    /// Errors with [`crate::Error::InvalidParameter`] unless `0 < λ < ∞`: for `λ ≤ 0` the
    /// objective is unbounded above and no prototype exists.
    pub fn new(model: LinearModel, lambda: f64) -> Result<Self> {
        validation::penalty_weight(lambda)?;
        Ok(Self { model, lambda })
    }
}

impl Objective for L2Objective {
    fn dimension(&self) -> usize {
        self.model.dimension()
    }

    fn value(&self, x: &DVector<f64>) -> Result<f64> {
        let value = self.model.output(x)? - self.lambda * x.norm_squared();
        validation::finite_result("the objective g(x)", value)
    }

    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        validation::argument("x", x, self.dimension())?;
        let gradient = self.model.weights() - 2.0 * self.lambda * x;
        validation::no_overflow("the gradient ∇g(x)", &gradient)?;
        Ok(gradient)
    }

    fn hessian(&self) -> DMatrix<f64> {
        DMatrix::identity(self.dimension(), self.dimension()) * (-2.0 * self.lambda)
    }
}
// ANCHOR_END: l2_objective

// ANCHOR: gaussian_objective
/// Exercise 1 (b): `g(x) = wᵀx + b + log p(x)` for `x ~ N(μ, Σ)`, i.e. `Ω(x) = −log p(x)`,
/// with `∇g(x) = w − Σ⁻¹(x − μ)` and `∇²g = −Σ⁻¹`.
#[derive(Debug, Clone)]
pub struct GaussianObjective {
    model: LinearModel,
    prior: Gaussian,
}

impl GaussianObjective {
    /// The objective for `model` and the data distribution `prior`; their dimensions must agree.
    pub fn new(model: LinearModel, prior: Gaussian) -> Result<Self> {
        validation::vector_length("mu", prior.mean(), model.dimension())?;
        Ok(Self { model, prior })
    }
}

impl Objective for GaussianObjective {
    fn dimension(&self) -> usize {
        self.model.dimension()
    }

    fn value(&self, x: &DVector<f64>) -> Result<f64> {
        let value = self.model.output(x)? + self.prior.log_density(x)?;
        validation::finite_result("the objective g(x)", value)
    }

    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        validation::argument("x", x, self.dimension())?;
        let gradient = self.model.weights() - self.prior.precision_times(&(x - self.prior.mean()))?;
        validation::no_overflow("the gradient ∇g(x)", &gradient)?;
        Ok(gradient)
    }

    fn hessian(&self) -> DMatrix<f64> {
        -self.prior.precision()
    }
}
// ANCHOR_END: gaussian_objective

// ANCHOR: generator_objective
/// Exercise 1 (c): the objective over the code `z`,
/// `g(z) = f(Az + c) − λ‖z‖² = wᵀ(Az + c) + b − λ‖z‖²`,
/// with `∇g(z) = Aᵀw − 2λz` (chain rule) and `∇²g = −2λI`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorObjective {
    model: LinearModel,
    generator: LinearGenerator,
    lambda: f64,
}

impl GeneratorObjective {
    /// The objective for `model`, `generator` and penalty weight `λ` on the code.
    ///
    /// Errors unless `0 < λ < ∞` (for `λ ≤ 0` the objective is unbounded above) and unless `A`
    /// has one row per model input.
    pub fn new(model: LinearModel, generator: LinearGenerator, lambda: f64) -> Result<Self> {
        validation::penalty_weight(lambda)?;
        validation::matrix_shape("a", generator.matrix(), model.dimension(), None)?;
        Ok(Self { model, generator, lambda })
    }
}

impl Objective for GeneratorObjective {
    fn dimension(&self) -> usize {
        self.generator.code_dimension()
    }

    fn value(&self, z: &DVector<f64>) -> Result<f64> {
        let value = self.model.output(&self.generator.generate(z)?)? - self.lambda * z.norm_squared();
        validation::finite_result("the objective g(z)", value)
    }

    fn gradient(&self, z: &DVector<f64>) -> Result<DVector<f64>> {
        validation::argument("z", z, self.dimension())?;
        // ∇f(x) = w at every x, pulled back through x = Az + c.
        let gradient = self.generator.matrix().tr_mul(self.model.weights()) - 2.0 * self.lambda * z;
        validation::no_overflow("the gradient ∇g(z)", &gradient)?;
        Ok(gradient)
    }

    fn hessian(&self) -> DMatrix<f64> {
        DMatrix::identity(self.dimension(), self.dimension()) * (-2.0 * self.lambda)
    }
}
// ANCHOR_END: generator_objective

impl L2Objective {
    /// The model `f`.
    pub fn model(&self) -> &LinearModel {
        &self.model
    }

    /// The penalty weight `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

impl GaussianObjective {
    /// The model `f`.
    pub fn model(&self) -> &LinearModel {
        &self.model
    }

    /// The data distribution `N(μ, Σ)`.
    pub fn prior(&self) -> &Gaussian {
        &self.prior
    }
}

impl GeneratorObjective {
    /// The model `f`.
    pub fn model(&self) -> &LinearModel {
        &self.model
    }

    /// The generator `x = Az + c`.
    pub fn generator(&self) -> &LinearGenerator {
        &self.generator
    }

    /// The penalty weight `λ` on the code.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use nalgebra::{dmatrix, dvector};

    use super::*;
    use crate::Error;

    /// Step of the central finite differences.
    const STEP: f64 = 1e-5;
    /// Agreement of central differences with the analytic gradient of a quadratic.
    const FINITE_DIFFERENCE: f64 = 1e-7;

    /// Central finite-difference gradient of `objective` at `v`.
    fn numeric_gradient(objective: &impl Objective, v: &DVector<f64>) -> DVector<f64> {
        DVector::from_fn(v.len(), |i, _| {
            let mut forward = v.clone();
            let mut backward = v.clone();
            forward[i] += STEP;
            backward[i] -= STEP;
            (objective.value(&forward).unwrap() - objective.value(&backward).unwrap()) / (2.0 * STEP)
        })
    }

    fn model() -> LinearModel {
        LinearModel::new(dvector![1.0, -0.5, 2.0], 0.3).unwrap()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let at = dvector![0.2, -1.0, 0.7];
        let l2 = L2Objective::new(model(), 0.4).unwrap();
        assert_relative_eq!(
            l2.gradient(&at).unwrap(),
            numeric_gradient(&l2, &at),
            epsilon = FINITE_DIFFERENCE
        );
        let sigma = dmatrix![2.0, 0.3, 0.0; 0.3, 1.0, -0.2; 0.0, -0.2, 0.5];
        let prior = Gaussian::new(dvector![0.5, 0.0, -1.0], sigma).unwrap();
        let gaussian = GaussianObjective::new(model(), prior).unwrap();
        assert_relative_eq!(
            gaussian.gradient(&at).unwrap(),
            numeric_gradient(&gaussian, &at),
            epsilon = FINITE_DIFFERENCE
        );
        let generator =
            LinearGenerator::new(dmatrix![1.0, 0.0; 0.5, 2.0; -1.0, 1.0], dvector![0.1, 0.2, 0.3]);
        let code = GeneratorObjective::new(model(), generator.unwrap(), 0.7).unwrap();
        let z = dvector![0.4, -0.3];
        assert_relative_eq!(
            code.gradient(&z).unwrap(),
            numeric_gradient(&code, &z),
            epsilon = FINITE_DIFFERENCE
        );
    }

    #[test]
    fn rejects_non_positive_lambda_and_mismatched_shapes() {
        for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                L2Objective::new(model(), lambda),
                Err(Error::InvalidParameter { name: "lambda", .. })
            ));
        }
        let prior = Gaussian::new(dvector![0.0, 0.0], DMatrix::identity(2, 2)).unwrap();
        assert!(matches!(
            GaussianObjective::new(model(), prior),
            Err(Error::DimensionMismatch { name: "mu", .. })
        ));
        let generator = LinearGenerator::new(DMatrix::identity(2, 2), dvector![0.0, 0.0]).unwrap();
        assert!(matches!(
            GeneratorObjective::new(model(), generator, 1.0),
            Err(Error::DimensionMismatch { name: "a", expected: (3, 2), found: (2, 2) })
        ));
    }
}
