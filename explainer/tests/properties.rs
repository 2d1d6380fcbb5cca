//! Properties of the attributions on random small VGG-style networks (as zennit's and
//! Captum's tests): LRP with γ = 0 and no zB is Gradient×Input; zB + LRP-γ conserve relevance
//! without biases; the explicit and autograd engines agree; batches explain each sample; kept
//! modified kernels change nothing.

mod util;

use candle_core::{DType, Device, Tensor};
use explainer::{
    Attributor, Composite, Engine, Epsilon, Gamma, GammaSchedule, Gradient, GradientTimesInput, LayerKind,
    Lrp, ModifiedKernels, Preset, Selector, Stabiliser, Vgg, VggConfig, ZBox,
};
use proptest::prelude::*;
use util::{input, rel_l2, sum};

/// Agreement of two float64 computations of the same quantity (summation order only).
const EXACT: f64 = 1e-10;
/// Proptest cases per property (each runs a few small networks).
const CASES: u32 = 6;
/// Range of seeds for weights and inputs.
const SEEDS: std::ops::Range<u64> = 0..1_000_000;
/// Range of γ drawn per block.
const GAMMAS: std::ops::Range<f64> = 0.0..1.0;

/// Small VGG-style networks: 2–3 blocks with max-pools, one or two convolutions per block,
/// 16×16 or 8×8 inputs.
fn configs() -> Vec<VggConfig> {
    vec![
        VggConfig::from_cfg("small-a", &[4, 4, 0, 8, 0, 8, 8, 0], 2, vec![16], 10),
        VggConfig::from_cfg("small-b", &[6, 0, 5, 5, 0], 2, vec![12, 12], 7),
    ]
}

fn schedules() -> impl Strategy<Value = GammaSchedule> {
    prop::array::uniform5(GAMMAS).prop_map(|g| GammaSchedule::new(g).unwrap())
}

fn network(config: &VggConfig, seed: u64) -> Vgg {
    Vgg::random(config, seed, &Device::Cpu, DType::F64).unwrap()
}

fn x_for(config: &VggConfig, seed: u64, batch: usize) -> Tensor {
    let s = config.input_size();
    input(seed, &[batch, 3, s, s], DType::F64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// γ = 0 without stabiliser on every convolution, the first too (whose input has both
    /// signs), and the gradient on the dense layers: every rule is the plain gradient, so LRP
    /// is Gradient×Input, on both engines.
    #[test]
    fn lrp_with_gamma_zero_and_no_zbox_is_gradient_times_input(seed in SEEDS) {
        for config in configs() {
            let (vgg, x) = (network(&config, seed), x_for(&config, seed + 1, 2));
            let class = (seed % config.classes as u64) as usize;
            let gxi = GradientTimesInput.attribute(&vgg, &x, class).unwrap().relevance;
            let gamma0 = Gamma::new(0.0).unwrap().with_stabiliser(Stabiliser::NONE);
            let composite = Composite::new("gamma 0").with(Selector::Kinds(vec![LayerKind::Convolution]), gamma0);
            for engine in [Engine::Explicit, Engine::Autograd] {
                let lrp = Lrp::new(composite.clone()).with_engine(engine);
                let r = lrp.attribute(&vgg, &x, class).unwrap().relevance;
                prop_assert!(rel_l2(&r, &gxi) < EXACT, "{engine:?}: {:e}", rel_l2(&r, &gxi));
            }
        }
    }

    // ANCHOR: conservation_test
    /// Without biases, zB on convolution 1 and LRP-γ on the others conserve relevance:
    /// Σ R equals the explained logit, for any schedule.
    #[test]
    fn zbox_and_gamma_conserve_relevance_without_biases(seed in SEEDS, schedule in schedules()) {
        for config in configs() {
            let vgg = network(&config, seed).without_biases().unwrap();
            let x = x_for(&config, seed + 2, 1);
            let class = (seed % config.classes as u64) as usize;
            let a = Lrp::sheet(&schedule).attribute(&vgg, &x, class).unwrap();
            let logit = a.logits.flatten_all().unwrap().to_vec1::<f64>().unwrap()[class];
            let total = sum(&a.relevance);
            prop_assert!((total - logit).abs() <= EXACT * logit.abs().max(1.0), "Σ R = {total}, logit {logit}");
        }
    }
    // ANCHOR_END: conservation_test

    /// The explicit engine and the autograd engine (the sheet's trick) give the same
    /// relevance, with biases, for the sheet's composite and for LRP-ε on dense layers.
    /// Euler's identity for positively homogeneous networks (ReLU, max-pool, no biases):
    /// `f(x) = Σ_i x_i ∂f/∂x_i`, so Gradient×Input conserves the logit exactly there — the
    /// Taylor reading at the root point `εx, ε → 0` of the VGG-16 chapter.
    #[test]
    fn gradient_times_input_sums_to_the_logit_without_biases(seed in SEEDS) {
        for config in configs() {
            let vgg = network(&config, seed).without_biases().unwrap();
            let x = x_for(&config, seed + 3, 1);
            let class = (seed % config.classes as u64) as usize;
            let a = GradientTimesInput.attribute(&vgg, &x, class).unwrap();
            let logit = a.logits.flatten_all().unwrap().to_vec1::<f64>().unwrap()[class];
            let total = sum(&a.relevance);
            prop_assert!((total - logit).abs() <= EXACT * logit.abs().max(1.0), "Σ R = {total}, logit {logit}");
        }
    }

    #[test]
    fn explicit_and_autograd_engines_agree(seed in SEEDS, schedule in schedules()) {
        for config in configs() {
            let (vgg, x) = (network(&config, seed), x_for(&config, seed + 3, 2));
            let class = (seed % config.classes as u64) as usize;
            let lrp = Lrp::sheet(&schedule);
            let explicit = lrp.attribute(&vgg, &x, class).unwrap();
            let autograd = lrp.clone().with_engine(Engine::Autograd).attribute(&vgg, &x, class).unwrap();
            prop_assert!(rel_l2(&explicit.logits, &autograd.logits) < EXACT);
            let e = rel_l2(&explicit.relevance, &autograd.relevance);
            prop_assert!(e < EXACT, "{}: {e:e}", config.name);
        }
    }
}

/// LRP-ε is a [`explainer::Rule`] like the others: both engines agree on it too.
#[test]
fn epsilon_rule_runs_on_both_engines() {
    let sheet_gamma = Gamma::new(0.25).unwrap().with_stabiliser(Stabiliser::NONE);
    let epsilon_on_dense = Composite::new("sheet with ε on dense layers")
        .with(Selector::Kinds(vec![LayerKind::Dense]), Epsilon::new(0.25).unwrap())
        .with(
            Selector::First(vec![LayerKind::Convolution]),
            ZBox::imagenet().with_stabiliser(Stabiliser::NONE),
        )
        .with(Selector::Kinds(vec![LayerKind::Convolution]), sheet_gamma);
    let config = &configs()[0];
    let (vgg, x) = (network(config, 5), x_for(config, 6, 1));
    let explicit = Lrp::new(epsilon_on_dense.clone()).attribute(&vgg, &x, 3).unwrap().relevance;
    let autograd =
        Lrp::new(epsilon_on_dense).with_engine(Engine::Autograd).attribute(&vgg, &x, 3).unwrap().relevance;
    assert!(rel_l2(&explicit, &autograd) < EXACT);
    let plain = Lrp::default().attribute(&vgg, &x, 3).unwrap().relevance;
    assert!(rel_l2(&explicit, &plain) > 1e-6, "ε must change the dense layers' relevance");
}

/// A batch is explained sample by sample, and Gradient×Input is input ⊙ Gradient.
#[test]
fn batches_explain_each_sample_and_gradient_times_input_is_consistent() {
    let config = &configs()[1];
    let vgg = network(config, 9);
    let x = x_for(config, 10, 3);
    for attributor in [&Lrp::default() as &dyn Attributor, &GradientTimesInput, &Gradient] {
        let batch = attributor.attribute(&vgg, &x, 2).unwrap();
        for n in 0..3 {
            let one = attributor.attribute(&vgg, &x.narrow(0, n, 1).unwrap(), 2).unwrap();
            assert!(rel_l2(&one.relevance, &batch.relevance.narrow(0, n, 1).unwrap()) < EXACT);
        }
    }
    let g = Gradient.attribute(&vgg, &x, 4).unwrap().relevance;
    let gxi = GradientTimesInput.attribute(&vgg, &x, 4).unwrap().relevance;
    assert!(rel_l2(&gxi, &(&g * &x).unwrap()) < EXACT);
}

/// A batch larger than one pass takes (8 samples) runs and is explained in parts: the logits
/// and the relevance of every sample are those of the sample alone, on both engines.
#[test]
fn large_batches_are_explained_in_parts_sample_by_sample() {
    let config = &configs()[1];
    let vgg = network(config, 13);
    let x = x_for(config, 11, 19);
    let logits = vgg.forward(&x).unwrap();
    for n in [0, 8, 18] {
        let one = vgg.forward(&x.narrow(0, n, 1).unwrap()).unwrap();
        assert!(rel_l2(&one, &logits.narrow(0, n, 1).unwrap()) < EXACT, "forward {n}");
    }
    for attributor in [
        &Lrp::default() as &dyn Attributor,
        &Lrp::default().with_engine(Engine::Autograd),
        &GradientTimesInput,
    ] {
        let batch = attributor.attribute(&vgg, &x, 1).unwrap();
        assert_eq!(batch.logits.dims()[0], 19);
        assert_eq!(batch.relevance.dims()[0], 19);
        for n in [0, 7, 8, 15, 16, 18] {
            let one = attributor.attribute(&vgg, &x.narrow(0, n, 1).unwrap(), 1).unwrap();
            assert!(rel_l2(&one.relevance, &batch.relevance.narrow(0, n, 1).unwrap()) < EXACT, "sample {n}");
            assert!(rel_l2(&one.logits, &batch.logits.narrow(0, n, 1).unwrap()) < EXACT, "logits {n}");
        }
    }
}

/// Modified kernels kept by the `Prepared` give the relevance of kernels made per step, bit for
/// bit, on the call that makes and keeps them and on the next, which reuses them: for every
/// preset (γ, zB on an input of both signs, αβ whose second group reads the first's complement,
/// flat), in float32 and float64.
#[test]
fn kept_modified_kernels_give_the_same_relevance_bit_for_bit() {
    let presets = [
        Preset::Sheet,
        Preset::EpsilonGammaBox,
        Preset::EpsilonPlus,
        Preset::EpsilonPlusFlat,
        Preset::EpsilonAlpha2Beta1,
        Preset::EpsilonAlpha2Beta1Flat,
    ];
    for config in configs() {
        for dtype in [DType::F32, DType::F64] {
            let vgg = Vgg::random(&config, 5, &Device::Cpu, dtype).unwrap();
            let s = config.input_size();
            let x = input(6, &[2, 3, s, s], dtype);
            let bits = |t: &Tensor| -> Vec<u64> {
                let t = t.to_dtype(DType::F64).unwrap().flatten_all().unwrap();
                t.to_vec1::<f64>().unwrap().iter().map(|v| v.to_bits()).collect()
            };
            for preset in presets {
                let composite = preset.composite(&Default::default()).unwrap();
                let lrp = Lrp::new(composite);
                assert_eq!(lrp.modified_kernels(), ModifiedKernels::PerStep, "the default");
                let expected = bits(&lrp.attribute(&vgg, &x, 3).unwrap().relevance);
                let kept = lrp.with_modified_kernels(ModifiedKernels::Kept).prepare(&vgg).unwrap();
                for call in ["first", "second"] {
                    let relevance = bits(&kept.attribute(&x, 3).unwrap().relevance);
                    assert!(relevance == expected, "{} {dtype:?} {preset:?}, {call} call", config.name);
                }
            }
        }
    }
}
