//! Bad input gives a typed error with a clear message, never a panic: weights files that are
//! missing, truncated or not weights; tensors missing, unexpected or mis-shaped (listed
//! together); classes out of range; invalid γ schedules; inputs of the wrong shape, dtype or
//! with non-finite values.

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::{
    Attributor, Error, GammaSchedule, Gradient, GradientTimesInput, Lrp, Vgg, VggConfig,
    model::read_state_dict,
};
use util::{fixture, input};

fn tiny() -> Vgg {
    Vgg::load(&fixture("vgg16_tiny.safetensors"), &VggConfig::vgg16_tiny(), &Device::Cpu, DType::F32).unwrap()
}

/// The fixture network saved with `torch.save(state_dict, f, _use_new_zipfile_serialization=False)`.
fn legacy_fixture() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vgg16_tiny_legacy.pth")
}

fn load(path: &std::path::Path) -> Error {
    Vgg::load(path, &VggConfig::vgg16_tiny(), &Device::Cpu, DType::F32).unwrap_err()
}

/// A temporary file holding `bytes`.
fn file_with(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = load(std::path::Path::new("/nonexistent/vgg16.pth"));
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/vgg16.pth"), "{err}");
}

#[test]
fn truncated_and_non_weights_files_are_weights_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pth = std::fs::read(fixture("vgg16_tiny.pth")).unwrap();
    let st = std::fs::read(fixture("vgg16_tiny.safetensors")).unwrap();
    let legacy = std::fs::read(legacy_fixture()).unwrap();
    let cases = [
        ("half.pth", pth[..pth.len() / 2].to_vec(), "zip"),
        ("head.pth", pth[..100].to_vec(), "zip"),
        ("half.safetensors", st[..st.len() / 2].to_vec(), "safetensors"),
        ("header.safetensors", st[..20].to_vec(), "safetensors"),
        ("legacy.pth", legacy[..legacy.len() / 2].to_vec(), "legacy"),
        ("legacy-head.pth", legacy[..200].to_vec(), "legacy"),
        ("scene.png", std::fs::read(fixture("scene.png")).unwrap(), "neither"),
        ("empty.pth", Vec::new(), "neither"),
        ("text.safetensors", b"hello, world".to_vec(), "neither"),
    ];
    for (name, bytes, says) in cases {
        let err = load(&file_with(&dir, name, &bytes));
        assert!(matches!(err, Error::WeightsFile { .. }), "{name}: {err}");
        let message = err.to_string();
        assert!(message.contains(name) && message.contains(says), "{name}: {message}");
    }
}

#[test]
fn missing_extra_and_misshaped_tensors_are_listed_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut tensors: HashMap<String, Tensor> =
        read_state_dict(&fixture("vgg16_tiny.safetensors"), &Device::Cpu).unwrap();
    tensors.remove("features.7.bias");
    tensors.insert("features.3.weight".into(), Tensor::zeros((4, 4), DType::F32, &Device::Cpu).unwrap());
    tensors
        .insert("classifier.3.weight".into(), Tensor::zeros((128, 127), DType::F32, &Device::Cpu).unwrap());
    let path = dir.path().join("broken.safetensors");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let err = load(&path);
    let Error::WeightsMismatch { problems, .. } = &err else { panic!("{err}") };
    assert_eq!(problems.len(), 3, "{err}");
    let message = err.to_string();
    for says in [
        "missing features.7.bias (expected shape [8])",
        "unexpected features.3.weight [4, 4]",
        "mis-shaped classifier.3.weight: [128, 127] in the file, expected [128, 128]",
        "broken.safetensors",
    ] {
        assert!(message.contains(says), "{says:?} not in {message}");
    }
}

#[test]
fn weights_of_another_architecture_are_a_mismatch() {
    let err =
        Vgg::load(&fixture("vgg16_tiny.pth"), &VggConfig::vgg16(), &Device::Cpu, DType::F32).unwrap_err();
    let Error::WeightsMismatch { problems, .. } = &err else { panic!("{err}") };
    // Every weight and bias is mis-shaped (16 layers × 2) except the last bias (1000 classes).
    assert_eq!(problems.len(), 31, "{err}");
}

#[test]
fn a_class_out_of_range_is_reported_by_every_attributor() {
    let vgg = tiny();
    let x = input(1, &[1, 3, 224, 224], DType::F32);
    for attributor in [&Gradient as &dyn Attributor, &GradientTimesInput, &Lrp::default()] {
        let err = attributor.attribute(&vgg, &x, 1000).unwrap_err();
        assert!(matches!(err, Error::ClassOutOfRange { index: 1000, classes: 1000 }), "{err}");
        assert!(err.to_string().contains("0..=999"), "{err}");
    }
}

#[test]
fn invalid_gamma_schedules_are_rejected() {
    for bad in [
        [-0.25, 0.25, 0.1, 0.05, 0.01],
        [0.25, f64::NAN, 0.1, 0.05, 0.01],
        [0.25, 0.25, 0.1, 0.05, f64::INFINITY],
    ] {
        let err = GammaSchedule::new(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "gamma", .. }), "{err}");
    }
    for len in [0, 4, 6, 13] {
        let err = GammaSchedule::from_slice(&vec![0.1; len]).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "gamma schedule", .. }), "{err}");
        assert!(err.to_string().contains(&format!("got {len}")), "{err}");
    }
    assert!(GammaSchedule::from_slice(&[-1.0, 0.0, 0.0, 0.0, 0.0]).is_err());
}

/// The sheet's schedule has five γ; the convolutions of later blocks take the fifth's, as an
/// explicit composite with that γ on block 6 does.
#[test]
fn blocks_after_the_schedule_take_its_last_gamma() {
    use explainer::{Composite, Gamma, LayerKind, Selector, Stabiliser, ZBox};
    let config = VggConfig::from_cfg("six-blocks", &[2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 2, 0], 1, vec![4], 3);
    let vgg = Vgg::random(&config, 1, &Device::Cpu, DType::F64).unwrap();
    let x = input(2, &[1, 3, 64, 64], DType::F64);
    let sheet = Lrp::default().attribute(&vgg, &x, 0).unwrap().relevance;
    let gamma = |g: f64| Gamma::new(g).unwrap().with_stabiliser(Stabiliser::NONE);
    let mut explicit = Composite::new("six blocks").with(
        Selector::First(vec![LayerKind::Convolution]),
        ZBox::imagenet().with_stabiliser(Stabiliser::NONE),
    );
    for (block, g) in GammaSchedule::DEFAULT.into_iter().chain([0.01]).enumerate() {
        explicit = explicit.with(Selector::Block(block, vec![LayerKind::Convolution]), gamma(g));
    }
    let expected = Lrp::new(explicit).attribute(&vgg, &x, 0).unwrap().relevance;
    assert!(util::rel_l2(&sheet, &expected) < 1e-12);
    let other = GammaSchedule::new([0.25, 0.25, 0.1, 0.05, 0.5]).unwrap();
    let changed = Lrp::sheet(&other).attribute(&vgg, &x, 0).unwrap().relevance;
    assert!(util::rel_l2(&sheet, &changed) > 1e-6, "block 6 must follow the fifth γ");
}

#[test]
fn inputs_of_the_wrong_shape_or_dtype_are_invalid_inputs() {
    let vgg = tiny();
    let cases: Vec<(Tensor, &str)> = vec![
        (input(1, &[3, 224, 224], DType::F32), "needs N×3×224×224"),
        (input(1, &[1, 1, 224, 224], DType::F32), "needs N×3×224×224"),
        (input(1, &[1, 3, 200, 200], DType::F32), "multiples of 32"),
        (input(1, &[0, 3, 224, 224], DType::F32), "needs N×3×224×224"),
        (input(1, &[1, 3, 224, 224], DType::F64), "dtype F64, but the model is F32"),
    ];
    for (x, says) in cases {
        for attributor in [&Gradient as &dyn Attributor, &GradientTimesInput, &Lrp::default()] {
            let err = attributor.attribute(&vgg, &x, 0).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(err.to_string().contains(says), "{says:?} not in {err}");
        }
        assert!(matches!(vgg.forward(&x), Err(Error::InvalidInput { .. })));
    }
}

/// torchvision's VGGs end their features with an adaptive average pool, so any multiple of
/// 32 works; a network without one (the shipped shapes model) takes only its own size.
#[test]
fn other_sizes_need_the_adaptive_average_pool() {
    let explained = Lrp::default().attribute(&tiny(), &input(1, &[1, 3, 256, 192], DType::F32), 0).unwrap();
    assert_eq!(explained.relevance.dims(), &[1, 3, 256, 192]);
    let shapes = Vgg::random(&VggConfig::shapes(), 1, &Device::Cpu, DType::F32).unwrap();
    let err = Lrp::default().attribute(&shapes, &input(1, &[1, 3, 128, 128], DType::F32), 0).unwrap_err();
    assert!(err.to_string().contains("1×1 map after 6 max-pools"), "{err}");
}

#[test]
fn non_finite_inputs_are_invalid_inputs() {
    let vgg = tiny();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut v = vec![0.5f32; 3 * 224 * 224];
        v[1234] = bad;
        let x = Tensor::from_vec(v, (1, 3, 224, 224), &Device::Cpu).unwrap();
        for attributor in [&Gradient as &dyn Attributor, &GradientTimesInput, &Lrp::default()] {
            let err = attributor.attribute(&vgg, &x, 0).unwrap_err();
            assert!(err.to_string().contains("NaN or infinite"), "{err}");
        }
    }
}
