//! Exercise 3 (neuralization) of exercise sheet 11: the one-class SVM's outlier score equals a
//! two-layer network (3a), the soft-min tends to min-pooling within `(log M)/γ` (3b), the score is
//! stable for `γ` from `1e-6` to `1e300`, the explanation conserves it, linfa-svm's fit is
//! reproduced, and every bad input is a typed error.

use approx::assert_relative_eq;
use nalgebra::{DMatrix, DVector};
use neuralization::fit::{KERNEL_EPS, NU, book_model, fit_one_class_svm};
use neuralization::softmin::{soft_min_gap, soft_min_naive};
use neuralization::{
    Error, OneClassSvm, TwoLayerNetwork, explain, explain_min_pooling, explain_proportional, gap_bound,
    min_pooling, soft_min,
};
use proptest::prelude::*;

/// 3a: network and literal formula agree to this relative tolerance.
const NETWORK_VS_FORMULA: f64 = 1e-10;
/// Identities evaluated by the same floating-point operations in a different order.
const EXACT: f64 = 1e-12;
/// Slack for bounds that hold exactly in real arithmetic, relative to the bound.
const ROUNDING: f64 = 1e-12;

/// Number of support vectors `M` in the random models.
const SUPPORT_COUNT: std::ops::RangeInclusive<usize> = 1..=50;
/// Input dimension `d` of the random models.
const DIMENSION: std::ops::RangeInclusive<usize> = 1..=16;
/// Coordinates of support vectors and inputs.
const COORDINATE: std::ops::Range<f64> = -2.0..2.0;
/// `log10 α_i`: weights from `1e-3` to `1` (linfa's α lie in `[0, 1]`).
const LOG10_ALPHA: std::ops::Range<f64> = -3.0..0.0;
/// `log10 γ` where the literal `−γ⁻¹ log Σ α_i exp(−γ d_i²)` is representable for these
/// coordinates (`γ d² ≤ 2 · 256`).
const LOG10_GAMMA_NAIVE: std::ops::Range<f64> = -3.0..0.3;
/// `log10 γ` over the whole verified range.
const LOG10_GAMMA_ALL: std::ops::Range<f64> = -6.0..300.0;
/// Pre-activations of the soft-min tests.
const PRE_ACTIVATION: std::ops::Range<f64> = -100.0..100.0;

/// A random model with its input point: `(model, x)`.
fn model_and_point(log10_gamma: std::ops::Range<f64>) -> impl Strategy<Value = (OneClassSvm, Vec<f64>)> {
    (SUPPORT_COUNT, DIMENSION).prop_flat_map(move |(m, d)| {
        (
            prop::collection::vec(COORDINATE, m * d),
            prop::collection::vec(LOG10_ALPHA, m),
            log10_gamma.clone(),
            prop::collection::vec(COORDINATE, d),
        )
            .prop_map(move |(u, log_alpha, log_gamma, x)| {
                let alpha = DVector::from_iterator(m, log_alpha.into_iter().map(|e| 10f64.powf(e)));
                let model = OneClassSvm::new(DMatrix::from_row_slice(m, d, &u), alpha, 10f64.powf(log_gamma))
                    .unwrap();
                (model, x)
            })
    })
}

/// Random pre-activations `h` (1 to 50 of them).
fn pre_activations() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(PRE_ACTIVATION, SUPPORT_COUNT)
}

/// `γ = 10^e` with `e` uniform in `range`.
fn gamma_in(range: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    range.prop_map(|e| 10f64.powf(e))
}

/// `log f(x) = log Σ_i exp(t_i)`, `t_i = log α_i − γ ‖x − u_i‖²`, by the textbook log-sum-exp
/// (shift by `max_i t_i`): the reference for 3a where `f(x)` itself under- or overflows.
fn log_inlierness(model: &OneClassSvm, x: &[f64]) -> f64 {
    let d2 = model.squared_distances(x).unwrap();
    let t: Vec<f64> = d2.iter().zip(model.alpha().iter()).map(|(d, a)| a.ln() - model.gamma() * d).collect();
    let top = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + t.iter().map(|ti| (ti - top).exp()).sum::<f64>().ln()
}

/// The scale of the rounding error of `o(x)`: `max_i |h_i| + 1/γ`.
fn score_scale(model: &OneClassSvm, x: &[f64]) -> f64 {
    let h = model.hidden(x).unwrap();
    h.iter().fold(0.0_f64, |s, v| s.max(v.abs())) + 1.0 / model.gamma()
}

/// Cases per property: cheap (each is microseconds), so more than proptest's default 256.
const CASES: u32 = 2048;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// 3a: `o(x) = −γ⁻¹ log f(x)` equals the two-layer network, for M in 1..=50, d in 1..=16.
    #[test]
    fn outlier_score_equals_two_layer_network((model, x) in model_and_point(LOG10_GAMMA_NAIVE)) {
        let literal = model.outlier_score_naive(&x).unwrap();
        let network = TwoLayerNetwork::from_model(&model).forward(&x).unwrap();
        let scale = score_scale(&model, &x);
        assert_relative_eq!(network, literal, epsilon = NETWORK_VS_FORMULA * scale, max_relative = NETWORK_VS_FORMULA);
        assert_relative_eq!(model.outlier_score(&x).unwrap(), network, epsilon = EXACT * scale, max_relative = EXACT);
        // and f(x) = exp(−γ o(x))
        assert_relative_eq!((-model.gamma() * network).exp(), model.inlierness(&x).unwrap(), max_relative = NETWORK_VS_FORMULA * model.gamma() * scale);
    }

    /// 3a over the whole γ range `[1e-6, 1e300]`: the network equals `−γ⁻¹ log f(x)` with
    /// `log f(x)` from a log-sum-exp over `t_i = log α_i − γ d_i²` (a different code path that
    /// stays finite here because `γ d_i² ≤ 1e300 · 256`).
    #[test]
    fn outlier_score_equals_two_layer_network_for_all_gamma((model, x) in model_and_point(LOG10_GAMMA_ALL)) {
        let network = TwoLayerNetwork::from_model(&model).forward(&x).unwrap();
        let reference = -log_inlierness(&model, &x) / model.gamma();
        let scale = score_scale(&model, &x);
        assert_relative_eq!(network, reference, epsilon = NETWORK_VS_FORMULA * scale, max_relative = NETWORK_VS_FORMULA);
    }

    /// 3b: `min h − (log M)/γ ≤ smin_γ(h) ≤ min h` for every γ in [1e-6, 1e300].
    #[test]
    fn soft_min_lies_within_the_bound(h in pre_activations(), gamma in gamma_in(LOG10_GAMMA_ALL)) {
        let s = soft_min(&h, gamma).unwrap();
        let m = min_pooling(&h).unwrap();
        let bound = gap_bound(h.len(), gamma).unwrap();
        prop_assert!(s.is_finite());
        prop_assert!(s <= m);
        prop_assert!(m - s <= bound * (1.0 + ROUNDING) + ROUNDING * m.abs(), "gap {} > bound {}", m - s, bound);
        let gap = soft_min_gap(&h, gamma).unwrap();
        prop_assert!((0.0..=bound * (1.0 + ROUNDING)).contains(&gap));
    }

    /// 3b: for fixed h the gap shrinks monotonically as γ grows (its derivative is −H(p)/γ²).
    #[test]
    fn gap_shrinks_monotonically(h in pre_activations(), e1 in LOG10_GAMMA_ALL, de in 0.0..3.0_f64) {
        let (g1, g2) = (10f64.powf(e1), 10f64.powf(e1 + de));
        let (gap1, gap2) = (soft_min_gap(&h, g1).unwrap(), soft_min_gap(&h, g2).unwrap());
        prop_assert!(gap2 <= gap1 * (1.0 + ROUNDING), "gap({g2}) = {gap2} > gap({g1}) = {gap1}");
    }

    /// 3b with `h` depending on γ: `|o(x) − min_i ‖x − u_i‖²| ≤ (max_i |log α_i| + log M)/γ`.
    #[test]
    fn outlier_score_tends_to_nearest_squared_distance((model, x) in model_and_point(0.0..300.0)) {
        let o = model.outlier_score(&x).unwrap();
        let nearest = model.nearest_squared_distance(&x).unwrap();
        let max_log_alpha = model.alpha().iter().fold(0.0_f64, |s, a| s.max(a.ln().abs()));
        let bound = (max_log_alpha + (model.len() as f64).ln()) / model.gamma();
        prop_assert!((o - nearest).abs() <= bound + ROUNDING * nearest.max(1.0));
    }

    /// Conservation: `Σ_j R_j = o(x)` and `Σ_i R_i + bias term + soft-min term = o(x)`; feature
    /// relevances are non-negative and the soft-min term lies in `[−(log M)/γ, 0]`.
    #[test]
    fn explanation_conserves_the_score((model, x) in model_and_point(LOG10_GAMMA_ALL)) {
        let e = explain(&model, &x).unwrap();
        let scale = score_scale(&model, &x);
        assert_relative_eq!(e.support_vectors.iter().sum::<f64>(), e.score, epsilon = EXACT * scale, max_relative = EXACT);
        assert_relative_eq!(e.total(), e.score, epsilon = NETWORK_VS_FORMULA * scale, max_relative = NETWORK_VS_FORMULA);
        prop_assert!(e.features.iter().all(|r| *r >= 0.0));
        let bound = gap_bound(model.len(), model.gamma()).unwrap();
        prop_assert!(e.pooling_term <= 0.0 && e.pooling_term >= -bound * (1.0 + ROUNDING));
        let (paper, unassigned) = explain_proportional(&model, &x).unwrap();
        assert_relative_eq!(paper.iter().sum::<f64>() + unassigned, e.score, epsilon = EXACT * scale, max_relative = EXACT);
        let hard = explain_min_pooling(&model, &x).unwrap();
        assert_relative_eq!(hard.total(), hard.score, epsilon = EXACT * scale, max_relative = EXACT);
        assert_eq!(hard.pooling_term, 0.0);
    }
}

/// A small fixed model with two support vectors in the plane.
fn pair(gamma: f64) -> OneClassSvm {
    OneClassSvm::new(
        DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 1.0]),
        DVector::from_vec(vec![0.3, 0.9]),
        gamma,
    )
    .unwrap()
}

#[test]
fn huge_gamma_is_finite_and_gives_the_nearest_squared_distance() {
    let model = pair(1e300);
    for x in [[0.1, 0.0], [0.6, 0.4], [3.0, -2.0], [1e6, 1e6]] {
        let o = model.outlier_score(&x).unwrap();
        assert!(o.is_finite());
        // γ⁻¹ log α_i ≈ 1e-300 and the gap ≤ (log 2)/γ: o(x) = min_i d_i² to rounding.
        assert_relative_eq!(o, model.nearest_squared_distance(&x).unwrap(), max_relative = EXACT);
    }
    // at x = (1e6, 1e6), γ h_i overflows to ∞, which the shifted soft-min never forms
    assert!((model.gamma() * model.hidden(&[1e6, 1e6]).unwrap()[0]).is_infinite());
}

#[test]
fn tiny_gamma_matches_the_small_gamma_expansion() {
    // o(x) = −γ⁻¹ log Σα + ⟨d²⟩ − (γ/2) Var(d²) + O(γ²), moments under α/Σα.
    let gamma = 1e-6;
    let model = pair(gamma);
    let x = [2.0, -1.0];
    let d2 = model.squared_distances(&x).unwrap();
    let alpha = model.alpha();
    let total: f64 = alpha.iter().sum();
    let mean: f64 = d2.iter().zip(alpha.iter()).map(|(d, a)| a * d).sum::<f64>() / total;
    let var: f64 = d2.iter().zip(alpha.iter()).map(|(d, a)| a * (d - mean).powi(2)).sum::<f64>() / total;
    let expansion = -total.ln() / gamma + mean - 0.5 * gamma * var;
    let o = model.outlier_score(&x).unwrap();
    // the remainder is O(γ² · d⁶) ≈ 1e-10 here; the rounding of the 1e5-sized term is ≈ 1e-11
    assert_relative_eq!(o, expansion, epsilon = 1e-9);
}

#[test]
fn far_point_where_f_underflows_keeps_a_finite_score() {
    let model = pair(1.0);
    let x = [40.0, -30.0];
    assert_eq!(model.inlierness(&x).unwrap(), 0.0, "f(x) underflows in the literal sum");
    assert!(model.outlier_score_naive(&x).unwrap().is_infinite(), "so the literal score is +inf");
    let o = model.outlier_score(&x).unwrap();
    let h = model.hidden(&x).unwrap();
    let m = min_pooling(&h).unwrap();
    assert!(o <= m && o >= m - gap_bound(2, 1.0).unwrap());
    // h_0 − h_1 ≈ 19, so the gap is exp(−19)-small: o(x) = min h to 1e-8 relative.
    assert_relative_eq!(o, m, max_relative = 1e-8);
    let e = explain(&model, &x).unwrap();
    assert!(e.features.iter().chain(&e.support_vectors).all(|v| v.is_finite()));
}

#[test]
fn soft_min_agrees_with_the_literal_formula_where_that_is_representable() {
    let h = [0.5, 2.0, 3.0, 0.7];
    for gamma in [1e-3, 0.1, 1.0, 10.0, 100.0] {
        assert_relative_eq!(soft_min(&h, gamma).unwrap(), soft_min_naive(&h, gamma), max_relative = EXACT);
    }
}

#[test]
fn relevance_tends_to_the_nearest_support_vector() {
    let x = [0.8, 0.1];
    // nearest support vector in d² is u_0 = (0, 0) (0.65 vs 0.85)
    let e = explain(&pair(1e300), &x).unwrap();
    assert_relative_eq!(e.features[0], 0.64, max_relative = EXACT);
    assert_relative_eq!(e.features[1], 0.01, max_relative = EXACT);
    assert_relative_eq!(e.features.iter().sum::<f64>(), e.score, max_relative = EXACT);
    // at moderate γ the bias and soft-min terms carry a visible part of o(x)
    let e = explain(&pair(1.0), &x).unwrap();
    assert!(e.weight_term > 0.1 && e.pooling_term < -0.1);
}

#[test]
fn fitted_model_reproduces_linfa_decision_values() {
    let fitted = book_model().unwrap();
    let model = &fitted.model;
    assert_relative_eq!(model.gamma(), 1.0 / KERNEL_EPS);
    assert!(model.alpha().iter().all(|a| *a > 0.0 && *a <= 1.0));
    let n = 2 * neuralization::data::POINTS_PER_BLOB;
    assert_relative_eq!(model.alpha().sum(), NU * n as f64, max_relative = 1e-9);
    for i in 0..=20 {
        for j in 0..=20 {
            let x = [-4.0 + 0.4 * i as f64, -3.0 + 0.3 * j as f64];
            let f = model.inlierness(&x).unwrap();
            let decision = fitted.linfa_decision(&x).unwrap();
            assert_relative_eq!(f - fitted.rho, decision, epsilon = EXACT, max_relative = EXACT);
            // and the score is −γ⁻¹ log(decision + ρ); adding ρ back to linfa's decision
            // value costs ε·ρ absolute in f, i.e. ε·ρ/(f γ) in o(x)
            let cancellation = 4.0 * f64::EPSILON * (fitted.rho.abs() + f) / (f * model.gamma());
            assert_relative_eq!(
                model.outlier_score(&x).unwrap(),
                -(decision + fitted.rho).ln() / model.gamma(),
                epsilon = cancellation + EXACT,
                max_relative = EXACT
            );
        }
    }
}

#[test]
fn bad_gamma_is_a_typed_error() {
    let u = DMatrix::from_row_slice(1, 1, &[0.0]);
    let a = DVector::from_vec(vec![1.0]);
    for gamma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(OneClassSvm::new(u.clone(), a.clone(), gamma), Err(Error::InvalidParameter { ref name, .. }) if name == "gamma")
        );
        assert!(matches!(soft_min(&[1.0], gamma), Err(Error::InvalidParameter { .. })));
    }
    // a sub-normal γ makes −γ⁻¹ log α_i overflow
    let a = DVector::from_vec(vec![0.5]);
    assert!(matches!(OneClassSvm::new(u, a, 5e-324), Err(Error::Overflow { .. })));
}

#[test]
fn non_positive_alpha_is_a_typed_error() {
    let u = DMatrix::from_row_slice(2, 1, &[0.0, 1.0]);
    for bad in [0.0, -0.5, f64::NAN] {
        let a = DVector::from_vec(vec![0.5, bad]);
        assert!(
            matches!(OneClassSvm::new(u.clone(), a, 1.0), Err(Error::InvalidParameter { ref name, .. }) if name == "alpha[1]")
        );
    }
}

#[test]
fn no_support_vectors_is_a_typed_error() {
    assert!(matches!(
        OneClassSvm::new(DMatrix::zeros(0, 2), DVector::zeros(0), 1.0),
        Err(Error::NoSupportVectors)
    ));
    assert!(matches!(soft_min(&[], 1.0), Err(Error::NoSupportVectors)));
    assert!(matches!(min_pooling(&[]), Err(Error::NoSupportVectors)));
    assert!(matches!(fit_one_class_svm(&DMatrix::zeros(0, 2), NU, KERNEL_EPS), Err(Error::NoSupportVectors)));
}

#[test]
fn dimension_mismatch_is_a_typed_error() {
    let model = pair(1.0);
    assert!(matches!(
        model.outlier_score(&[1.0]),
        Err(Error::DimensionMismatch { expected: 2, found: 1, .. })
    ));
    assert!(matches!(explain(&model, &[1.0, 2.0, 3.0]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(
        TwoLayerNetwork::from_model(&model).forward(&[0.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    let u = DMatrix::from_row_slice(2, 1, &[0.0, 1.0]);
    assert!(matches!(
        OneClassSvm::new(u, DVector::from_vec(vec![1.0]), 1.0),
        Err(Error::DimensionMismatch { what: "alpha", expected: 2, found: 1 })
    ));
    let fitted = book_model().unwrap();
    assert!(matches!(fitted.linfa_decision(&[0.0]), Err(Error::DimensionMismatch { .. })));
}

#[test]
fn non_finite_input_is_a_typed_error() {
    let model = pair(1.0);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(model.outlier_score(&[0.0, bad]), Err(Error::NonFiniteInput { index: 1, .. })));
        assert!(matches!(model.inlierness(&[bad, 0.0]), Err(Error::NonFiniteInput { index: 0, .. })));
        assert!(matches!(explain(&model, &[bad, 0.0]), Err(Error::NonFiniteInput { .. })));
    }
    // a finite x whose squared distance exceeds f64::MAX: an error, not inf or NaN
    assert!(matches!(model.outlier_score(&[1e200, 0.0]), Err(Error::Overflow { .. })));
    let u = DMatrix::from_row_slice(1, 2, &[0.0, f64::NAN]);
    assert!(matches!(
        OneClassSvm::new(u, DVector::from_vec(vec![1.0]), 1.0),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn bad_fit_parameters_are_typed_errors() {
    let data = neuralization::data::two_blobs(10, 1);
    for nu in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(
            matches!(fit_one_class_svm(&data, nu, 1.0), Err(Error::InvalidParameter { ref name, .. }) if name == "nu")
        );
    }
    for eps in [0.0, -1.0, f64::INFINITY] {
        assert!(
            matches!(fit_one_class_svm(&data, 0.5, eps), Err(Error::InvalidParameter { ref name, .. }) if name == "eps")
        );
    }
}
