//! The explainer against the PyTorch fixtures of `explainer/fixtures/` (the sheet's code on
//! the tiny VGG-16): weight loading in four formats, logits, Gradient, Gradient×Input and
//! LRP, in float64 (exactness) and float32 (the shipped path), on both LRP engines.

mod util;

use candle_core::{DType, Device, Tensor};
use explainer::{
    Attributor, Engine, GammaSchedule, Gradient, GradientTimesInput, Layer, Lrp, Vgg, VggConfig,
};
use util::{correlation, fixture, reference, rel_l2, tiny};

/// float64 logits: only summation order differs from PyTorch.
const F64_LOGITS: f64 = 1e-10;
/// float64 attributions.
const F64_ATTRIBUTION: f64 = 1e-8;
/// The two LRP engines on the same float64 network.
const ENGINES_AGREE: f64 = 1e-10;
/// float32 logits.
const F32_LOGITS: f64 = 1e-5;
/// float32 attributions (relative L2).
const F32_ATTRIBUTION: f64 = 1e-4;
/// float32 attributions (correlation at least).
const F32_CORRELATION: f64 = 0.99999;

fn class(reference: &std::collections::HashMap<String, Tensor>) -> usize {
    reference["class_index"].to_vec1::<i64>().unwrap()[0] as usize
}

#[test]
fn the_three_formats_load_identical_weights() {
    let config = VggConfig::vgg16_tiny();
    let load = |name: &str| Vgg::load(&fixture(name), &config, &Device::Cpu, DType::F32).unwrap();
    let st = load("vgg16_tiny.safetensors");
    // PyTorch's legacy format (torchvision's `vgg16-397923af.pth` is in it), made by
    // `torch.save(state_dict, f, _use_new_zipfile_serialization=False)` from the fixture.
    let legacy = Vgg::load(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vgg16_tiny_legacy.pth"),
        &config,
        &Device::Cpu,
        DType::F32,
    )
    .unwrap();
    for other in [load("vgg16_tiny.pth"), load("vgg16_tiny_timm.safetensors"), legacy] {
        for (a, b) in st.layers().iter().zip(other.layers()) {
            if let (Some(a), Some(b)) = (a.affine(), b.affine()) {
                assert_eq!(a.weight().dims(), b.weight().dims());
                assert_eq!(util::values(a.weight()), util::values(b.weight()));
                assert_eq!(util::values(a.bias()), util::values(b.bias()));
            }
        }
    }
    assert_eq!(st.layers().iter().filter(|l| matches!(l, Layer::Conv2d(_))).count(), 13);
}

#[test]
fn float64_matches_pytorch() {
    let r = reference();
    let vgg = tiny(DType::F64);
    let x = &r["input"];
    let c = class(&r);
    let logits = vgg.forward(x).unwrap();
    let e = rel_l2(&logits, &r["logits"]);
    println!("f64 logits: {e:.2e}");
    assert!(e < F64_LOGITS, "logits differ by {e:e}");

    let checks: Vec<(&str, Box<dyn Attributor>, &str)> = vec![
        ("gradient", Box::new(Gradient), "gradient"),
        ("gradient×input", Box::new(GradientTimesInput), "gradient_x_input"),
        ("lrp explicit", Box::new(Lrp::default()), "lrp"),
        ("lrp autograd", Box::new(Lrp::default().with_engine(Engine::Autograd)), "lrp"),
        ("lrp γ=0", Box::new(Lrp::sheet(&GammaSchedule::uniform(0.0).unwrap())), "lrp_gamma0"),
        (
            "lrp γ=0 autograd",
            Box::new(Lrp::sheet(&GammaSchedule::uniform(0.0).unwrap()).with_engine(Engine::Autograd)),
            "lrp_gamma0",
        ),
    ];
    for (name, attributor, key) in checks {
        let a = attributor.attribute(&vgg, x, c).unwrap();
        assert!(rel_l2(&a.logits, &r["logits"]) < F64_LOGITS, "{name}: logits");
        let e = rel_l2(&a.relevance, &r[key]);
        println!("f64 {name}: relative L2 {e:.2e}");
        assert!(e < F64_ATTRIBUTION, "{name} differs from {key} by {e:e}");
    }
}

/// The explicit engine and the autograd engine (the sheet's trick) agree on the fixture
/// network, which has max-pools, biases and zB.
#[test]
fn the_two_engines_agree_on_the_fixture_network() {
    let r = reference();
    let vgg = tiny(DType::F64);
    let x = &r["input"];
    let c = class(&r);
    let explicit = Lrp::default().attribute(&vgg, x, c).unwrap().relevance;
    let autograd = Lrp::default().with_engine(Engine::Autograd).attribute(&vgg, x, c).unwrap().relevance;
    let e = rel_l2(&explicit, &autograd);
    println!("f64 explicit vs autograd: relative L2 {e:.2e}");
    assert!(e < ENGINES_AGREE, "engines differ by {e:e}");
}

#[test]
fn float32_matches_pytorch() {
    let r = reference();
    let vgg = tiny(DType::F32);
    let x = &r["preprocessed"];
    let c = class(&r);
    let logits = vgg.forward(x).unwrap();
    let e = rel_l2(&logits, &r["logits_f32"]);
    println!("f32 logits: {e:.2e}");
    assert!(e < F32_LOGITS, "logits differ by {e:e}");
    let checks: Vec<(&str, Box<dyn Attributor>, &str)> = vec![
        ("gradient×input", Box::new(GradientTimesInput), "gradient_x_input_f32"),
        ("lrp explicit", Box::new(Lrp::default()), "lrp_f32"),
        ("lrp autograd", Box::new(Lrp::default().with_engine(Engine::Autograd)), "lrp_f32"),
    ];
    for (name, attributor, key) in checks {
        let a = attributor.attribute(&vgg, x, c).unwrap();
        let (e, corr) = (rel_l2(&a.relevance, &r[key]), correlation(&a.relevance, &r[key]));
        println!("f32 {name}: relative L2 {e:.2e}, correlation {corr:.8}");
        assert!(e < F32_ATTRIBUTION, "{name} differs from {key} by {e:e}");
        assert!(corr >= F32_CORRELATION, "{name}: correlation {corr}");
    }
}
