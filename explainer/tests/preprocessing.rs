//! Our image preprocessing against torchvision's, on the fixture picture.
//!
//! `fixtures/scene.png` is 400×300; torchvision's `Resize(256)`, `CenterCrop(224)`,
//! `ToTensor()`, `Normalize(mean, std)` made `preprocessed` (see `fixtures/README.md`). We
//! reproduce Pillow's resampling and torchvision's float32 arithmetic, so the two tensors must
//! be identical, not merely close.

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

#[test]
fn scene_preprocessing_equals_torchvision_bit_for_bit() {
    let reference = candle_core::safetensors::load(fixture("reference.safetensors"), &Device::Cpu).unwrap();
    let expected: Vec<f32> = reference["preprocessed"].flatten_all().unwrap().to_vec1().unwrap();

    let (input, picture) =
        explainer::image::load_input(&fixture("scene.png"), &Device::Cpu, DType::F32).unwrap();
    assert_eq!(picture.dimensions(), (224, 224));
    assert_eq!(input.dims(), reference["preprocessed"].dims());
    let ours: Vec<f32> = input.flatten_all().unwrap().to_vec1().unwrap();
    let mismatches = ours.iter().zip(&expected).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
    assert_eq!(mismatches, 0, "{mismatches} of {} values differ from torchvision", expected.len());
}

#[test]
fn f64_input_is_the_f32_preprocessing_widened() {
    // The f64 references were computed on `input` = `preprocessed` cast to float64.
    let reference = candle_core::safetensors::load(fixture("reference.safetensors"), &Device::Cpu).unwrap();
    let (input, _) = explainer::image::load_input(&fixture("scene.png"), &Device::Cpu, DType::F64).unwrap();
    let difference: f64 =
        (input - &reference["input"]).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
    assert_eq!(difference, 0.0);
    let _: &Tensor = &reference["input"];
}
