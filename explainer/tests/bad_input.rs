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
use util::{fixture, input, peak_memory};

/// Peak memory allowed for this test process, which decodes a 96 MB image.
const PEAK_MEMORY_BYTES: u64 = 1 << 30;

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

// ---- issue 13: what the loaders and constructors refuse, and how ----

/// A PNG chunk: length, type, data, CRC-32 of type and data.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in kind.iter().chain(data) {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&(!crc).to_be_bytes());
    chunk
}

#[test]
fn an_image_too_large_to_decode_says_its_size_and_the_limit() {
    // Item 5: the decoder's refusal must say the size and the limit. A valid PNG header of
    // 100000×100000 RGB pixels (30 GB decoded), no pixel data needed to refuse it.
    let dir = tempfile::tempdir().unwrap();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive filter, no interlace
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    bytes.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    bytes.extend(png_chunk(b"IEND", &[]));
    let path = file_with(&dir, "huge.png", &bytes);
    let error = explainer::image::load_rgb(&path).unwrap_err();
    assert!(matches!(error, Error::Image { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("100000×100000"), "{message}");
    assert!(message.contains(&explainer::image::MAX_DECODED_BYTES.to_string()), "{message}");
}

#[test]
fn truncated_images_are_errors_that_say_so() {
    // Item 2: decoders fill a truncated JPEG's missing half with grey instead of failing.
    let dir = tempfile::tempdir().unwrap();
    let scene = image::open(fixture("scene.png")).unwrap().to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&scene).unwrap();
    let png = std::fs::read(fixture("scene.png")).unwrap();
    for (name, bytes) in [
        ("half.jpg", &jpeg[..jpeg.len() / 2]),
        ("cut.jpg", &jpeg[..jpeg.len() - 2]),
        ("half.png", &png[..png.len() / 2]),
    ] {
        let error = explainer::image::load_rgb(&file_with(&dir, name, bytes)).unwrap_err();
        assert!(matches!(error, Error::Image { .. }), "{name}: {error}");
        assert!(error.to_string().contains("truncated"), "{name}: {error}");
    }
    assert_eq!(
        explainer::image::load_rgb(&file_with(&dir, "whole.jpg", &jpeg)).unwrap().dimensions(),
        scene.dimensions()
    );
}

#[test]
fn weights_that_are_not_regular_files_or_not_weights_are_refused_after_a_header() {
    // Item 7: `--weights /dev/zero` read until memory ran out, and a 2 GB file that is not
    // weights was read whole before it was refused. Here: /dev/zero, and sparse 8 GB files
    // (no disk used) whose first bytes are not weights or claim an impossible header; reading
    // either whole would take 8 GB.
    let err = load(std::path::Path::new("/dev/zero"));
    assert!(matches!(err, Error::WeightsFile { .. }), "{err}");
    assert!(err.to_string().contains("not a regular file"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let sparse = |name: &str, head: &[u8]| {
        let path = dir.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &file, head).unwrap();
        file.set_len(8 << 30).unwrap();
        path
    };
    let zeros = load(&sparse("zeros.bin", &[]));
    assert!(zeros.to_string().contains("neither"), "{zeros}");
    let mut claim = (1u64 << 40).to_le_bytes().to_vec(); // a 1 TB header
    claim.push(b'{');
    let huge_header = load(&sparse("huge-header.safetensors", &claim));
    assert!(matches!(huge_header, Error::WeightsFile { .. }), "{huge_header}");
    assert!(huge_header.to_string().contains("header claims 1099511627776 bytes"), "{huge_header}");
}

/// The fixture's state dict with `tensor` replaced by `value`, saved as safetensors.
fn fixture_with(dir: &tempfile::TempDir, name: &str, tensor: &str, value: Tensor) -> std::path::PathBuf {
    let mut tensors = read_state_dict(&fixture("vgg16_tiny.safetensors"), &Device::Cpu).unwrap();
    tensors.insert(tensor.into(), value);
    let path = dir.path().join(name);
    candle_core::safetensors::save(&tensors, &path).unwrap();
    path
}

#[test]
fn nan_infinite_and_integer_weights_are_refused_at_load_naming_the_tensor() {
    // Item 8: a NaN weight gave a plausible top-5 and then an error blaming the heatmap;
    // int64 weights were cast silently.
    let dir = tempfile::tempdir().unwrap();
    let tensors = read_state_dict(&fixture("vgg16_tiny.safetensors"), &Device::Cpu).unwrap();
    let weight = &tensors["features.10.weight"];
    let with = |bad: f32| {
        let mut values: Vec<f32> = weight.flatten_all().unwrap().to_vec1().unwrap();
        values[77] = bad;
        Tensor::from_vec(values, weight.dims(), &Device::Cpu).unwrap()
    };
    for (name, bad) in [("nan.safetensors", f32::NAN), ("inf.safetensors", f32::NEG_INFINITY)] {
        let err = load(&fixture_with(&dir, name, "features.10.weight", with(bad)));
        let Error::InvalidWeight { tensor, why, path } = &err else { panic!("{err}") };
        assert_eq!(tensor, "features.10.weight");
        assert!(why.contains("at flat index 77"), "{err}");
        assert!(path.ends_with(name), "{err}");
    }
    let integer = tensors["classifier.6.bias"].to_dtype(DType::I64).unwrap();
    let err = load(&fixture_with(&dir, "int.safetensors", "classifier.6.bias", integer));
    assert!(matches!(&err, Error::InvalidWeight { tensor, .. } if tensor == "classifier.6.bias"), "{err}");
    assert!(err.to_string().contains("integer dtype I64"), "{err}");
}

#[test]
fn configurations_without_classes_units_or_channels_are_invalid_parameters() {
    // Item 10: Vgg::random divided by zero on 0 classes or a hidden width of 0.
    let cases = [
        (VggConfig::from_cfg("no-classes", &[4, 0], 1, vec![8], 0), "classes"),
        (VggConfig::from_cfg("no-units", &[4, 0], 1, vec![8, 0], 3), "hidden width"),
        (VggConfig::from_cfg("no-map", &[4, 0], 0, vec![8], 3), "feature_size"),
        (
            VggConfig { in_channels: 0, ..VggConfig::from_cfg("no-input", &[4, 0], 1, vec![8], 3) },
            "in_channels",
        ),
        (
            VggConfig {
                features: vec![explainer::model::Feature::Conv(0)],
                ..VggConfig::from_cfg("no-channels", &[4, 0], 1, vec![8], 3)
            },
            "channels",
        ),
    ];
    for (config, parameter) in cases {
        let err = Vgg::random(&config, 1, &Device::Cpu, DType::F32).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name, .. } if name == parameter),
            "{}: {err}",
            config.name
        );
    }
}

#[test]
fn a_huge_thin_image_is_cropped_before_it_is_resized() {
    // Item 5: a 1,000,000×32 PNG (99 KB) took 7.2 GB and 73 s: the resize ran over the whole
    // 8,000,000×256 result before the centre crop. The crop equals Pillow's resize of the full
    // image, cropped, computed here on the same region only by an independent route: resizing
    // a narrower image that holds every input column the crop reads.
    let dir = tempfile::tempdir().unwrap();
    let image = image::RgbImage::from_fn(1_000_000, 32, |x, y| {
        image::Rgb([(x % 251) as u8, (y * 7) as u8, (x / 4096) as u8])
    });
    let path = dir.path().join("thin.png");
    image.save(&path).unwrap();
    let (tensor, picture) = explainer::image::load_input(&path, &Device::Cpu, DType::F32).unwrap();
    assert_eq!(tensor.dims(), &[1, 3, 224, 224]);
    // The output column i of 8,000,000 reads input columns near (i + ½)/8; the crop starts at
    // column 3,999,888, i.e. input column ≈ 499,986. Resizing the window [499,936, 500,064) of
    // 128 columns to 1024 keeps the same scale and phase (offsets multiple of 8).
    let window = image::imageops::crop_imm(&image, 499_936, 0, 128, 32).to_image();
    let resized = explainer::resample::pillow_bilinear(&window, 1024, 256);
    let expected =
        image::imageops::crop_imm(&resized, (3_999_888 - 499_936 * 8) as u32, 16, 224, 224).to_image();
    assert_eq!(picture, expected);
    // The 96 MB of decoded pixels, not the 6 GB of the full resize.
    assert!(peak_memory() < PEAK_MEMORY_BYTES, "peak memory {} bytes", peak_memory());
}
