//! Explanation quality of the shipped shapes model, measured against the scenes' object masks
//! (the numbers behind the sheet's "most of the noise has disappeared"): LRP puts more of its
//! relevance on the object than Gradient×Input and removes the class evidence faster when
//! flipping pixels; every method beats the random baseline; and the explanations of LRP and
//! Gradient×Input change when the weights are randomised (the sanity check of Adebayo et al.).
//!
//! Runs `evaluation::Benchmark` on `SCENES` test scenes disjoint from the ones
//! `evaluate` reports (book/src/measurements/), with the margins below taken from that full
//! run (500 scenes) with room for sampling noise.

use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::{DType, Device};
use explainer::evaluation::{
    Benchmark, Mask, Method, MethodSummary, PixelFlipping, Replacement, Summary,
    model_randomisation_similarity,
};
use explainer::scenes::{SCENE_SIZE, TEST_SEEDS, generate_scenes, scenes_to_input};
use explainer::{Vgg, VggConfig};

/// Scenes in the sample.
const SCENES: usize = 120;
/// First seed: past the 500 scenes that `evaluate` reports by default.
const FIRST_SEED: u64 = TEST_SEEDS.start + 10_000;
/// Scenes per batch.
const BATCH: usize = 40;
/// Pixel flipping as `evaluate` does by default: 20 steps up to 20 % of the pixels.
const STEPS: usize = 20;
/// Share of the pixels removed by the last step.
const MAX_FRACTION: f64 = 0.2;
/// Seed of the random baseline, the random pixel orders and the randomised model.
const RANDOM_SEED: u64 = 1;

// Margins. The full run (`evaluate`, 500 scenes from the first test seed, the same settings)
// measured, mean ± 95 % half-width: mass accuracy LRP 0.468 ± 0.008, Gradient×Input
// 0.342 ± 0.012, Gradient 0.273 ± 0.007, random 0.124 ± 0.004; rank accuracy 0.393, 0.337,
// 0.296, 0.125; pointing game 0.596, 0.610, 0.478, 0.134; AOPC LRP 16.90 ± 1.37,
// Gradient×Input 20.96 ± 1.20, Gradient 16.42 ± 1.04, random pixel order 7.94 ± 0.47;
// randomisation ρ LRP 0.196, Gradient×Input 0.189, Gradient 0.155. Each margin is about half
// the measured gap, so sampling noise of 120 scenes (half-widths about twice the above) does
// not flip it, and a real change in the model or the methods does.
/// LRP's mass accuracy exceeds Gradient×Input's by at least this much (measured: 0.126).
const LRP_OVER_GXI_MASS: f64 = 0.05;
/// LRP's rank accuracy exceeds Gradient×Input's by at least this much (measured: 0.056).
const LRP_OVER_GXI_RANK: f64 = 0.025;
/// Gradient×Input's AOPC exceeds LRP's by at least this much, in logits (measured: 4.06).
/// The opposite of what the sheet's heatmaps suggest: see the test.
const GXI_OVER_LRP_AOPC: f64 = 1.0;
/// Every method's mass, rank accuracy and pointing-game rate exceed the random baseline's by
/// this much (smallest measured gap: Gradient's mass accuracy, 0.149).
const OVER_RANDOM_LOCALISATION: f64 = 0.07;
/// Every method's AOPC exceeds the random pixel order's by this much, paired per scene, in
/// logits (smallest measured: Gradient, 8.48).
const OVER_RANDOM_AOPC: f64 = 2.0;
/// LRP's and Gradient×Input's mean Spearman ρ of |R| against a randomised model stays below
/// this (measured: at most 0.196).
const RANDOMISED_RHO_BELOW: f64 = 0.5;

fn model() -> Vgg {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/shapes_vgg.safetensors");
    Vgg::load(&path, &VggConfig::shapes(), &Device::Cpu, DType::F32).unwrap()
}

/// The benchmark on the sample, computed once for all tests.
fn summary() -> &'static Summary {
    static SUMMARY: OnceLock<Summary> = OnceLock::new();
    SUMMARY.get_or_init(|| {
        let model = model();
        let randomised = Vgg::random(&VggConfig::shapes(), RANDOM_SEED, &Device::Cpu, DType::F32).unwrap();
        let flipping = PixelFlipping::new(STEPS, MAX_FRACTION).unwrap();
        let mut benchmark = Benchmark::new(
            Method::standard(RANDOM_SEED),
            flipping,
            Replacement::BackgroundMean,
            randomised,
            RANDOM_SEED,
        );
        let size = SCENE_SIZE as usize;
        for first in (FIRST_SEED..FIRST_SEED + SCENES as u64).step_by(BATCH) {
            let scenes = generate_scenes(first, BATCH);
            let input = scenes_to_input(&scenes, &Device::Cpu, DType::F32).unwrap();
            let classes: Vec<usize> = scenes.iter().map(|s| s.class).collect();
            let masks: Vec<Mask> =
                scenes.iter().map(|s| Mask::new(size, size, s.mask.clone()).unwrap()).collect();
            let seeds: Vec<u64> = (first..first + BATCH as u64).collect();
            benchmark.add(&model, &input, &classes, &masks, &seeds).unwrap();
        }
        let summary = benchmark.summary().unwrap();
        eprintln!("{}", summary.to_markdown());
        summary
    })
}

fn row(name: &str) -> &'static MethodSummary {
    summary().row(name).unwrap_or_else(|| panic!("no row {name}"))
}

// ANCHOR: localisation_test
#[test]
fn lrp_puts_more_relevance_on_the_object_than_gradient_times_input() {
    let (lrp, gxi) = (row("LRP"), row("Gradient×Input"));
    assert!(
        lrp.mass_accuracy.mean > gxi.mass_accuracy.mean + LRP_OVER_GXI_MASS,
        "mass accuracy: LRP {} vs Gradient×Input {}",
        lrp.mass_accuracy,
        gxi.mass_accuracy
    );
    assert!(
        lrp.rank_accuracy.mean > gxi.rank_accuracy.mean + LRP_OVER_GXI_RANK,
        "rank accuracy: LRP {} vs Gradient×Input {}",
        lrp.rank_accuracy,
        gxi.rank_accuracy
    );
}
// ANCHOR_END: localisation_test

/// Expected from the sheet: LRP above Gradient×Input on AOPC too. The data says otherwise on
/// this model: flipping Gradient×Input's most relevant pixels first lowers the logit faster
/// over the first 20 % of the pixels (with the background mean and with noise as replacement),
/// although LRP's relevance lies more on the object. So this asserts the measured order.
#[test]
fn gradient_times_input_removes_the_evidence_faster_than_lrp() {
    let (lrp, gxi) = (row("LRP"), row("Gradient×Input"));
    assert!(
        gxi.aopc.mean > lrp.aopc.mean + GXI_OVER_LRP_AOPC,
        "AOPC: Gradient×Input {} vs LRP {}",
        gxi.aopc,
        lrp.aopc
    );
}

#[test]
fn every_method_beats_the_random_baseline() {
    let random = row("random");
    for name in ["Gradient", "Gradient×Input", "LRP"] {
        let r = row(name);
        for (metric, value, baseline) in [
            ("mass accuracy", r.mass_accuracy, random.mass_accuracy),
            ("rank accuracy", r.rank_accuracy, random.rank_accuracy),
            ("pointing game", r.pointing_game, random.pointing_game),
        ] {
            assert!(
                value.mean > baseline.mean + OVER_RANDOM_LOCALISATION,
                "{name} {metric} {value} vs random {baseline}"
            );
        }
        assert!(
            r.aopc_minus_random.mean > OVER_RANDOM_AOPC,
            "{name}: AOPC − random order = {}",
            r.aopc_minus_random
        );
    }
    // The noise baseline flips pixels in a random order too: no gain over the random order.
    assert!(random.aopc_minus_random.low() < 0.0 && random.aopc_minus_random.high() > 0.0);
}

#[test]
fn explanations_change_when_the_weights_are_randomised() {
    for name in ["LRP", "Gradient×Input"] {
        let rho = row(name).randomisation;
        assert!(rho.mean < RANDOMISED_RHO_BELOW, "{name}: Spearman ρ of |R| vs randomised model = {rho}");
    }
    // The noise baseline ignores the model: it fails the sanity check with ρ = 1.
    assert_eq!(row("random").randomisation.mean, 1.0);
}

#[test]
fn identical_models_give_identical_explanations() {
    let model = model();
    let copy = model.clone();
    let scenes = generate_scenes(FIRST_SEED, 4);
    let input = scenes_to_input(&scenes, &Device::Cpu, DType::F32).unwrap();
    let classes: Vec<usize> = scenes.iter().map(|s| s.class).collect();
    let seeds: Vec<u64> = (FIRST_SEED..FIRST_SEED + 4).collect();
    for method in Method::standard(RANDOM_SEED) {
        let a = method.maps(&model, &input, &classes, &seeds).unwrap();
        let b = method.maps(&copy, &input, &classes, &seeds).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(model_randomisation_similarity(x, y).unwrap(), 1.0, "{}", method.name());
        }
    }
}
