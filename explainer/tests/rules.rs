//! Every rule against its formula written out connection by connection (the slow twin), on a
//! network of one dense layer whose inputs have both signs and whose outputs both signs, on both
//! engines; and every rule parameter, composite and precision that makes no sense refused.

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::composite::presets;
use explainer::{
    AlphaBeta, Attributor, Composite, Engine, Epsilon, Error, Flat, Gamma, GammaSchedule, GradientRule,
    LayerKind, Lrp, Lrp0, Preset, PresetOptions, Rule, Selector, Stabiliser, Vgg, VggConfig, WSquare, ZBox,
    ZPlus,
};
use util::values;

/// The engines against a formula evaluated in the same precision (summation order only).
const EXACT: f64 = 1e-12;
/// Inputs: 3 channels of 2×2, flattened channel-major into 12 features.
const FEATURES: usize = 12;
const CLASSES: usize = 4;

/// A network of one dense layer `12 → 4`: weights and inputs of both signs, biases non-zero,
/// and two positive and two negative logits.
fn dense() -> (Vgg, Tensor) {
    let config = VggConfig {
        name: "dense".into(),
        in_channels: 3,
        features: vec![],
        feature_size: 2,
        hidden: vec![],
        classes: CLASSES,
        average_pool: false,
    };
    let w: Vec<f64> = (0..CLASSES * FEATURES).map(|i| ((i * 37 % 23) as f64 - 11.0) / 7.0).collect();
    let b = vec![0.3, -0.2, 0.15, -0.4];
    let d = &Device::Cpu;
    let tensors = HashMap::from([
        ("classifier.0.weight".to_owned(), Tensor::from_vec(w, (CLASSES, FEATURES), d).unwrap()),
        ("classifier.0.bias".to_owned(), Tensor::from_vec(b, CLASSES, d).unwrap()),
    ]);
    let model = Vgg::from_state_dict(tensors, &config, d, DType::F64).unwrap();
    let x: Vec<f64> = (0..FEATURES).map(|i| ((i * 5 % 12) as f64 - 5.5) / 4.0).collect();
    (model, Tensor::from_vec(x, (1, 3, 2, 2), d).unwrap())
}

/// `x + ε·sign(x)`, `sign(0) = 1`.
fn stab(x: f64, epsilon: f64) -> f64 {
    if x >= 0.0 { x + epsilon } else { x - epsilon }
}

fn pos(v: f64) -> f64 {
    v.max(0.0)
}

fn neg(v: f64) -> f64 {
    v.min(0.0)
}

/// The slow twins: `R_j` of every input for output `c` with relevance `R_c = z_c`.
struct Slow {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
    x: Vec<f64>,
}

impl Slow {
    fn new(model: &Vgg, x: &Tensor) -> Self {
        let affine = model.layers().iter().find_map(|l| l.affine()).unwrap();
        let flat = values(affine.weight());
        let w = flat.chunks(FEATURES).map(|r| r.to_vec()).collect();
        Self { w, b: values(affine.bias()), x: values(x) }
    }

    fn z(&self, c: usize) -> f64 {
        (0..FEATURES).map(|j| self.x[j] * self.w[c][j]).sum::<f64>() + self.b[c]
    }

    /// `R_j = contribution_j / stab(Σ contributions + bias) · z_c`.
    fn proportional(
        &self,
        c: usize,
        epsilon: f64,
        bias: f64,
        contribution: impl Fn(f64, f64) -> f64,
    ) -> Vec<f64> {
        let parts: Vec<f64> = (0..FEATURES).map(|j| contribution(self.x[j], self.w[c][j])).collect();
        let p = stab(parts.iter().sum::<f64>() + bias, epsilon);
        parts.iter().map(|q| if p == 0.0 { 0.0 } else { q / p * self.z(c) }).collect()
    }

    fn lrp0(&self, c: usize) -> Vec<f64> {
        self.proportional(c, 0.0, self.b[c], |a, w| a * w)
    }

    fn epsilon(&self, c: usize, e: f64) -> Vec<f64> {
        self.proportional(c, e, self.b[c], |a, w| a * w)
    }

    /// zennit's generalised γ: the positive outputs favour `w⁺` for positive inputs and `w⁻`
    /// for negative ones; negative outputs the other way round.
    fn gamma(&self, c: usize, g: f64, e: f64) -> Vec<f64> {
        let z = self.z(c);
        let b = self.b[c];
        if z > 0.0 {
            self.proportional(c, e, b + g * pos(b), |a, w| {
                pos(a) * (w + g * pos(w)) + neg(a) * (w + g * neg(w))
            })
        } else if z < 0.0 {
            self.proportional(c, e, b + g * neg(b), |a, w| {
                pos(a) * (w + g * neg(w)) + neg(a) * (w + g * pos(w))
            })
        } else {
            vec![0.0; FEATURES]
        }
    }

    fn zplus(&self, c: usize, e: f64) -> Vec<f64> {
        self.proportional(c, e, pos(self.b[c]), |a, w| pos(a) * pos(w) + neg(a) * neg(w))
    }

    fn alpha_beta(&self, c: usize, alpha: f64, beta: f64, e: f64) -> Vec<f64> {
        let plus = self.proportional(c, e, pos(self.b[c]), |a, w| pos(a) * pos(w) + neg(a) * neg(w));
        let minus = self.proportional(c, e, neg(self.b[c]), |a, w| pos(a) * neg(w) + neg(a) * pos(w));
        plus.iter().zip(&minus).map(|(p, m)| alpha * p - beta * m).collect()
    }

    fn flat(&self, c: usize, e: f64) -> Vec<f64> {
        self.proportional(c, e, 0.0, |_, _| 1.0)
    }

    fn wsquare(&self, c: usize, e: f64) -> Vec<f64> {
        self.proportional(c, e, self.b[c] * self.b[c], |_, w| w * w)
    }

    /// zB with bounds per input feature (the dense layer's channels); the biases cancel.
    fn zbox(&self, c: usize, low: &[f64], high: &[f64], e: f64) -> Vec<f64> {
        let parts: Vec<f64> = (0..FEATURES)
            .map(|j| {
                let (l, h, w) = (low[j], high[j], self.w[c][j]);
                self.x[j] * w - l * pos(w) - h * neg(w)
            })
            .collect();
        let p = stab(parts.iter().sum(), e);
        parts.iter().map(|q| q / p * self.z(c)).collect()
    }

    /// The gradient rule: Gradient×Input, `x_j w_cj`.
    fn gradient(&self, c: usize) -> Vec<f64> {
        (0..FEATURES).map(|j| self.x[j] * self.w[c][j]).collect()
    }
}

/// A rule's name, its composite, and its slow twin `class ↦ R`.
type Case<'a> = (&'static str, Composite, Box<dyn Fn(usize) -> Vec<f64> + 'a>);

fn on_the_layer(rule: impl Rule + 'static) -> Composite {
    Composite::new("one rule").with(Selector::Kinds(vec![LayerKind::Dense]), rule)
}

#[test]
fn every_rule_equals_its_formula_connection_by_connection() {
    let (model, x) = dense();
    let slow = Slow::new(&model, &x);
    let logits: Vec<f64> = (0..CLASSES).map(|c| slow.z(c)).collect();
    assert!(
        logits.iter().filter(|z| **z > 0.0).count() >= 1 && logits.iter().any(|z| *z < 0.0),
        "{logits:?}"
    );
    // zB's bounds are per input channel of its layer: the dense layer's 12 features.
    let low: Vec<f64> = (0..FEATURES).map(|j| -3.0 + 0.1 * j as f64).collect();
    let high: Vec<f64> = (0..FEATURES).map(|j| 2.0 + 0.05 * j as f64).collect();
    let bounds = ZBox::new(low.clone(), high.clone()).unwrap();
    let cases: Vec<Case> = vec![
        ("lrp0", on_the_layer(Lrp0), Box::new(|c| slow.lrp0(c))),
        ("epsilon", on_the_layer(Epsilon::new(0.5).unwrap()), Box::new(|c| slow.epsilon(c, 0.5))),
        ("gamma", on_the_layer(Gamma::new(0.3).unwrap()), Box::new(|c| slow.gamma(c, 0.3, 1e-6))),
        (
            "gamma, no stabiliser",
            on_the_layer(Gamma::new(2.0).unwrap().with_stabiliser(Stabiliser::NONE)),
            Box::new(|c| slow.gamma(c, 2.0, 0.0)),
        ),
        ("zplus", on_the_layer(ZPlus::new(Stabiliser::new(0.1).unwrap())), Box::new(|c| slow.zplus(c, 0.1))),
        (
            "alpha2_beta1",
            on_the_layer(AlphaBeta::alpha2_beta1()),
            Box::new(|c| slow.alpha_beta(c, 2.0, 1.0, 1e-6)),
        ),
        (
            "alpha1.5_beta0.5",
            on_the_layer(AlphaBeta::new(1.5, 0.5).unwrap()),
            Box::new(|c| slow.alpha_beta(c, 1.5, 0.5, 1e-6)),
        ),
        ("flat", on_the_layer(Flat::default()), Box::new(|c| slow.flat(c, 1e-6))),
        ("wsquare", on_the_layer(WSquare::default()), Box::new(|c| slow.wsquare(c, 1e-6))),
        ("zbox", on_the_layer(bounds.clone()), Box::new(|c| slow.zbox(c, &low, &high, 1e-6))),
        ("gradient", on_the_layer(GradientRule), Box::new(|c| slow.gradient(c))),
    ];
    for (name, composite, formula) in cases {
        for engine in [Engine::Explicit, Engine::Autograd] {
            let prepared = Lrp::new(composite.clone()).with_engine(engine).prepare(&model).unwrap();
            for (c, logit) in logits.iter().enumerate() {
                let ours = values(&prepared.attribute(&x, c).unwrap().relevance);
                let expected = formula(c);
                for (j, (a, b)) in ours.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() <= EXACT * (1.0 + b.abs()),
                        "{name} ({engine:?}), class {c} (z = {logit:.3}), input {j}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

fn invalid_parameter(result: Result<impl std::fmt::Debug, Error>, name: &str) {
    match result {
        Err(Error::InvalidParameter { name: n, .. }) if n == name => {}
        other => panic!("expected an invalid {name}, got {other:?}"),
    }
}

#[test]
fn rule_values_that_make_no_sense_are_refused() {
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        invalid_parameter(Gamma::new(bad), "gamma");
        invalid_parameter(Stabiliser::new(bad), "stabiliser");
    }
    for bad in [0.0, -1.0, f64::NAN] {
        invalid_parameter(Epsilon::new(bad), "epsilon");
    }
    invalid_parameter(Epsilon::new(f64::INFINITY), "stabiliser");
    invalid_parameter(AlphaBeta::new(2.0, 0.5), "alpha");
    invalid_parameter(AlphaBeta::new(0.5, -0.5), "beta");
    invalid_parameter(AlphaBeta::new(f64::NAN, 1.0), "alpha");
    assert!(AlphaBeta::new(3.0, 2.0).is_ok());
    invalid_parameter(ZBox::new(vec![1.0, 0.0], vec![0.0, 1.0]), "zB bound");
    invalid_parameter(ZBox::new(vec![0.0], vec![1.0, 2.0]), "zB bounds");
    invalid_parameter(ZBox::new(vec![], vec![]), "zB bounds");
    invalid_parameter(ZBox::new(vec![f64::NAN], vec![1.0]), "zB bound");
}

#[test]
fn composites_that_cannot_apply_are_refused_when_prepared() {
    let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 10);
    let vgg = Vgg::random(&config, 7, &Device::Cpu, DType::F64).unwrap();
    let refused = |composite: Composite, says: &str| {
        let err = Lrp::new(composite).prepare(&vgg).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "composite", .. }), "{err}");
        assert!(err.to_string().contains(says), "{says:?} not in {err}");
    };
    // zB, flat and w² replace the input: first layer only.
    refused(
        Composite::new("deep zB").with(Selector::Kinds(vec![LayerKind::Convolution]), ZBox::imagenet()),
        "first layer",
    );
    refused(
        Composite::new("deep flat").with(Selector::Kinds(vec![LayerKind::Dense]), Flat::default()),
        "first layer",
    );
    // Bounds for 2 channels on a 3-channel input.
    let two = ZBox::new(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap();
    refused(Composite::new("zB 2").with(Selector::First(vec![LayerKind::Convolution]), two), "2 channels");
    // Pass is for ReLU; a pooling layer has no parameters to modify.
    refused(
        Composite::new("pass").with(Selector::Kinds(vec![LayerKind::Convolution]), explainer::Pass),
        "ReLU",
    );
    refused(Composite::new("pool").with(Selector::Kinds(vec![LayerKind::MaxPool]), Lrp0), "max_pool2d");
    // By name, too.
    refused(
        Composite::new("named").with(Selector::Name("features.3".into()), ZBox::imagenet()),
        "features.3",
    );
}

/// A parameter too large for float32 (γ·w overflows) is an error naming it, not a NaN map, and
/// the same rule in float64 explains.
#[test]
fn parameters_are_checked_against_the_models_precision() {
    let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 10);
    let x = util::input(3, &[1, 3, 8, 8], DType::F32);
    let f32_model = Vgg::random(&config, 7, &Device::Cpu, DType::F32).unwrap();
    // γ beyond 1/u (2²³ in float32) is refused on both engines, naming γ and the precision.
    for gamma in [1e38, 1e300, 1e7] {
        for engine in [Engine::Explicit, Engine::Autograd] {
            let lrp = Lrp::sheet(&GammaSchedule::uniform(gamma).unwrap()).with_engine(engine);
            let err = lrp.attribute(&f32_model, &x, 1).unwrap_err().to_string();
            assert!(err.contains(&format!("γ = {gamma:?}")) && err.contains("F32"), "{err}");
        }
    }
    // Up to it, both engines explain, with finite and equal maps.
    let schedule = GammaSchedule::uniform(1e6).unwrap();
    let explicit = Lrp::sheet(&schedule).attribute(&f32_model, &x, 1).unwrap();
    let autograd = Lrp::sheet(&schedule).with_engine(Engine::Autograd).attribute(&f32_model, &x, 1).unwrap();
    assert!(values(&explicit.relevance).iter().all(|v| v.is_finite()));
    assert!(util::rel_l2(&explicit.relevance, &autograd.relevance) < 1e-4);
    let alpha =
        Preset::EpsilonAlpha2Beta1.composite(&PresetOptions { alpha: Some(1e9), ..Default::default() });
    let err = Lrp::new(alpha.unwrap()).prepare(&f32_model).unwrap_err();
    assert!(err.to_string().contains("group weight"), "{err}");
    let eps =
        Preset::EpsilonPlus.composite(&PresetOptions { epsilon: Some(1e39), ..Default::default() }).unwrap();
    let err = Lrp::new(eps).prepare(&f32_model).unwrap_err();
    assert!(err.to_string().contains("not finite in the model's precision F32"), "{err}");
    let f64_model = Vgg::random(&config, 7, &Device::Cpu, DType::F64).unwrap();
    let explained = Lrp::sheet(&GammaSchedule::uniform(1e12).unwrap())
        .attribute(&f64_model, &x.to_dtype(DType::F64).unwrap(), 1)
        .unwrap();
    assert!(values(&explained.relevance).iter().all(|v| v.is_finite()));
}

#[test]
fn presets_refuse_parameters_they_do_not_take() {
    let with = |epsilon, gamma: Option<Vec<f64>>, alpha| PresetOptions { epsilon, gamma, alpha };
    invalid_parameter(Preset::Sheet.composite(&with(Some(0.1), None, None)), "epsilon");
    invalid_parameter(Preset::EpsilonPlus.composite(&with(None, Some(vec![0.1]), None)), "gamma");
    invalid_parameter(Preset::EpsilonGammaBox.composite(&with(None, None, Some(2.0))), "alpha");
    invalid_parameter(Preset::EpsilonGammaBox.composite(&with(None, Some(vec![0.1, 0.2]), None)), "gamma");
    invalid_parameter(Preset::EpsilonAlpha2Beta1.composite(&with(None, None, Some(0.5))), "beta");
    invalid_parameter(Preset::from_name("epsilon_gama_box"), "composite");
    for preset in Preset::ALL {
        assert_eq!(Preset::from_name(preset.name()).unwrap(), preset);
        assert!(preset.composite(&PresetOptions::default()).is_ok());
    }
    // The sheet's preset is the sheet's composite.
    let sheet = Preset::Sheet.composite(&with(None, Some(vec![0.1; 5]), None)).unwrap();
    let explicit = presets::sheet(&GammaSchedule::uniform(0.1).unwrap());
    assert_eq!(format!("{:?}", sheet.entries()), format!("{:?}", explicit.entries()));
}
