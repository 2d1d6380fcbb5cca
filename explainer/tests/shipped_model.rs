//! The model that ships with the project (`explainer/models/shapes_vgg.safetensors`): it loads
//! with [`Vgg::load`] under [`VggConfig::shapes`], classifies scenes it was never trained on
//! (the first test seeds), and the sheet's LRP runs on it.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device};
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::training::accuracy;
use explainer::{Attributor, Lrp, Vgg, VggConfig};

/// The accuracy the shipped model must reach on unseen scenes.
const MIN_ACCURACY: f64 = 0.995;
/// Scenes from the test seeds to measure it on.
const TEST_SCENES: usize = 1000;
/// Scenes per forward pass.
const BATCH: usize = 250;

fn shipped() -> Vgg {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/shapes_vgg.safetensors");
    Vgg::load(&path, &VggConfig::shapes(), &Device::Cpu, DType::F32).unwrap()
}

#[test]
fn shipped_model_classifies_unseen_scenes() {
    let model = shipped();
    let start = Instant::now();
    let accuracy = accuracy(&model, TEST_SEEDS.start, TEST_SCENES, BATCH).unwrap();
    println!(
        "accuracy {:.2} % on {TEST_SCENES} test scenes in {:.2} s",
        100.0 * accuracy,
        start.elapsed().as_secs_f64()
    );
    assert!(accuracy >= MIN_ACCURACY, "accuracy {accuracy} < {MIN_ACCURACY} on {TEST_SCENES} test scenes");
}

/// The sheet's LRP explains the shipped model's logits, one relevance per input value. The
/// network has VGG-16's five blocks (one convolution each), so the default schedule maps as on
/// VGG-16: zB on convolution 1, γ = 0.25, 0.1, 0.05, 0.01 on convolutions 2–5 (block 1's 0.25
/// would serve a second convolution in block 1; there is none).
#[test]
fn default_lrp_runs_on_the_shipped_model() {
    let model = shipped();
    let scenes = generate_scenes(TEST_SEEDS.start, 8);
    let input = scenes_to_input(&scenes, &Device::Cpu, DType::F32).unwrap();
    // The first call pays for allocations; time the others.
    Lrp::default().attribute(&model, &input.narrow(0, 0, 1).unwrap(), scenes[0].class).unwrap();
    let start = Instant::now();
    for (i, scene) in scenes.iter().enumerate() {
        let x = input.narrow(0, i, 1).unwrap();
        let attribution = Lrp::default().attribute(&model, &x, scene.class).unwrap();
        let size = SCENE_SIZE as usize;
        assert_eq!(attribution.relevance.dims(), &[1, 3, size, size]);
        assert_eq!(attribution.logits.dims(), &[1, 6]);
    }
    println!("LRP: {:.1} ms per scene", start.elapsed().as_secs_f64() * 1e3 / scenes.len() as f64);
}
