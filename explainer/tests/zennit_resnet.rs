//! ResNets against torchvision and zennit 0.5.1 (`explainer/fixtures/make_resnet_fixtures.py`):
//! a ResNet-18-shaped network at reduced width (BasicBlock) and a small Bottleneck ResNet, with
//! random weights and random BatchNorm statistics, in float64.
//!
//! - the loaded network computes torchvision's logits; canonized exactly (BatchNorm folded into
//!   the convolution before it, then removed) it computes the same function to 1e-12;
//! - canonized as zennit does (the BatchNorm left as `x/√(1 + ε)`), its folded parameters and
//!   logits are zennit's, and every preset composite's relevance equals zennit's `Gradient`
//!   attributor under `ResNetCanonizer` to a relative L2 of 1e-10, on both engines;
//! - the gradient and Gradient×Input of the original network equal torch's.

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::composite::presets;
use explainer::model::{Affine, Layer};
use explainer::{
    Attributor, Canonization, Composite, Engine, Gradient, GradientTimesInput, LayerKind, Lrp, Norm, Pass,
    ResNet, ResNetConfig, Selector, Stabiliser, ZBox, ZPlus,
};
use util::{fixture, rel_l2};

/// float64 against torch/zennit (float64): only summation order differs.
const EQUAL_TO_ZENNIT: f64 = 1e-10;
/// The exact canonization against the original network, float64.
const SAME_FUNCTION: f64 = 1e-12;

struct Case {
    config: ResNetConfig,
    tensors: HashMap<String, Tensor>,
    class: usize,
}

impl Case {
    fn load(config: ResNetConfig) -> Self {
        let bytes = std::fs::read(fixture(&format!("zennit_{}.safetensors", config.name))).unwrap();
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap();
        let class = tensors["class"].to_vec1::<f64>().unwrap()[0] as usize;
        Self { config, tensors, class }
    }

    fn model(&self, dtype: DType) -> ResNet {
        let path = fixture(&format!("{}.safetensors", self.config.name));
        ResNet::load(&path, &self.config, &Device::Cpu, dtype).unwrap()
    }

    fn input(&self, dtype: DType) -> Tensor {
        self.tensors["input"].to_dtype(dtype).unwrap()
    }

    fn relevance(&self, name: &str) -> &Tensor {
        &self.tensors[&format!("relevance.{name}")]
    }
}

fn cases() -> Vec<Case> {
    vec![Case::load(ResNetConfig::resnet18_narrow()), Case::load(ResNetConfig::resnet_bottleneck_small())]
}

/// zennit's five presets with their default parameters, as the fixtures.
fn composites() -> Vec<(&'static str, Composite)> {
    let default = Stabiliser::DEFAULT;
    vec![
        ("epsilon_gamma_box", presets::epsilon_gamma_box(1e-6, 0.25, ZBox::imagenet(), default).unwrap()),
        ("epsilon_plus", presets::epsilon_plus(1e-6, default).unwrap()),
        ("epsilon_plus_flat", presets::epsilon_plus_flat(1e-6, default).unwrap()),
        ("epsilon_alpha2_beta1", presets::epsilon_alpha_beta(1e-6, 2.0, default).unwrap()),
        ("epsilon_alpha2_beta1_flat", presets::epsilon_alpha_beta_flat(1e-6, 2.0, default).unwrap()),
    ]
}

#[test]
fn loaded_resnets_compute_torchvisions_logits_and_the_exact_fold_keeps_them() {
    for case in cases() {
        let model = case.model(DType::F64);
        let x = case.input(DType::F64);
        let logits = model.forward(&x).unwrap();
        let error = rel_l2(&logits, &case.tensors["logits"]);
        println!("{}: logits {error:.1e} from torchvision", case.config.name);
        assert!(error < EQUAL_TO_ZENNIT, "{}: {error:e}", case.config.name);
        let exact = model.canonized(Canonization::Exact).unwrap();
        assert!(exact.layers().iter().all(|l| l.kind() != LayerKind::BatchNorm), "every BatchNorm is folded");
        let folded = exact.forward(&x).unwrap();
        let same = rel_l2(&folded, &logits);
        println!("{}: exact fold {same:.1e} from the original", case.config.name);
        assert!(same < SAME_FUNCTION, "{}: {same:e}", case.config.name);
    }
}

#[test]
fn zennits_canonization_folds_the_same_parameters_and_computes_its_logits() {
    for case in cases() {
        let model = case.model(DType::F64).canonized(Canonization::Zennit).unwrap();
        let mut convolutions = 0;
        for (layer, name) in model.layers().iter().zip(model.layer_names()) {
            let Layer::Conv2d(conv) = layer else { continue };
            for (what, ours) in [("weight", conv.weight()), ("bias", conv.bias())] {
                let theirs = &case.tensors[&format!("canonized.{name}.{what}")];
                let error = rel_l2(ours, theirs);
                assert!(error < 1e-14, "{}: {name}.{what} {error:e}", case.config.name);
            }
            convolutions += 1;
        }
        let expected = case.tensors.keys().filter(|k| k.starts_with("canonized.")).count() / 2;
        assert_eq!(convolutions, expected, "{}: every convolution is compared", case.config.name);
        let logits = model.forward(&case.input(DType::F64)).unwrap();
        let error = rel_l2(&logits, &case.tensors["logits_canonized"]);
        assert!(error < SAME_FUNCTION, "{}: {error:e}", case.config.name);
        // …which is not the original function: the leftover x/√(1 + ε) moves the logits.
        let moved = rel_l2(&logits, &case.tensors["logits"]);
        assert!(moved > 1e-5, "{}: {moved:e}", case.config.name);
    }
}

#[test]
fn gradient_and_gradient_times_input_equal_torchs() {
    for case in cases() {
        let x = case.input(DType::F64);
        let original = case.model(DType::F64);
        let exact = original.canonized(Canonization::Exact).unwrap();
        for (what, model) in [("original", &original), ("exactly canonized", &exact)] {
            let gradient = Gradient.attribute(model, &x, case.class).unwrap().relevance;
            let error = rel_l2(&gradient, case.relevance("gradient"));
            println!("{} {what}: gradient {error:.1e}", case.config.name);
            assert!(error < EQUAL_TO_ZENNIT, "{} {what}: gradient {error:e}", case.config.name);
            let times_input = GradientTimesInput.attribute(model, &x, case.class).unwrap().relevance;
            let error = rel_l2(&times_input, case.relevance("gradient_x_input"));
            assert!(error < EQUAL_TO_ZENNIT, "{} {what}: gradient×input {error:e}", case.config.name);
        }
    }
}

fn presets_equal_zennit(engine: Engine) {
    for case in cases() {
        let model = case.model(DType::F64).canonized(Canonization::Zennit).unwrap();
        let x = case.input(DType::F64);
        for (name, composite) in composites() {
            let explained =
                Lrp::new(composite).with_engine(engine).attribute(&model, &x, case.class).unwrap();
            let error = rel_l2(&explained.relevance, case.relevance(name));
            println!("{} {engine:?} {name}: relative L2 {error:.1e} from zennit", case.config.name);
            assert!(error < EQUAL_TO_ZENNIT, "{} {name} ({engine:?}): {error:e}", case.config.name);
        }
    }
}

#[test]
fn every_preset_equals_zennit_on_the_explicit_engine() {
    presets_equal_zennit(Engine::Explicit);
}

#[test]
fn every_preset_equals_zennit_on_the_autograd_engine() {
    presets_equal_zennit(Engine::Autograd);
}

/// The comparison can fail: the exact fold (no leftover `x/√(1 + ε)`) and the gradient instead
/// of Norm at the residual sums each move zennit's relevance by far more than the tolerance.
#[test]
fn the_comparison_sees_the_leftover_scale_and_the_sums_norm() {
    let case = Case::load(ResNetConfig::resnet18_narrow());
    let x = case.input(DType::F64);
    let plus = || presets::epsilon_plus(1e-6, Stabiliser::DEFAULT).unwrap();
    let exact = case.model(DType::F64).canonized(Canonization::Exact).unwrap();
    let zennit = case.model(DType::F64).canonized(Canonization::Zennit).unwrap();
    let without_norm = Composite::new("epsilon_plus without Norm on sums")
        .with(Selector::Kinds(vec![LayerKind::Relu, LayerKind::BatchNorm]), Pass)
        .with(Selector::Kinds(vec![LayerKind::AvgPool]), Norm::default())
        .with(Selector::Kinds(vec![LayerKind::Convolution]), ZPlus::default())
        .with(Selector::Kinds(vec![LayerKind::Dense]), explainer::Epsilon::new(1e-6).unwrap());
    let expected = case.relevance("epsilon_plus");
    for (what, relevance) in [
        ("exact fold", Lrp::new(plus()).attribute(&exact, &x, case.class).unwrap().relevance),
        ("gradient on sums", Lrp::new(without_norm).attribute(&zennit, &x, case.class).unwrap().relevance),
    ] {
        let error = rel_l2(&relevance, expected);
        println!("{what}: {error:.1e} from zennit");
        assert!(error > 1e3 * EQUAL_TO_ZENNIT, "{what}: {error:e}");
    }
}

/// float32 (weights and input rounded to f32) against zennit's float64: each preset within the
/// bound stated here, about 3× what was measured (the Bottleneck network's αβ is the loosest:
/// its β term cancels most of the α term).
#[test]
fn float32_stays_within_its_stated_tolerance() {
    for case in cases() {
        let model = case.model(DType::F32).canonized(Canonization::Zennit).unwrap();
        let x = case.input(DType::F32);
        for (name, composite) in composites() {
            let relevance = Lrp::new(composite).attribute(&model, &x, case.class).unwrap().relevance;
            let error = rel_l2(&relevance, case.relevance(name));
            println!("{} f32 {name}: {error:.1e} from zennit's f64", case.config.name);
            assert!(error < 1e-3, "{} f32 {name}: {error:e}", case.config.name);
        }
        let exact = case.model(DType::F32).canonized(Canonization::Exact).unwrap();
        let gradient = Gradient.attribute(&exact, &x, case.class).unwrap().relevance;
        let error = rel_l2(&gradient, case.relevance("gradient"));
        println!("{} f32 gradient: {error:.1e}", case.config.name);
        assert!(error < 1e-5, "{} f32 gradient: {error:e}", case.config.name);
    }
}

/// The state dict holds BatchNorm's `num_batches_tracked` (I64 scalars): accepted, not used;
/// a wrong architecture is one error that lists every problem.
#[test]
fn loading_accepts_batch_counters_and_lists_every_mismatch() {
    let path = fixture("resnet18_narrow.safetensors");
    let tensors = explainer::model::read_state_dict(&path, &Device::Cpu).unwrap();
    assert!(tensors.keys().any(|k| k.ends_with("num_batches_tracked")));
    let error = ResNet::load(&path, &ResNetConfig::resnet_bottleneck_small(), &Device::Cpu, DType::F64)
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing layer1.0.conv3.weight"), "{error}");
    assert!(error.contains("unexpected layer1.1.conv1.weight"), "{error}");
    assert_eq!(tensors["conv1.weight"].dims(), [8, 3, 7, 7]);
}

/// torchvision's `.pth` in both formats (zip, and the legacy pickle of its older files) loads
/// to the same network as the safetensors file: the same logits, bit for bit.
#[test]
fn pth_files_in_both_formats_load_the_same_network() {
    let case = Case::load(ResNetConfig::resnet18_narrow());
    let x = case.input(DType::F64);
    let expected = case.model(DType::F64).forward(&x).unwrap();
    for file in ["resnet18_narrow.pth", "resnet18_narrow_legacy.pth"] {
        let model = ResNet::load(&fixture(file), &case.config, &Device::Cpu, DType::F64).unwrap();
        let logits = model.forward(&x).unwrap();
        assert_eq!(rel_l2(&logits, &expected), 0.0, "{file}");
    }
}
