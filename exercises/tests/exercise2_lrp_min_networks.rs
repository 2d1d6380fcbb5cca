//! Exercise 2 of exercise sheet 11: LRP-γ on the two min-networks.
//!
//! Checks, claim by claim, what the book's chapter "LRP on min-networks" states: both networks
//! compute `min(a1, a2)` on `a1, a2 ≥ 0` (2a) and differ outside that domain; the closed forms
//! of `R_1`, `R_2` at `a1 = a2` equal the engine (2b); relevance is conserved on the domain; the
//! limits γ → 0 and γ → ∞; the matrix engine equals the slow connection-by-connection twin on
//! random networks; bad input gives typed errors; the figures and the chapter's includes exist.

use std::path::{Path, PathBuf};

use approx::assert_relative_eq;
use lrp_min_networks::closed_form::{
    equal_inputs, equal_inputs_gamma_to_infinity, equal_inputs_gamma_to_zero, network_a_equal_inputs,
    network_b_equal_inputs, on_domain,
};
use lrp_min_networks::slow_reference::lrp_gamma_slow;
use lrp_min_networks::{
    Activation, Error, Layer, LrpGamma, MinNetwork, Network, network_a, network_b, relevance_share,
};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

/// Agreement of two computations of the same quantity in a different order of operations.
const EXACT: f64 = 1e-12;
/// Matrix engine vs. slow twin on random networks, relative to the largest relevance of a layer.
const ENGINE_VS_SLOW: f64 = 1e-9;
/// Closed form vs. engine and conservation, relative to the size of the inputs.
const CLOSED_VS_ENGINE: f64 = 1e-10;
/// γ that stands for γ → ∞ in the limit tests, and how close the share comes to its limit.
const HUGE_GAMMA: f64 = 1e9;
/// Distance of the share at [`HUGE_GAMMA`] from its γ → ∞ limit `a1 / (a1 + a2)`.
const SHARE_LIMIT: f64 = 1e-6;

/// Inputs on the sheet's domain `a1, a2 ≥ 0`.
const INPUT_RANGE: std::ops::RangeInclusive<f64> = 0.0..=1e3;
/// Inputs for the diagonal closed forms, `a ∈ (0, 1e3]`.
const DIAGONAL_RANGE: std::ops::RangeInclusive<f64> = 1e-9..=1e3;
/// γ for the closed forms, `[0, 100]`.
const GAMMA_RANGE: std::ops::RangeInclusive<f64> = 0.0..=100.0;
/// Inputs anywhere in the plane, for the outside-the-domain checks.
const PLANE_RANGE: std::ops::RangeInclusive<f64> = -1e3..=1e3;
/// Inputs for the γ → ∞ share limit, away from `y = 0`.
const SHARE_INPUT_RANGE: std::ops::RangeInclusive<f64> = 1e-2..=1e2;
/// Random networks: number of layers and neurons per layer.
const LAYERS: std::ops::RangeInclusive<usize> = 1..=4;
/// Neurons per layer of a random network.
const WIDTH: std::ops::RangeInclusive<usize> = 1..=4;
/// Random weights, biases and inputs are `k / 4` for `k` in this range, so every sum of
/// products (the activations and all denominators) is exact in `f64` and both implementations
/// see the same zeros.
const QUARTERS: std::ops::RangeInclusive<i32> = -8..=8;
/// γ and ε of the random-network comparison are `k / 4` for `k` in this range.
const QUARTERS_NON_NEGATIVE: std::ops::RangeInclusive<i32> = 0..=16;

// ---------------------------------------------------------------- strategies

/// One input on the domain: a uniform value, or exactly zero (a fifth of the time).
fn domain_value() -> impl Strategy<Value = f64> {
    prop_oneof![4 => INPUT_RANGE, 1 => Just(0.0)]
}

/// `(a1, a2)` on the domain, with `a1 = a2` and zeros among the cases.
fn domain_inputs() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        3 => (domain_value(), domain_value()),
        1 => domain_value().prop_map(|a| (a, a)),
    ]
}

/// `a` for the diagonal closed forms.
fn diagonal_input() -> impl Strategy<Value = f64> {
    DIAGONAL_RANGE
}

/// γ for the closed forms, with the end points 0 and 100 among the cases.
fn gamma() -> impl Strategy<Value = f64> {
    prop_oneof![4 => GAMMA_RANGE, 1 => Just(0.0), 1 => Just(100.0)]
}

/// `(a1, a2)` anywhere in the plane.
fn plane_inputs() -> impl Strategy<Value = (f64, f64)> {
    (PLANE_RANGE, PLANE_RANGE)
}

/// One of the two min-networks.
fn min_network() -> impl Strategy<Value = MinNetwork> {
    prop_oneof![Just(MinNetwork::A), Just(MinNetwork::B)]
}

/// A multiple of 1/4 from `range` (exact in `f64`, see [`QUARTERS`]).
fn quarter(range: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = f64> {
    range.prop_map(|k| f64::from(k) / 4.0)
}

/// One random layer `inputs → outputs` with bias; ReLU unless it is the last layer.
fn random_layer(inputs: usize, outputs: usize, last: bool) -> impl Strategy<Value = Layer> {
    (
        proptest::collection::vec(quarter(QUARTERS), inputs * outputs),
        proptest::collection::vec(quarter(QUARTERS), outputs),
        any::<bool>(),
    )
        .prop_map(move |(weights, bias, zero_bias)| {
            let weights = DMatrix::from_row_slice(outputs, inputs, &weights);
            let bias = if zero_bias { DVector::zeros(outputs) } else { DVector::from_vec(bias) };
            let activation = if last { Activation::Linear } else { Activation::Relu };
            Layer::new(weights, bias, activation).unwrap()
        })
}

/// A random dense network with quarter weights, and an input for it.
fn random_network_and_input() -> impl Strategy<Value = (Network, Vec<f64>)> {
    proptest::collection::vec(WIDTH, LAYERS.start() + 1..=LAYERS.end() + 1).prop_flat_map(|widths| {
        let layers: Vec<_> = widths
            .windows(2)
            .enumerate()
            .map(|(l, pair)| random_layer(pair[0], pair[1], l + 2 == widths.len()))
            .collect();
        let input = proptest::collection::vec(quarter(QUARTERS), widths[0]);
        (layers, input).prop_map(|(layers, input)| (Network::new(layers).unwrap(), input))
    })
}

// ---------------------------------------------------------------- helpers

/// `(R_1, R_2)` and `y` from the matrix engine.
fn engine(network: &Network, a1: f64, a2: f64, gamma: f64) -> (f64, f64, f64) {
    let explanation = LrpGamma::new(gamma).unwrap().explain(network, &[a1, a2]).unwrap();
    let r = explanation.input_relevance();
    (r[0], r[1], explanation.output()[0])
}

/// The workspace root (this file is in `exercises/tests/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ---------------------------------------------------------------- 2a: both networks are min

proptest! {
    /// 2a: on `a1, a2 ≥ 0` (including `a1 = a2` and zeros) both networks output `min(a1, a2)`.
    #[test]
    fn both_networks_compute_min_on_the_domain((a1, a2) in domain_inputs()) {
        for network in [network_a(), network_b()] {
            let y = network.evaluate(&[a1, a2]).unwrap()[0];
            assert_relative_eq!(y, a1.min(a2), epsilon = EXACT * (a1 + a2), max_relative = EXACT);
        }
    }

    /// Outside the domain each network computes its whole-plane formula, which is `min` exactly
    /// on its half-plane (A: `a1 + a2 ≥ 0`, B: `a1 ≥ 0`).
    #[test]
    fn whole_plane_formulas_and_half_planes((a1, a2) in plane_inputs(), which in min_network()) {
        let y = which.network().evaluate(&[a1, a2]).unwrap()[0];
        let scale = a1.abs() + a2.abs();
        assert_relative_eq!(y, which.formula(a1, a2), epsilon = EXACT * scale, max_relative = EXACT);
        let on_half_plane = match which {
            MinNetwork::A => a1 + a2 >= 0.0,
            MinNetwork::B => a1 >= 0.0,
        };
        if on_half_plane {
            assert_relative_eq!(y, a1.min(a2), epsilon = EXACT * scale, max_relative = EXACT);
        } else {
            prop_assert!((y - a1.min(a2)).abs() > EXACT * scale, "{} is min at ({a1}, {a2})", which.name());
        }
    }
}

/// The networks differ outside the domain: at `(−1, 1)` A gives `−1 = min`, B gives `0`; at
/// `(−1, −1)` both give `0 ≠ −1`; at `(1, −1)` both give `−1 = min`.
#[test]
fn networks_differ_at_a_negative_input() {
    let at = |network: &Network, a1: f64, a2: f64| network.evaluate(&[a1, a2]).unwrap()[0];
    let (a, b) = (network_a(), network_b());
    assert_eq!((at(&a, -1.0, 1.0), at(&b, -1.0, 1.0)), (-1.0, 0.0));
    assert_eq!((at(&a, -1.0, -1.0), at(&b, -1.0, -1.0)), (0.0, 0.0));
    assert_eq!((at(&a, 1.0, -1.0), at(&b, 1.0, -1.0)), (-1.0, -1.0));
}

/// The hidden activations used in the book's case analysis at `a1 = 3, a2 = 1` and `a1 = a2 = 2`.
#[test]
fn hidden_activations_of_the_case_analysis() {
    let a = network_a().forward(&[3.0, 1.0]).unwrap();
    assert_eq!(a.activations[1].as_slice(), &[4.0, 2.0, 0.0]);
    let b = network_b().forward(&[3.0, 1.0]).unwrap();
    assert_eq!(b.activations[1].as_slice(), &[3.0, 1.0, 2.0]);
    assert_eq!(b.activations[2].as_slice(), &[4.0, 3.0]);
    let diagonal = network_b().forward(&[2.0, 2.0]).unwrap();
    assert_eq!(diagonal.activations[1].as_slice(), &[2.0, 2.0, 0.0]);
}

// ---------------------------------------------------------------- 2b: closed forms

proptest! {
    /// 2b: the closed forms at `a1 = a2 = a` equal the engine, for `a ∈ (0, 1e3]`, `γ ∈ [0, 100]`.
    #[test]
    fn closed_forms_equal_the_engine(a in diagonal_input(), gamma in gamma(), which in min_network()) {
        let (r1, r2, y) = engine(&which.network(), a, a, gamma);
        let closed = equal_inputs(which, a, gamma).unwrap();
        assert_relative_eq!(r1, closed.r1, epsilon = CLOSED_VS_ENGINE * a, max_relative = CLOSED_VS_ENGINE);
        assert_relative_eq!(r2, closed.r2, epsilon = CLOSED_VS_ENGINE * a, max_relative = CLOSED_VS_ENGINE);
        // Conservation on the diagonal, closed form and engine.
        assert_relative_eq!(closed.total(), a, epsilon = CLOSED_VS_ENGINE * a, max_relative = CLOSED_VS_ENGINE);
        assert_relative_eq!(r1 + r2, y, epsilon = CLOSED_VS_ENGINE * a, max_relative = CLOSED_VS_ENGINE);
    }

    /// Beyond the sheet: the closed forms anywhere on the domain equal the engine.
    #[test]
    fn domain_closed_forms_equal_the_engine((a1, a2) in domain_inputs(), gamma in gamma(), which in min_network()) {
        let (r1, r2, _) = engine(&which.network(), a1, a2, gamma);
        let closed = on_domain(which, a1, a2, gamma).unwrap();
        let scale = CLOSED_VS_ENGINE * (a1 + a2);
        assert_relative_eq!(r1, closed.r1, epsilon = scale, max_relative = CLOSED_VS_ENGINE);
        assert_relative_eq!(r2, closed.r2, epsilon = scale, max_relative = CLOSED_VS_ENGINE);
        assert_relative_eq!(closed.total(), a1.min(a2), epsilon = scale, max_relative = CLOSED_VS_ENGINE);
        prop_assert!(closed.r1 >= 0.0 && closed.r2 >= 0.0, "negative relevance on the domain: {closed:?}");
    }

    /// Conservation `R_1 + R_2 = y`, and `Σ R = y` at every layer, on the whole domain for
    /// every γ ≥ 0: no biases, and every neuron that carries relevance has a positive
    /// denominator.
    #[test]
    fn relevance_is_conserved_on_the_domain((a1, a2) in domain_inputs(), gamma in gamma(), which in min_network()) {
        let explanation = LrpGamma::new(gamma).unwrap().explain(&which.network(), &[a1, a2]).unwrap();
        let y = explanation.output()[0];
        for relevance in &explanation.relevances {
            assert_relative_eq!(relevance.sum(), y, epsilon = CLOSED_VS_ENGINE * (a1 + a2), max_relative = CLOSED_VS_ENGINE);
        }
    }

    /// γ → ∞: both networks give the share `a1 / (a1 + a2)` everywhere (the z⁺ rule), and
    /// γ = 0 gives Gradient×Input: all of `y` to the smaller input.
    #[test]
    fn share_limits_in_gamma((a1, a2) in (SHARE_INPUT_RANGE, SHARE_INPUT_RANGE), which in min_network()) {
        let network = which.network();
        let huge = relevance_share(&network, a1, a2, &LrpGamma::new(HUGE_GAMMA).unwrap()).unwrap().unwrap();
        assert_relative_eq!(huge, a1 / (a1 + a2), epsilon = SHARE_LIMIT, max_relative = SHARE_LIMIT);
        let zero = relevance_share(&network, a1, a2, &LrpGamma::new(0.0).unwrap()).unwrap().unwrap();
        if a1 != a2 {
            prop_assert_eq!(zero, if a1 < a2 { 1.0 } else { 0.0 });
        }
    }

    /// The matrix engine equals the slow connection-by-connection twin on random networks with
    /// biases, for γ and ε ≥ 0, at every layer.
    #[test]
    fn engine_equals_slow_reference(
        (network, input) in random_network_and_input(),
        gamma in quarter(QUARTERS_NON_NEGATIVE),
        epsilon in prop_oneof![Just(0.0), quarter(QUARTERS_NON_NEGATIVE)],
    ) {
        let fast = LrpGamma::new(gamma).unwrap().with_epsilon(epsilon).unwrap().explain(&network, &input).unwrap();
        let slow = lrp_gamma_slow(&network, &input, gamma, epsilon).unwrap();
        prop_assert_eq!(fast.relevances.len(), slow.len());
        for (fast_layer, slow_layer) in fast.relevances.iter().zip(&slow) {
            let scale = slow_layer.iter().fold(1.0f64, |m, r| m.max(r.abs()));
            for (&f, &s) in fast_layer.iter().zip(slow_layer) {
                assert_relative_eq!(f, s, epsilon = ENGINE_VS_SLOW * scale, max_relative = ENGINE_VS_SLOW);
            }
        }
    }

    /// The slow twin also agrees on the min-networks anywhere in the plane.
    #[test]
    fn engine_equals_slow_reference_on_min_networks((a1, a2) in plane_inputs(), gamma in gamma(), which in min_network()) {
        let network = which.network();
        let fast = LrpGamma::new(gamma).unwrap().explain(&network, &[a1, a2]).unwrap();
        let slow = lrp_gamma_slow(&network, &[a1, a2], gamma, 0.0).unwrap();
        for (fast_layer, slow_layer) in fast.relevances.iter().zip(&slow) {
            let scale = slow_layer.iter().fold(a1.abs() + a2.abs(), |m, r| m.max(r.abs()));
            for (&f, &s) in fast_layer.iter().zip(slow_layer) {
                assert_relative_eq!(f, s, epsilon = ENGINE_VS_SLOW * scale, max_relative = ENGINE_VS_SLOW);
            }
        }
    }
}

/// The worked values of the book: γ = 1, a = 1 gives A: (1/2, 1/2), B: (2/3, 1/3).
#[test]
fn worked_example_at_gamma_one() {
    let a = network_a_equal_inputs(1.0, 1.0).unwrap();
    assert_eq!((a.r1, a.r2), (0.5, 0.5));
    let b = network_b_equal_inputs(1.0, 1.0).unwrap();
    assert_relative_eq!(b.r1, 2.0 / 3.0, epsilon = EXACT, max_relative = EXACT);
    assert_relative_eq!(b.r2, 1.0 / 3.0, epsilon = EXACT, max_relative = EXACT);
}

// ANCHOR: layer_by_layer_test
/// Every neuron's relevance in network B at `a1 = a2 = 1`, γ = 1, as derived layer by layer in
/// the book: `R_g = (4/3, −1/3)`, `R_h = (2/3, 1/3, 0)`.
#[test]
fn network_b_layer_by_layer_at_gamma_one() {
    let explanation = LrpGamma::new(1.0).unwrap().explain(&network_b(), &[1.0, 1.0]).unwrap();
    let expected: [&[f64]; 4] =
        [&[2.0 / 3.0, 1.0 / 3.0], &[2.0 / 3.0, 1.0 / 3.0, 0.0], &[4.0 / 3.0, -1.0 / 3.0], &[1.0]];
    for (relevance, expected) in explanation.relevances.iter().zip(expected) {
        assert_relative_eq!(
            relevance,
            &DVector::from_column_slice(expected),
            epsilon = EXACT,
            max_relative = EXACT
        );
    }
}
// ANCHOR_END: layer_by_layer_test

/// At `a1 = a2` the neurons `relu(±(a1 − a2))` are 0: they get zero relevance, and at γ = 0
/// their zero denominators (`a(1+γ) − a = 0`) produce no NaN.
#[test]
fn zero_activation_neurons_on_the_diagonal() {
    for gamma in [0.0, 0.5] {
        let a = LrpGamma::new(gamma).unwrap().explain(&network_a(), &[2.0, 2.0]).unwrap();
        assert_eq!(a.relevances[1].as_slice(), &[2.0, 0.0, 0.0]);
        assert_eq!(a.input_relevance().as_slice(), &[1.0, 1.0]);
        let b = LrpGamma::new(gamma).unwrap().explain(&network_b(), &[2.0, 2.0]).unwrap();
        assert_eq!(b.relevances[1][2], 0.0);
        assert!(b.relevances.iter().all(|r| r.iter().all(|v| v.is_finite())));
    }
}

/// At `a1 = a2 = 0` everything is 0: every denominator vanishes, and the result is 0, not NaN.
#[test]
fn zero_input_gives_zero_relevance() {
    for which in MinNetwork::ALL {
        for gamma in [0.0, 1.0] {
            let (r1, r2, y) = engine(&which.network(), 0.0, 0.0, gamma);
            assert_eq!((r1, r2, y), (0.0, 0.0, 0.0));
            assert_eq!(
                relevance_share(&which.network(), 0.0, 0.0, &LrpGamma::new(gamma).unwrap()).unwrap(),
                None
            );
        }
    }
}

/// The γ-limits of the closed forms: γ → 0 is the engine at γ = 0; γ → ∞ is `(a/2, a/2)`.
#[test]
fn closed_form_limits_match_the_engine() {
    let a = 1.5;
    for which in MinNetwork::ALL {
        let (r1, r2, _) = engine(&which.network(), a, a, 0.0);
        let zero = equal_inputs_gamma_to_zero(which, a).unwrap();
        assert_relative_eq!(r1, zero.r1, epsilon = EXACT, max_relative = EXACT);
        assert_relative_eq!(r2, zero.r2, epsilon = EXACT, max_relative = EXACT);
        let (r1, r2, _) = engine(&which.network(), a, a, HUGE_GAMMA);
        let infinity = equal_inputs_gamma_to_infinity(a).unwrap();
        assert_relative_eq!(r1, infinity.r1, epsilon = 1.0 / HUGE_GAMMA, max_relative = 1.0 / HUGE_GAMMA);
        assert_relative_eq!(r2, infinity.r2, epsilon = 1.0 / HUGE_GAMMA, max_relative = 1.0 / HUGE_GAMMA);
    }
}

/// Any other small network works too: a bias enters the denominator with `b + γb⁺` and keeps
/// its share, so conservation fails by exactly that share.
#[test]
fn bias_absorbs_relevance_in_another_network() {
    // y = relu(a1 + a2 + 1) at (1, 1), γ = 1: z = 2·2 + 2 = 6, each input gets y·2/6 = 1.
    let layer = Layer::new(
        DMatrix::from_row_slice(1, 2, &[1.0, 1.0]),
        DVector::from_element(1, 1.0),
        Activation::Relu,
    )
    .unwrap();
    let network = Network::new(vec![layer]).unwrap();
    let (r1, r2, y) = engine(&network, 1.0, 1.0, 1.0);
    assert_eq!(y, 3.0);
    assert_relative_eq!(r1, 1.0, epsilon = EXACT, max_relative = EXACT);
    assert_relative_eq!(r2, 1.0, epsilon = EXACT, max_relative = EXACT);
}

// ---------------------------------------------------------------- bad input

/// Negative γ is rejected by the engine, the slow twin and the closed forms.
#[test]
fn negative_gamma_is_an_error() {
    assert!(matches!(LrpGamma::new(-1.0), Err(Error::InvalidParameter { name: "gamma", .. })));
    assert!(matches!(
        lrp_gamma_slow(&network_a(), &[1.0, 1.0], -1.0, 0.0),
        Err(Error::InvalidParameter { name: "gamma", .. })
    ));
    assert!(matches!(network_b_equal_inputs(1.0, -1.0), Err(Error::InvalidParameter { name: "gamma", .. })));
}

/// NaN and infinite γ, and a bad ε, are rejected.
#[test]
fn non_finite_gamma_and_bad_epsilon_are_errors() {
    for gamma in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(LrpGamma::new(gamma), Err(Error::InvalidParameter { name: "gamma", .. })));
        assert!(matches!(
            network_a_equal_inputs(1.0, gamma),
            Err(Error::InvalidParameter { name: "gamma", .. })
        ));
    }
    let rule = LrpGamma::new(0.0).unwrap();
    for epsilon in [-1e-9, f64::NAN] {
        assert!(matches!(rule.with_epsilon(epsilon), Err(Error::InvalidParameter { name: "epsilon", .. })));
    }
}

/// Non-finite activations (inputs) are rejected before anything is computed.
#[test]
fn non_finite_input_is_an_error() {
    let rule = LrpGamma::new(1.0).unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        assert!(matches!(rule.explain(&network_a(), &[bad, 1.0]), Err(Error::NonFinite { .. })));
        assert!(matches!(lrp_gamma_slow(&network_b(), &[1.0, bad], 1.0, 0.0), Err(Error::NonFinite { .. })));
        assert!(matches!(network_b().forward(&[bad, bad]), Err(Error::NonFinite { .. })));
    }
}

/// An activation that overflows inside the network is an error, not an infinite relevance.
#[test]
fn overflowing_activation_is_an_error() {
    let layer = Layer::from_rows(&[&[1e308, 1e308]], Activation::Linear).unwrap();
    let network = Network::new(vec![layer]).unwrap();
    assert!(matches!(
        LrpGamma::new(0.0).unwrap().explain(&network, &[10.0, 10.0]),
        Err(Error::NonFinite { .. })
    ));
}

/// Shape mismatches: wrong input length, layers that do not fit, bias of the wrong length,
/// ragged weight rows, a share of a network without two inputs.
#[test]
fn shape_mismatches_are_errors() {
    let rule = LrpGamma::new(0.25).unwrap();
    assert!(matches!(
        rule.explain(&network_a(), &[1.0]),
        Err(Error::ShapeMismatch { expected: 2, found: 1, .. })
    ));
    let first = Layer::from_rows(&[&[1.0, 1.0]], Activation::Relu).unwrap();
    let second = Layer::from_rows(&[&[1.0, 1.0]], Activation::Linear).unwrap();
    assert!(matches!(
        Network::new(vec![first, second]),
        Err(Error::ShapeMismatch { expected: 1, found: 2, .. })
    ));
    let bias = Layer::new(DMatrix::zeros(3, 2), DVector::zeros(2), Activation::Relu);
    assert!(matches!(bias, Err(Error::ShapeMismatch { expected: 3, found: 2, .. })));
    assert!(matches!(
        Layer::from_rows(&[&[1.0], &[1.0, 2.0]], Activation::Relu),
        Err(Error::ShapeMismatch { .. })
    ));
    let three_inputs =
        Network::new(vec![Layer::from_rows(&[&[1.0, 1.0, 1.0]], Activation::Linear).unwrap()]).unwrap();
    assert!(matches!(relevance_share(&three_inputs, 1.0, 1.0, &rule), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(Network::new(Vec::new()), Err(Error::Empty(_))));
}

/// Non-finite weights and biases are rejected when the layer is built.
#[test]
fn non_finite_weights_are_errors() {
    assert!(matches!(Layer::from_rows(&[&[f64::NAN, 1.0]], Activation::Relu), Err(Error::NonFinite { .. })));
    let bias = Layer::new(DMatrix::zeros(1, 1), DVector::from_element(1, f64::INFINITY), Activation::Relu);
    assert!(matches!(bias, Err(Error::NonFinite { .. })));
}

/// A negative input to a closed form (the forms hold on the domain only) is an error.
#[test]
fn negative_closed_form_input_is_an_error() {
    assert!(matches!(network_a_equal_inputs(-1.0, 1.0), Err(Error::InvalidParameter { name: "a", .. })));
    assert!(matches!(
        equal_inputs_gamma_to_zero(MinNetwork::B, f64::NAN),
        Err(Error::InvalidParameter { name: "a", .. })
    ));
}

// ---------------------------------------------------------------- figures and book

/// `write_all` writes the four `ex2_` figures, each PNG with its CSV.
#[test]
fn figures_are_written_with_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let files = lrp_min_networks::figures::write_all(dir.path()).unwrap();
    let stems: Vec<String> =
        files.iter().map(|f| f.png.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        stems,
        [
            "ex2_relevance_vs_gamma",
            "ex2_share_network_a",
            "ex2_share_network_b",
            "ex2_outside_domain",
            "ex2_networks"
        ]
    );
    for file in &files {
        assert!(file.png.exists() && file.csv.exists());
        assert_eq!(file.csv.file_stem(), file.png.file_stem());
    }
    let share = std::fs::read_to_string(&files[1].csv).unwrap();
    let cells = lrp_min_networks::figures::SHARE_CELLS;
    assert_eq!(share.lines().count(), 1 + lrp_min_networks::figures::SHARE_GAMMAS.len() * cells * cells);
}

/// Every `{{#include FILE:anchor}}` of the chapter names an existing file with that anchor, and
/// every figure it shows is in `book/src/figures/`.
#[test]
fn chapter_includes_and_figures_resolve() {
    let root = workspace_root();
    let chapter_path = root.join("book/src/lrp-min-networks.md");
    let chapter = std::fs::read_to_string(&chapter_path).unwrap();
    let mut includes = 0;
    for directive in chapter.split("{{#include ").skip(1) {
        let target = &directive[..directive.find("}}").unwrap()];
        let (file, anchor) = target.split_once(':').expect("includes name an anchor");
        let source = std::fs::read_to_string(chapter_path.parent().unwrap().join(file)).unwrap();
        assert!(source.contains(&format!("ANCHOR: {anchor}\n")), "anchor {anchor} missing in {file}");
        assert!(source.contains(&format!("ANCHOR_END: {anchor}\n")), "anchor end {anchor} missing in {file}");
        includes += 1;
    }
    assert!(includes >= 5, "the chapter includes its code by anchor");
    for image in chapter.split("](figures/").skip(1) {
        let name = &image[..image.find(')').unwrap()];
        assert!(root.join("book/src/figures").join(name).exists(), "figure {name} missing");
    }
}
