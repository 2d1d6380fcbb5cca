//! The general LRP library against zennit 0.5.1 (`explainer/fixtures/make_zennit_fixtures.py`):
//! every preset composite and every rule, on two VGG-style networks with non-zero biases, in
//! float64, on both engines, equal to zennit's `Gradient` attributor to a relative L2 of 1e-10.
//!
//! The fixtures seed zennit with `one_hot · logits`, so relevance sums to about the explained
//! logit as ours does (LRP is linear in the seed). `vgg16_tiny` runs at 64×64, where its
//! adaptive average pool maps a 2×2 map to 7×7 (overlapping bins); `vgg_small` at 32×32, where
//! its pool is the identity (zennit's Norm still scales relevance by `z/(z ± ε)` there).

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::composite::presets;
use explainer::{
    AlphaBeta, Attributor, Composite, Engine, Epsilon, Flat, Gamma, Gradient, LayerKind, Lrp, Lrp0, Norm,
    Pass, Rule, Selector, Stabiliser, Vgg, VggConfig, WSquare, ZBox, ZPlus,
};
use util::{fixture, rel_l2};

/// float64 against zennit (float64): only summation order differs.
const EQUAL_TO_ZENNIT: f64 = 1e-10;

struct Case {
    model: Vgg,
    input: Tensor,
    logits: Tensor,
    class: usize,
    relevance: HashMap<String, Tensor>,
}

fn case(network: &str, config: VggConfig) -> Case {
    let model =
        Vgg::load(&fixture(&format!("{network}.safetensors")), &config, &Device::Cpu, DType::F64).unwrap();
    let bytes = std::fs::read(fixture(&format!("zennit_{network}.safetensors"))).unwrap();
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap();
    let class = tensors["class"].to_vec1::<f64>().unwrap()[0] as usize;
    let relevance = tensors
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("relevance.").map(|name| (name.to_owned(), v.clone())))
        .collect();
    Case { model, input: tensors["input"].clone(), logits: tensors["logits"].clone(), class, relevance }
}

fn vgg16_tiny() -> Case {
    case("vgg16_tiny", VggConfig::vgg16_tiny())
}

fn vgg_small() -> Case {
    case("vgg_small", VggConfig::from_cfg("vgg_small", &[6, 6, 0, 12, 0, 16, 16, 0], 4, vec![24], 10))
}

/// zennit's base map (Pass on ReLU, Norm on average pools) and `rule` on every convolution and
/// dense layer: zennit's `LayerMapComposite` of the `rule_*` fixtures.
fn everywhere(rule: impl Rule + 'static) -> Composite {
    Composite::new("rule")
        .with(Selector::Kinds(vec![LayerKind::Relu]), Pass)
        .with(Selector::Kinds(vec![LayerKind::AvgPool]), Norm::default())
        .with(Selector::Kinds(vec![LayerKind::Convolution, LayerKind::Dense]), rule)
}

/// `rule` on the first layer with parameters, LRP-ε (0.01) on the others: the `first_*` fixtures.
fn first(rule: impl Rule + 'static) -> Composite {
    Composite::new("first")
        .with(Selector::Kinds(vec![LayerKind::Relu]), Pass)
        .with(Selector::Kinds(vec![LayerKind::AvgPool]), Norm::default())
        .with(Selector::First(vec![LayerKind::Convolution, LayerKind::Dense]), rule)
        .with(Selector::Kinds(vec![LayerKind::Convolution, LayerKind::Dense]), Epsilon::new(0.01).unwrap())
}

/// Every fixture entry but `gradient`, with the composite that should reproduce it.
fn composites() -> Vec<(&'static str, Composite)> {
    let default = Stabiliser::DEFAULT;
    vec![
        ("epsilon_gamma_box", presets::epsilon_gamma_box(1e-6, 0.25, ZBox::imagenet(), default).unwrap()),
        ("epsilon_plus", presets::epsilon_plus(1e-6, default).unwrap()),
        ("epsilon_plus_flat", presets::epsilon_plus_flat(1e-6, default).unwrap()),
        ("epsilon_alpha2_beta1", presets::epsilon_alpha_beta(1e-6, 2.0, default).unwrap()),
        ("epsilon_alpha2_beta1_flat", presets::epsilon_alpha_beta_flat(1e-6, 2.0, default).unwrap()),
        (
            "epsilon_gamma_box_custom",
            presets::epsilon_gamma_box(0.01, 0.5, ZBox::imagenet(), Stabiliser::new(1e-4).unwrap()).unwrap(),
        ),
        ("rule_lrp0", everywhere(Lrp0)),
        ("rule_epsilon", everywhere(Epsilon::new(0.01).unwrap())),
        ("rule_gamma", everywhere(Gamma::new(0.25).unwrap())),
        ("rule_zplus", everywhere(ZPlus::default())),
        ("rule_alpha2_beta1", everywhere(AlphaBeta::alpha2_beta1())),
        ("rule_alpha1_beta0", everywhere(AlphaBeta::alpha1_beta0())),
        ("first_zbox", first(ZBox::imagenet())),
        ("first_flat", first(Flat::default())),
        ("first_wsquare", first(WSquare::default())),
    ]
}

fn check(case: &Case, engine: Engine) {
    let mut checked = 0;
    for (name, composite) in composites() {
        let expected = &case.relevance[name];
        let explained =
            Lrp::new(composite).with_engine(engine).attribute(&case.model, &case.input, case.class).unwrap();
        let logits = rel_l2(&explained.logits, &case.logits);
        assert!(logits < EQUAL_TO_ZENNIT, "{name}: logits differ by {logits:e}");
        let error = rel_l2(&explained.relevance, expected);
        println!("{engine:?} {name}: relative L2 {error:.1e} from zennit");
        assert!(error < EQUAL_TO_ZENNIT, "{name} ({engine:?}): relative L2 {error:e} from zennit");
        checked += 1;
    }
    let gradient = Gradient.attribute(&case.model, &case.input, case.class).unwrap();
    let error = rel_l2(&gradient.relevance, &case.relevance["gradient"]);
    assert!(error < EQUAL_TO_ZENNIT, "gradient: relative L2 {error:e} from zennit");
    assert_eq!(checked + 1, case.relevance.len(), "every fixture entry is checked");
}

/// The comparison can fail: zennit's stabiliser, its generalised γ and its Norm on the pool
/// each move the relevance by far more than the tolerance.
#[test]
fn the_comparison_sees_stabilisers_and_the_pools_norm() {
    let case = vgg_small();
    let explain = |composite: Composite| {
        Lrp::new(composite).attribute(&case.model, &case.input, case.class).unwrap().relevance
    };
    let unstabilised = presets::epsilon_gamma_box(1e-6, 0.25, ZBox::imagenet(), Stabiliser::NONE).unwrap();
    let without_norm =
        Composite::new("no norm").with(Selector::Kinds(vec![LayerKind::Convolution, LayerKind::Dense]), Lrp0);
    for (name, relevance) in
        [("epsilon_gamma_box", explain(unstabilised)), ("rule_lrp0", explain(without_norm))]
    {
        let error = rel_l2(&relevance, &case.relevance[name]);
        assert!(error > 1e3 * EQUAL_TO_ZENNIT, "{name}: {error:e}");
    }
}

#[test]
fn vgg16_tiny_equals_zennit_on_the_explicit_engine() {
    check(&vgg16_tiny(), Engine::Explicit);
}

#[test]
fn vgg16_tiny_equals_zennit_on_the_autograd_engine() {
    check(&vgg16_tiny(), Engine::Autograd);
}

#[test]
fn vgg_small_equals_zennit_on_the_explicit_engine() {
    check(&vgg_small(), Engine::Explicit);
}

#[test]
fn vgg_small_equals_zennit_on_the_autograd_engine() {
    check(&vgg_small(), Engine::Autograd);
}
