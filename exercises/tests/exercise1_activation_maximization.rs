//! Verification suite of exercise 1 (exercise sheet 11): activation maximization of
//! `f(x) = wᵀx + b`.
//!
//! - The closed-form prototypes of (a), (b) and (c) agree with an independent gradient ascent
//!   to [`SOLVER`] (relative), on random problems of dimension up to [`MAX_DIMENSION`].
//! - The three objectives are concave: negative definite Hessians, midpoint concavity, and the
//!   closed form is a stationary point and the global maximum.
//! - Every kind of bad input is a typed error, never a panic or a NaN.

use std::ops::RangeInclusive;

use activation_maximization::{
    Error, Gaussian, GaussianObjective, GeneratorObjective, GradientAscent, L2Objective, LinearGenerator,
    LinearModel, Objective, closed_form,
};
use approx::assert_relative_eq;
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use proptest::prelude::*;

/// Required agreement of gradient ascent and closed form, relative to the prototype's size.
const SOLVER: f64 = 1e-8;
/// Agreement of two exact computations in `f64` (stationarity, the quadratic expansion).
const EXACT: f64 = 1e-9;
/// Largest dimension of `x` (and of the code `z`) in the random problems.
const MAX_DIMENSION: usize = 64;
/// Entries of `w`.
const WEIGHT_RANGE: RangeInclusive<f64> = -2.0..=2.0;
/// The bias `b`.
const BIAS_RANGE: RangeInclusive<f64> = -5.0..=5.0;
/// `log₁₀ λ`: the penalty weight ranges over `[0.01, 100]`.
const LOG10_LAMBDA_RANGE: RangeInclusive<f64> = -2.0..=2.0;
/// Entries of `μ` and `c`.
const OFFSET_RANGE: RangeInclusive<f64> = -3.0..=3.0;
/// Entries of `B` in `Σ = s (BBᵀ + δI)`, and of the generator matrix `A`.
const MATRIX_RANGE: RangeInclusive<f64> = -1.0..=1.0;
/// `log₁₀ s`: the scale of `Σ` ranges over `[0.1, 10]`.
const LOG10_COVARIANCE_SCALE_RANGE: RangeInclusive<f64> = -1.0..=1.0;
/// Upper bound on the condition number of the random `Σ`; the ascent's iteration count grows
/// with it.
const MAX_CONDITION_NUMBER: f64 = 30.0;
/// Random problems per property.
const CASES: u32 = 128;

/// A dimension in `1..=MAX_DIMENSION`.
fn dimension() -> impl Strategy<Value = usize> {
    1..=MAX_DIMENSION
}

/// A vector of length `n` with entries in `range`.
fn vector(n: usize, range: RangeInclusive<f64>) -> impl Strategy<Value = DVector<f64>> {
    proptest::collection::vec(range, n).prop_map(DVector::from_vec)
}

/// An `rows × columns` matrix with entries in `range`.
fn matrix(rows: usize, columns: usize, range: RangeInclusive<f64>) -> impl Strategy<Value = DMatrix<f64>> {
    proptest::collection::vec(range, rows * columns)
        .prop_map(move |entries| DMatrix::from_vec(rows, columns, entries))
}

/// A linear model with `n` inputs.
fn model(n: usize) -> impl Strategy<Value = LinearModel> {
    (vector(n, WEIGHT_RANGE), BIAS_RANGE).prop_map(|(w, b)| LinearModel::new(w, b).unwrap())
}

/// A penalty weight `λ`, log-uniform.
fn lambda() -> impl Strategy<Value = f64> {
    LOG10_LAMBDA_RANGE.prop_map(|exponent| 10f64.powf(exponent))
}

/// A symmetric positive definite `n × n` matrix `Σ = s (BBᵀ / m + δI)` with condition number at
/// most [`MAX_CONDITION_NUMBER`]: `m = max(λ_max(BBᵀ), 1)` and `δ = 1 / (κ_max − 1)`, so the
/// eigenvalues lie in `[s δ, s (1 + δ)]` (and for large `n`, where `BBᵀ` is nearly singular,
/// the condition number is close to `κ_max`).
fn covariance(n: usize) -> impl Strategy<Value = DMatrix<f64>> {
    (matrix(n, n, MATRIX_RANGE), LOG10_COVARIANCE_SCALE_RANGE).prop_map(move |(b, log_scale)| {
        let gram = &b * b.transpose();
        let largest = gram.symmetric_eigenvalues().max().max(1.0);
        let delta = 1.0 / (MAX_CONDITION_NUMBER - 1.0);
        (gram / largest + DMatrix::identity(n, n) * delta) * 10f64.powf(log_scale)
    })
}

/// Problem (a): `f(x) − λ‖x‖²`.
fn l2_objective() -> impl Strategy<Value = L2Objective> {
    dimension().prop_flat_map(|n| (model(n), lambda())).prop_map(|(m, l)| L2Objective::new(m, l).unwrap())
}

/// Problem (b): `f(x) + log p(x)` with `x ~ N(μ, Σ)`.
fn gaussian_objective() -> impl Strategy<Value = GaussianObjective> {
    dimension()
        .prop_flat_map(|n| (model(n), vector(n, OFFSET_RANGE), covariance(n)))
        .prop_map(|(m, mu, sigma)| GaussianObjective::new(m, Gaussian::new(mu, sigma).unwrap()).unwrap())
}

/// Problem (c): `f(Az + c) − λ‖z‖²` with a non-square `n × k` matrix `A`.
fn generator_objective() -> impl Strategy<Value = GeneratorObjective> {
    (dimension(), dimension())
        .prop_filter("A must not be square", |(n, k)| n != k)
        .prop_flat_map(|(n, k)| (model(n), matrix(n, k, MATRIX_RANGE), vector(n, OFFSET_RANGE), lambda()))
        .prop_map(|(m, a, c, l)| GeneratorObjective::new(m, LinearGenerator::new(a, c).unwrap(), l).unwrap())
}

/// Asserts `‖numeric − exact‖_∞ ≤ SOLVER · scale` entry by entry (or within `SOLVER` relative).
fn assert_agree(numeric: &DVector<f64>, exact: &DVector<f64>, scale: f64) {
    assert_relative_eq!(numeric, exact, epsilon = SOLVER * scale, max_relative = SOLVER);
}

/// Gradient ascent from the origin.
fn ascend(objective: &impl Objective) -> activation_maximization::Ascent {
    GradientAscent::default()
        .keeping_path()
        .maximize(objective, &DVector::zeros(objective.dimension()))
        .unwrap()
}

/// Asserts that `objective` is concave: its Hessian is symmetric with only negative eigenvalues,
/// and `g((u + v)/2) ≥ (g(u) + g(v))/2`.
fn assert_concave(objective: &impl Objective, u: &DVector<f64>, v: &DVector<f64>) {
    let hessian = objective.hessian();
    assert_relative_eq!(hessian, hessian.transpose(), epsilon = EXACT);
    let largest = hessian.symmetric_eigenvalues().max();
    assert!(largest < 0.0, "largest Hessian eigenvalue {largest} is not negative");
    let midpoint = objective.value(&((u + v) * 0.5)).unwrap();
    let chord = 0.5 * (objective.value(u).unwrap() + objective.value(v).unwrap());
    assert!(midpoint >= chord - EXACT * chord.abs().max(1.0), "midpoint {midpoint} < chord {chord}");
}

/// Asserts that `prototype` is the global maximum: `∇g = 0` there and
/// `g(x* + δ) = g(x*) + ½ δᵀ ∇²g δ ≤ g(x*)` for the step `delta`.
fn assert_global_maximum(objective: &impl Objective, prototype: &DVector<f64>, delta: &DVector<f64>) {
    let gradient = objective.gradient(prototype).unwrap();
    let scale = objective.gradient(&DVector::zeros(prototype.len())).unwrap().norm().max(1.0);
    assert!(gradient.norm() <= EXACT * scale, "gradient {} at the closed form", gradient.norm());
    let peak = objective.value(prototype).unwrap();
    let moved = objective.value(&(prototype + delta)).unwrap();
    let drop = 0.5 * (delta.transpose() * objective.hessian() * delta)[0];
    assert!(moved <= peak + EXACT * peak.abs().max(1.0), "g rose from {peak} to {moved}");
    assert_relative_eq!(moved, peak + drop, epsilon = EXACT * peak.abs().max(1.0), max_relative = EXACT);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    // ANCHOR: agreement_tests
    /// (a) `x* = w / (2λ)` equals the ascent's maximizer.
    #[test]
    fn l2_closed_form_matches_gradient_ascent(objective in l2_objective()) {
        let exact = closed_form::l2_prototype(&objective).unwrap();
        let ascent = ascend(&objective);
        assert_agree(&ascent.argmax, &exact, exact.amax());
        prop_assert_eq!(ascent.path.len(), ascent.iterations + 1);
    }

    /// (b) `x* = μ + Σw` equals the ascent's maximizer.
    #[test]
    fn gaussian_closed_form_matches_gradient_ascent(objective in gaussian_objective()) {
        let exact = closed_form::gaussian_prototype(&objective).unwrap();
        let ascent = ascend(&objective);
        assert_agree(&ascent.argmax, &exact, exact.amax());
    }
    // ANCHOR_END: agreement_tests

    /// (c) `z* = Aᵀw / (2λ)` and `x* = Az* + c` equal the ascent's maximizer and its image.
    #[test]
    fn generator_closed_form_matches_gradient_ascent(objective in generator_objective()) {
        let exact = closed_form::generator_prototype(&objective).unwrap();
        let ascent = ascend(&objective);
        assert_agree(&ascent.argmax, &exact.code, exact.code.amax());
        let generator = objective.generator();
        let input = generator.generate(&ascent.argmax).unwrap();
        // x = Az + c is computed on the scale of its two terms, which may cancel.
        let scale = exact.input.amax().max(generator.offset().amax()).max((&exact.input - generator.offset()).amax());
        assert_agree(&input, &exact.input, scale);
    }

    /// (a) is concave and its closed form is the global maximum.
    #[test]
    fn l2_objective_is_concave_with_maximum_at_closed_form(
        (objective, u, v, delta) in l2_objective().prop_flat_map(|o| {
            let n = o.dimension();
            (Just(o), vector(n, OFFSET_RANGE), vector(n, OFFSET_RANGE), vector(n, OFFSET_RANGE))
        })
    ) {
        assert_concave(&objective, &u, &v);
        assert_global_maximum(&objective, &closed_form::l2_prototype(&objective).unwrap(), &delta);
    }

    /// (b) is concave and its closed form is the global maximum.
    #[test]
    fn gaussian_objective_is_concave_with_maximum_at_closed_form(
        (objective, u, v, delta) in gaussian_objective().prop_flat_map(|o| {
            let n = o.dimension();
            (Just(o), vector(n, OFFSET_RANGE), vector(n, OFFSET_RANGE), vector(n, OFFSET_RANGE))
        })
    ) {
        assert_concave(&objective, &u, &v);
        assert_global_maximum(&objective, &closed_form::gaussian_prototype(&objective).unwrap(), &delta);
    }

    /// (c) is concave in the code and its closed form is the global maximum.
    #[test]
    fn generator_objective_is_concave_with_maximum_at_closed_form(
        (objective, u, v, delta) in generator_objective().prop_flat_map(|o| {
            let k = o.dimension();
            (Just(o), vector(k, OFFSET_RANGE), vector(k, OFFSET_RANGE), vector(k, OFFSET_RANGE))
        })
    ) {
        assert_concave(&objective, &u, &v);
        assert_global_maximum(&objective, &closed_form::generator_prototype(&objective).unwrap().code, &delta);
    }
}

/// A small valid model for the bad-input cases.
fn small_model() -> LinearModel {
    LinearModel::new(dvector![1.0, -1.0], 0.5).unwrap()
}

/// A small valid generator with `n = 2`, `k = 1`.
fn small_generator() -> LinearGenerator {
    LinearGenerator::new(dmatrix![1.0; 2.0], dvector![0.0, 1.0]).unwrap()
}

/// Asserts that `result` is `InvalidParameter` for `lambda` and says the objective is unbounded.
fn assert_lambda_rejected<T: std::fmt::Debug>(result: activation_maximization::Result<T>, lambda: f64) {
    match result {
        Err(error @ Error::InvalidParameter { name: "lambda", value, .. }) => {
            assert!(value == lambda || (value.is_nan() && lambda.is_nan()));
            assert!(error.to_string().contains("unbounded above"), "{error}");
        }
        other => panic!("expected InvalidParameter for λ = {lambda}, got {other:?}"),
    }
}

#[test]
fn lambda_zero_is_rejected_as_unbounded() {
    assert_lambda_rejected(L2Objective::new(small_model(), 0.0), 0.0);
    assert_lambda_rejected(GeneratorObjective::new(small_model(), small_generator(), 0.0), 0.0);
}

#[test]
fn negative_lambda_is_rejected_as_unbounded() {
    assert_lambda_rejected(L2Objective::new(small_model(), -0.5), -0.5);
    assert_lambda_rejected(GeneratorObjective::new(small_model(), small_generator(), -0.5), -0.5);
}

#[test]
fn non_finite_lambda_is_rejected() {
    for lambda in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_lambda_rejected(L2Objective::new(small_model(), lambda), lambda);
        assert_lambda_rejected(GeneratorObjective::new(small_model(), small_generator(), lambda), lambda);
    }
}

#[test]
fn non_finite_weights_or_bias_are_rejected() {
    let weights = LinearModel::new(dvector![1.0, f64::INFINITY], 0.0);
    assert!(matches!(weights, Err(Error::NonFinite { name: "w", index: 1, .. })));
    let bias = LinearModel::new(dvector![1.0, 2.0], f64::NAN);
    assert!(matches!(bias, Err(Error::NonFinite { name: "b", .. })));
}

#[test]
fn non_finite_mean_or_covariance_is_rejected() {
    let mean = Gaussian::new(dvector![f64::NAN, 0.0], DMatrix::identity(2, 2));
    assert!(matches!(mean, Err(Error::NonFinite { name: "mu", index: 0, .. })));
    let covariance = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 0.0; 0.0, f64::INFINITY]);
    assert!(matches!(covariance, Err(Error::NonFinite { name: "sigma", index: 3, .. })));
}

#[test]
fn non_finite_generator_is_rejected() {
    let matrix = LinearGenerator::new(dmatrix![1.0; f64::NAN], dvector![0.0, 0.0]);
    assert!(matches!(matrix, Err(Error::NonFinite { name: "a", index: 1, .. })));
    let offset = LinearGenerator::new(dmatrix![1.0; 1.0], dvector![0.0, f64::NEG_INFINITY]);
    assert!(matches!(offset, Err(Error::NonFinite { name: "c", index: 1, .. })));
}

#[test]
fn asymmetric_covariance_is_rejected() {
    let result = Gaussian::new(dvector![0.0, 0.0], dmatrix![2.0, 1.0; 0.0, 2.0]);
    assert!(matches!(result, Err(Error::NotPositiveDefinite { name: "sigma", .. })));
}

#[test]
fn indefinite_covariance_is_rejected() {
    let result = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 3.0; 3.0, 1.0]);
    assert!(matches!(result, Err(Error::NotPositiveDefinite { name: "sigma", .. })));
    let negative = Gaussian::new(dvector![0.0], dmatrix![-1.0]);
    assert!(matches!(negative, Err(Error::NotPositiveDefinite { name: "sigma", .. })));
}

#[test]
fn singular_covariance_is_rejected() {
    let result = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 1.0; 1.0, 1.0]);
    assert!(matches!(result, Err(Error::NotPositiveDefinite { name: "sigma", .. })));
}

#[test]
fn covariance_of_wrong_shape_is_rejected() {
    let not_square = Gaussian::new(dvector![0.0, 0.0], DMatrix::zeros(2, 3));
    assert!(matches!(
        not_square,
        Err(Error::DimensionMismatch { name: "sigma", expected: (2, 2), found: (2, 3) })
    ));
    let wrong_size = Gaussian::new(dvector![0.0, 0.0], DMatrix::identity(3, 3));
    assert!(matches!(wrong_size, Err(Error::DimensionMismatch { name: "sigma", .. })));
}

#[test]
fn mean_of_wrong_length_for_the_model_is_rejected() {
    let prior = Gaussian::new(dvector![0.0, 0.0, 0.0], DMatrix::identity(3, 3)).unwrap();
    let result = GaussianObjective::new(small_model(), prior);
    assert!(matches!(result, Err(Error::DimensionMismatch { name: "mu", expected: (2, 1), found: (3, 1) })));
}

#[test]
fn generator_of_wrong_shape_is_rejected() {
    let offset = LinearGenerator::new(dmatrix![1.0; 2.0], dvector![0.0]);
    assert!(matches!(offset, Err(Error::DimensionMismatch { name: "a", .. })));
    let three_rows = LinearGenerator::new(dmatrix![1.0; 2.0; 3.0], dvector![0.0, 0.0, 0.0]).unwrap();
    let result = GeneratorObjective::new(small_model(), three_rows, 1.0);
    assert!(matches!(result, Err(Error::DimensionMismatch { name: "a", expected: (2, 1), found: (3, 1) })));
}

#[test]
fn points_of_wrong_length_are_rejected() {
    let objective = L2Objective::new(small_model(), 1.0).unwrap();
    assert!(matches!(objective.value(&dvector![1.0]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(objective.gradient(&dvector![1.0, 2.0, 3.0]), Err(Error::DimensionMismatch { .. })));
    let code = GeneratorObjective::new(small_model(), small_generator(), 1.0).unwrap();
    assert!(matches!(code.value(&dvector![1.0, 2.0]), Err(Error::DimensionMismatch { name: "z", .. })));
    let start = GradientAscent::default().maximize(&objective, &dvector![0.0]);
    assert!(matches!(start, Err(Error::DimensionMismatch { name: "start", .. })));
}

#[test]
fn non_finite_start_is_rejected() {
    let objective = L2Objective::new(small_model(), 1.0).unwrap();
    let result = GradientAscent::default().maximize(&objective, &dvector![0.0, f64::NAN]);
    assert!(matches!(result, Err(Error::NonFinite { name: "start", index: 1, .. })));
}

#[test]
fn invalid_solver_settings_are_rejected() {
    let objective = L2Objective::new(small_model(), 1.0).unwrap();
    let start = DVector::zeros(2);
    for tolerance in [0.0, -1e-9, 1.0, f64::NAN] {
        let ascent = GradientAscent { tolerance, ..GradientAscent::default() };
        assert!(matches!(
            ascent.maximize(&objective, &start),
            Err(Error::InvalidParameter { name: "tolerance", .. })
        ));
    }
    for initial_step in [0.0, -1.0, f64::INFINITY] {
        let ascent = GradientAscent { initial_step, ..GradientAscent::default() };
        assert!(matches!(
            ascent.maximize(&objective, &start),
            Err(Error::InvalidParameter { name: "initial_step", .. })
        ));
    }
}

#[test]
fn too_few_iterations_is_not_converged() {
    let objective = L2Objective::new(small_model(), 0.3).unwrap();
    let ascent = GradientAscent { max_iterations: 3, ..GradientAscent::default() };
    match ascent.maximize(&objective, &DVector::zeros(2)) {
        Err(Error::NotConverged { iterations, gradient_norm }) => {
            assert_eq!(iterations, 3);
            assert!(gradient_norm.is_finite() && gradient_norm > 0.0);
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
}

#[test]
fn overflowing_prototype_is_an_error_not_infinity() {
    let huge = LinearModel::new(dvector![1e300, 1.0], 0.0).unwrap();
    let l2 = L2Objective::new(huge.clone(), 1e-300).unwrap();
    assert!(matches!(closed_form::l2_prototype(&l2), Err(Error::Overflow { .. })));
    let code = GeneratorObjective::new(huge, small_generator(), 1e-300).unwrap();
    assert!(matches!(closed_form::generator_prototype(&code), Err(Error::Overflow { .. })));
    let prior = Gaussian::new(dvector![0.0, 0.0], DMatrix::identity(2, 2) * 1e300).unwrap();
    let model = LinearModel::new(dvector![1e300, 0.0], 0.0).unwrap();
    let gaussian = GaussianObjective::new(model, prior).unwrap();
    assert!(matches!(closed_form::gaussian_prototype(&gaussian), Err(Error::Overflow { .. })));
}

#[test]
fn gaussian_normalizing_constant_shifts_the_value_not_the_prototype() {
    // g(x) = f(x) − ½ (x − μ)ᵀ Σ⁻¹ (x − μ) − ½ log((2π)ⁿ det Σ): the constant lowers g by the
    // same amount everywhere, and the gradient still vanishes at x* = μ + Σw.
    let prior = Gaussian::new(dvector![1.0, -1.0], dmatrix![2.0, 0.5; 0.5, 1.0]).unwrap();
    let objective = GaussianObjective::new(small_model(), prior.clone()).unwrap();
    let exact = closed_form::gaussian_prototype(&objective).unwrap();
    let with_constant = objective.value(&exact).unwrap();
    let f = small_model().output(&exact).unwrap();
    let centred = &exact - prior.mean();
    let without_constant = f - 0.5 * centred.dot(&prior.precision_times(&centred).unwrap());
    assert_relative_eq!(with_constant, without_constant - prior.log_normalizer(), epsilon = EXACT);
    assert_relative_eq!(objective.gradient(&exact).unwrap(), DVector::zeros(2), epsilon = EXACT);
}

#[test]
fn zero_dimensional_problems_do_not_panic() {
    let model = LinearModel::new(DVector::zeros(0), 1.0).unwrap();
    let l2 = L2Objective::new(model.clone(), 1.0).unwrap();
    assert_eq!(closed_form::l2_prototype(&l2).unwrap().len(), 0);
    assert_eq!(ascend(&l2).iterations, 0);
    let prior = Gaussian::new(DVector::zeros(0), DMatrix::zeros(0, 0)).unwrap();
    let gaussian = GaussianObjective::new(model.clone(), prior).unwrap();
    assert_eq!(closed_form::gaussian_prototype(&gaussian).unwrap().len(), 0);
    let generator = LinearGenerator::new(DMatrix::zeros(0, 3), DVector::zeros(0)).unwrap();
    let code = GeneratorObjective::new(model, generator, 1.0).unwrap();
    assert_eq!(closed_form::generator_prototype(&code).unwrap().code, DVector::zeros(3));
    assert_eq!(ascend(&code).argmax, DVector::zeros(3));
}
