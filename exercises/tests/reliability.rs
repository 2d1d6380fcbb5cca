//! Bad or extreme input to the exercise libraries gives the right value or a typed error, never a
//! panic, a NaN or an infinity (issue 13, items 10–12). Each test is the reproduction of the
//! defect it guards against.

use activation_maximization::{
    Gaussian, GaussianObjective, GeneratorObjective, GradientAscent, L2Objective, LinearGenerator,
    LinearModel, Objective,
};
use approx::assert_relative_eq;
use lrp_min_networks::slow_reference::lrp_gamma_slow;
use lrp_min_networks::{LrpGamma, MinNetwork, closed_form, network_b};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use neuralization::fit::{KERNEL_EPS, fit_one_class_svm};
use neuralization::{soft_min, soft_min_gap};

/// Two `f64` computations of the same relevance by different formulas (rounding only).
const FORMULAS_AGREE: f64 = 1e-11;

// ---- item 10: mismatched sizes are errors, not panics ----

#[test]
fn precision_times_with_a_vector_of_the_wrong_length_is_a_dimension_mismatch() {
    let gaussian = Gaussian::new(dvector![0.0, 0.0], DMatrix::identity(2, 2)).unwrap();
    let error = gaussian.precision_times(&dvector![1.0, 2.0, 3.0]).unwrap_err();
    assert!(
        matches!(
            error,
            activation_maximization::Error::DimensionMismatch { expected: (2, 1), found: (3, 1), .. }
        ),
        "{error}"
    );
    assert_eq!(gaussian.precision_times(&dvector![1.0, 2.0]).unwrap(), dvector![1.0, 2.0]);
}

#[test]
fn lrp_gamma_propagate_with_wrong_lengths_is_a_shape_mismatch() {
    let network = network_b();
    let layer = &network.layers()[0];
    let rule = LrpGamma::new(0.25).unwrap();
    let r_ok = DVector::zeros(layer.outputs());
    let a_ok = DVector::zeros(layer.inputs());
    let short_a = rule.propagate(layer, &dvector![1.0], &r_ok).unwrap_err();
    assert!(
        matches!(&short_a, lrp_min_networks::Error::ShapeMismatch { expected: 2, found: 1, .. }),
        "{short_a}"
    );
    let long_r = rule.propagate(layer, &a_ok, &DVector::zeros(layer.outputs() + 4)).unwrap_err();
    assert!(
        matches!(&long_r, lrp_min_networks::Error::ShapeMismatch { found, .. } if *found == layer.outputs() + 4)
    );
    assert!(long_r.to_string().contains("relevance"), "{long_r}");
}

// ---- item 11: the right value (stably) or a typed error ----

#[test]
fn lrp_gamma_with_a_huge_gamma_gives_the_limit_not_zero() {
    // Before: W + γW⁺ overflowed to ∞ and R = [0, 0] while y = 3.
    let explanation = LrpGamma::new(1e308).unwrap().explain(&network_b(), &[3.0, 3.0]).unwrap();
    assert_eq!(explanation.output()[0], 3.0);
    let r = explanation.input_relevance();
    let limit = closed_form::equal_inputs_gamma_to_infinity(3.0).unwrap();
    assert_relative_eq!(r[0], limit.r1, max_relative = FORMULAS_AGREE);
    assert_relative_eq!(r[1], limit.r2, max_relative = FORMULAS_AGREE);
}

#[test]
fn the_stable_propagation_equals_the_slow_literal_rule() {
    // The slow reference computes W + γW⁺ literally: where that does not overflow both agree.
    for gamma in [0.0, 0.1, 1.0, 7.5, 1e6] {
        for input in [[3.0, 3.0], [1.0, 2.5], [4.0, 0.5], [0.2, 0.0]] {
            for network in [MinNetwork::A, MinNetwork::B] {
                let fast = LrpGamma::new(gamma).unwrap().explain(&network.network(), &input).unwrap();
                let slow = lrp_gamma_slow(&network.network(), &input, gamma, 0.0).unwrap();
                for (j, want) in slow[0].iter().enumerate() {
                    assert_relative_eq!(
                        fast.input_relevance()[j],
                        *want,
                        epsilon = FORMULAS_AGREE,
                        max_relative = FORMULAS_AGREE
                    );
                }
            }
        }
    }
}

#[test]
fn closed_forms_at_a_huge_gamma_are_their_limits() {
    // Before: network_b_equal_inputs(3, 1e308) was NaN (∞/∞) and network_b_on_domain(1, 1,
    // 1e308) was (0, 0).
    let limit = closed_form::equal_inputs_gamma_to_infinity(3.0).unwrap();
    let b = closed_form::network_b_equal_inputs(3.0, 1e308).unwrap();
    assert_relative_eq!(b.r1, limit.r1, max_relative = FORMULAS_AGREE);
    assert_relative_eq!(b.r2, limit.r2, max_relative = FORMULAS_AGREE);
    for gamma in [1e308, f64::MAX] {
        for network in [MinNetwork::A, MinNetwork::B] {
            let r = closed_form::on_domain(network, 1.0, 1.0, gamma).unwrap();
            assert_relative_eq!(r.r1, 0.5, max_relative = FORMULAS_AGREE);
            assert_relative_eq!(r.r2, 0.5, max_relative = FORMULAS_AGREE);
        }
    }
}

#[test]
fn closed_forms_on_the_domain_match_the_numeric_rule_from_tiny_to_huge_inputs() {
    // Relevance is homogeneous of degree 1 in a: the rescaled formulas stay finite where the
    // literal products a1²a2 overflow (1e120) or underflow (1e-120).
    for scale in [1e-120, 1.0, 1e120] {
        for gamma in [0.0, 0.3, 2.0, 1e9] {
            for (a1, a2) in [(2.0, 1.0), (1.0, 2.0), (1.0, 1.0), (5.0, 0.01)] {
                for network in [MinNetwork::A, MinNetwork::B] {
                    let closed = closed_form::on_domain(network, a1 * scale, a2 * scale, gamma).unwrap();
                    let numeric =
                        LrpGamma::new(gamma).unwrap().explain(&network.network(), &[a1, a2]).unwrap();
                    let r = numeric.input_relevance();
                    let context = format!("{network:?} at ({a1}, {a2})·{scale:e}, γ = {gamma}");
                    assert_relative_eq!(
                        closed.r1 / scale,
                        r[0],
                        epsilon = FORMULAS_AGREE,
                        max_relative = 1e-9
                    );
                    assert_relative_eq!(
                        closed.r2 / scale,
                        r[1],
                        epsilon = FORMULAS_AGREE,
                        max_relative = 1e-9
                    );
                    assert!(closed.r1.is_finite() && closed.r2.is_finite(), "{context}");
                }
            }
        }
    }
}

#[test]
fn a_soft_min_beyond_f64_is_an_overflow_error() {
    // Before: soft_min(&[1.0; 1000], 1e-308) returned −∞. The true value 1 − ln(1000)·1e308
    // is below −f64::MAX.
    let error = soft_min(&[1.0; 1000], 1e-308).unwrap_err();
    assert!(matches!(error, neuralization::Error::Overflow { .. }), "{error}");
    assert!(matches!(soft_min_gap(&[1.0; 1000], 1e-308), Err(neuralization::Error::Overflow { .. })));
    // Where the value is representable it is still returned: ln(1000)/1e-300 ≈ 6.9e300.
    let value = soft_min(&[1.0; 1000], 1e-300).unwrap();
    assert_relative_eq!(value, 1.0 - 1000f64.ln() * 1e300, max_relative = FORMULAS_AGREE);
}

#[test]
fn a_one_class_svm_fit_with_nu_one_is_an_error_not_an_infinite_rho() {
    let data = neuralization::data::two_blobs(20, 3);
    let error = fit_one_class_svm(&data, 1.0, KERNEL_EPS).unwrap_err();
    match error {
        neuralization::Error::InvalidParameter { ref name, value, .. } => {
            assert_eq!((name.as_str(), value), ("nu", 1.0), "{error}")
        }
        other => panic!("expected an invalid ν, got {other}"),
    }
    let fitted = fit_one_class_svm(&data, 0.5, KERNEL_EPS).unwrap();
    assert!(fitted.rho.is_finite());
}

#[test]
fn activation_maximization_evaluators_reject_nan_input() {
    let model = LinearModel::new(dvector![1.0, 2.0], 0.5).unwrap();
    let prior = Gaussian::new(dvector![0.0, 0.0], dmatrix![1.0, 0.2; 0.2, 1.0]).unwrap();
    let generator = LinearGenerator::new(dmatrix![1.0, 0.0; 0.0, 1.0], dvector![0.0, 0.0]).unwrap();
    let objectives: Vec<Box<dyn Objective>> = vec![
        Box::new(L2Objective::new(model.clone(), 0.5).unwrap()),
        Box::new(GaussianObjective::new(model.clone(), prior.clone()).unwrap()),
        Box::new(GeneratorObjective::new(model.clone(), generator.clone(), 0.5).unwrap()),
    ];
    let nan = dvector![1.0, f64::NAN];
    let is_non_finite = |r: &activation_maximization::Error| {
        matches!(r, activation_maximization::Error::NonFinite { index: 1, .. })
    };
    for objective in &objectives {
        assert!(is_non_finite(&objective.value(&nan).unwrap_err()));
        assert!(is_non_finite(&objective.gradient(&nan).unwrap_err()));
    }
    assert!(is_non_finite(&model.output(&nan).unwrap_err()));
    assert!(is_non_finite(&prior.log_density(&nan).unwrap_err()));
    assert!(is_non_finite(&generator.generate(&nan).unwrap_err()));
    // A finite argument whose value overflows is an overflow, not −∞.
    let huge = dvector![1e200, 1e200];
    let error = objectives[0].value(&huge).unwrap_err();
    assert!(matches!(error, activation_maximization::Error::Overflow { .. }), "{error}");
}

// ---- item 12: the path only when asked; a failed line search says so ----

#[test]
fn gradient_ascent_keeps_the_path_only_when_asked() {
    let objective = L2Objective::new(LinearModel::new(dvector![1.0, 2.0], 0.0).unwrap(), 0.3).unwrap();
    let start = dvector![-4.0, 3.0];
    let plain = GradientAscent::default().maximize(&objective, &start).unwrap();
    assert!(plain.iterations > 0);
    assert!(plain.path.is_empty(), "{} iterates kept", plain.path.len());
    let traced = GradientAscent::default().keeping_path().maximize(&objective, &start).unwrap();
    assert_eq!(traced.path.len(), traced.iterations + 1);
    assert_eq!(traced.path[0], start);
    assert_eq!(traced.path.last(), Some(&traced.argmax));
    assert_eq!(traced.argmax, plain.argmax);
}

/// A gradient `+1` at the start `v = 0` and `−1` everywhere else: every step along it
/// overshoots, so the line search must give up.
struct Backwards;

impl Objective for Backwards {
    fn dimension(&self) -> usize {
        1
    }
    fn value(&self, v: &DVector<f64>) -> activation_maximization::Result<f64> {
        Ok(-v[0].abs())
    }
    fn gradient(&self, v: &DVector<f64>) -> activation_maximization::Result<DVector<f64>> {
        Ok(dvector![if v[0] == 0.0 { 1.0 } else { -1.0 }])
    }
    fn hessian(&self) -> DMatrix<f64> {
        DMatrix::zeros(1, 1)
    }
}

#[test]
fn a_failed_line_search_is_reported_as_such() {
    // Before: "did not converge after 0 iterations".
    let error = GradientAscent::default().maximize(&Backwards, &dvector![0.0]).unwrap_err();
    match error {
        activation_maximization::Error::LineSearchFailed { iteration, halvings, gradient_norm } => {
            assert_eq!(iteration, 0);
            assert_eq!(halvings, activation_maximization::gradient_ascent::MAX_HALVINGS);
            assert_eq!(gradient_norm, 1.0);
        }
        other => panic!("expected LineSearchFailed, got {other}"),
    }
    assert!(
        GradientAscent::default()
            .maximize(&Backwards, &dvector![0.0])
            .unwrap_err()
            .to_string()
            .contains("line search")
    );
}
