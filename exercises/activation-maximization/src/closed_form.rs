//! The prototypes `x* = argmax f − Ω` in closed form (exercise sheet 11, exercise 1).
//!
//! Each objective is a concave quadratic, so its maximizer is the unique point where the
//! gradient vanishes.

use nalgebra::DVector;

use crate::{GaussianObjective, GeneratorObjective, L2Objective, Result, validation};

// ANCHOR: l2_prototype
/// Exercise 1 (a): `x* = w / (2λ)`, the root of `∇g(x) = w − 2λx`.
///
/// The prototype points along `w`; a larger `λ` only shrinks it.
/// Errors with [`crate::Error::Overflow`] if `w / (2λ)` is too large for `f64`.
pub fn l2_prototype(objective: &L2Objective) -> Result<DVector<f64>> {
    let prototype = objective.model().weights() / (2.0 * objective.lambda());
    validation::no_overflow("the prototype w / (2λ)", &prototype)?;
    Ok(prototype)
}
// ANCHOR_END: l2_prototype

// ANCHOR: gaussian_prototype
/// Exercise 1 (b): `x* = μ + Σw`, the root of `∇g(x) = w − Σ⁻¹(x − μ)`.
///
/// The prototype starts at the mean `μ` and moves along `Σw`, the direction `w` bent towards
/// the directions in which the data varies most. The constant `½ log((2π)ⁿ det Σ)` of the
/// log-density does not move it.
/// Errors with [`crate::Error::Overflow`] if `μ + Σw` is too large for `f64`.
pub fn gaussian_prototype(objective: &GaussianObjective) -> Result<DVector<f64>> {
    let prior = objective.prior();
    let prototype = prior.mean() + prior.covariance() * objective.model().weights();
    validation::no_overflow("the prototype μ + Σw", &prototype)?;
    Ok(prototype)
}
// ANCHOR_END: gaussian_prototype

// ANCHOR: generator_prototype
/// The prototype of exercise 1 (c): the optimal code and the input it generates.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorPrototype {
    /// `z* = Aᵀw / (2λ)`.
    pub code: DVector<f64>,
    /// `x* = Az* + c = c + AAᵀw / (2λ)`.
    pub input: DVector<f64>,
}

/// Exercise 1 (c): `z* = Aᵀw / (2λ)`, the root of `∇g(z) = Aᵀw − 2λz`, and
/// `x* = Az* + c = c + AAᵀw / (2λ)`.
///
/// The input prototype starts at the offset `c` and moves along `AAᵀw`: the part of `w` the
/// generator can produce, weighted by how strongly it produces it.
/// Errors with [`crate::Error::Overflow`] if `z*` or `x*` is too large for `f64`.
pub fn generator_prototype(objective: &GeneratorObjective) -> Result<GeneratorPrototype> {
    let generator = objective.generator();
    let code = generator.matrix().tr_mul(objective.model().weights()) / (2.0 * objective.lambda());
    validation::no_overflow("the code prototype Aᵀw / (2λ)", &code)?;
    let input = generator.generate(&code)?;
    validation::no_overflow("the input prototype Az* + c", &input)?;
    Ok(GeneratorPrototype { code, input })
}
// ANCHOR_END: generator_prototype

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use nalgebra::{DMatrix, dmatrix, dvector};

    use super::*;
    use crate::{Error, Gaussian, LinearGenerator, LinearModel, Objective};

    /// Agreement of exact arithmetic done two ways.
    const EXACT: f64 = 1e-12;

    #[test]
    fn worked_examples() {
        let model = LinearModel::new(dvector![1.0, -2.0], 0.5).unwrap();
        let l2 = L2Objective::new(model.clone(), 0.25).unwrap();
        assert_relative_eq!(l2_prototype(&l2).unwrap(), dvector![2.0, -4.0], epsilon = EXACT);

        let prior = Gaussian::new(dvector![1.0, 1.0], dmatrix![2.0, 1.0; 1.0, 3.0]).unwrap();
        let gaussian = GaussianObjective::new(model.clone(), prior).unwrap();
        assert_relative_eq!(gaussian_prototype(&gaussian).unwrap(), dvector![1.0, -4.0], epsilon = EXACT);

        let generator = LinearGenerator::new(dmatrix![1.0; 1.0], dvector![0.0, 3.0]).unwrap();
        let code = GeneratorObjective::new(model, generator, 0.5).unwrap();
        let prototype = generator_prototype(&code).unwrap();
        assert_relative_eq!(prototype.code, dvector![-1.0], epsilon = EXACT);
        assert_relative_eq!(prototype.input, dvector![-1.0, 2.0], epsilon = EXACT);
    }

    #[test]
    fn prototypes_are_stationary() {
        let model = LinearModel::new(dvector![0.3, -1.2, 2.0], 1.0).unwrap();
        let l2 = L2Objective::new(model.clone(), 0.7).unwrap();
        let x = l2_prototype(&l2).unwrap();
        assert_relative_eq!(l2.gradient(&x).unwrap(), DVector::zeros(3), epsilon = EXACT);
        let generator =
            LinearGenerator::new(DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64), dvector![1.0, 0.0, -1.0]);
        let code = GeneratorObjective::new(model, generator.unwrap(), 2.0).unwrap();
        let z = generator_prototype(&code).unwrap().code;
        assert_relative_eq!(code.gradient(&z).unwrap(), DVector::zeros(2), epsilon = EXACT);
    }

    #[test]
    fn overflow_is_an_error_not_infinity() {
        let model = LinearModel::new(dvector![1e300], 0.0).unwrap();
        let l2 = L2Objective::new(model, 1e-300).unwrap();
        assert!(matches!(l2_prototype(&l2), Err(Error::Overflow { .. })));
    }
}
