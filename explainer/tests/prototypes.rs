//! Class prototypes (exercise 1 on a real network): on the shipped model's last layer alone, a
//! linear model, the ascent reproduces exercise 1's closed forms (`activation-maximization`);
//! on the whole network, each class's prototype is classified as that class.

use approx::assert_relative_eq;
use candle_core::{DType, Device};
use explainer::prototypes::pixels::scene_pixels;
use explainer::prototypes::{
    Ascent, ClassScore, LinearScore, LowRankGaussian, NetworkScore, PenaltyKind, Settings, find_prototype,
};
use explainer::scenes::{Shape, TRAIN_SEEDS, generate_scenes, scenes_to_input};
use explainer::shipped::shapes_model;
use nalgebra::{DMatrix, DVector};

/// Agreement of the ascent with the closed forms (relative to the prototype's size).
const CLOSED_FORM: f64 = 1e-8;
/// Relative disagreement of two float32 computations of the same logits.
const F32_ROUNDING: f64 = 1e-4;
/// Scenes whose penultimate activations the hidden-space prior is fitted to.
const HIDDEN_SCENES: usize = 400;
/// Rank of the hidden-space prior.
const HIDDEN_RANK: usize = 8;

/// The inputs of the last layer (the penultimate activations) for `count` training scenes.
fn penultimate_activations(count: usize) -> DMatrix<f64> {
    let model = shapes_model(&Device::Cpu, DType::F64).unwrap();
    let scenes = generate_scenes(TRAIN_SEEDS.start, count);
    let mut h = scenes_to_input(&scenes, &Device::Cpu, DType::F64).unwrap();
    let layers = model.layers();
    for layer in &layers[..layers.len() - 1] {
        h = layer.forward(&h).unwrap();
    }
    let (n, d) = h.dims2().unwrap();
    DMatrix::from_row_slice(n, d, &h.flatten_all().unwrap().to_vec1::<f64>().unwrap())
}

fn assert_close(found: &DVector<f64>, expected: &DVector<f64>) {
    let scale = expected.norm();
    assert_relative_eq!(found, expected, epsilon = CLOSED_FORM * scale, max_relative = CLOSED_FORM);
}

#[test]
fn on_the_last_layer_the_ascent_reproduces_exercise_1s_closed_forms() {
    use activation_maximization as ex1;
    let model = shapes_model(&Device::Cpu, DType::F64).unwrap();
    let linear = LinearScore::last_layer(&model).unwrap();
    let prior = LowRankGaussian::fit(&penultimate_activations(HIDDEN_SCENES), HIDDEN_RANK).unwrap();
    let mean = prior.mean().clone();
    let settings = Settings {
        l2_lambda: 0.5,
        gaussian_lambda: 1.0,
        generator_lambda: 0.25,
        ascent: Ascent { tolerance: 1e-12, max_iterations: 1_000_000, ..Ascent::default() },
        range: None,
    };
    for class in 0..linear.classes() {
        let w = linear.weights().row(class).transpose();
        let b = linear.bias()[class];
        let run = |penalty| {
            find_prototype(&linear, class, penalty, &mean, Some(&prior), &settings, |_, _| {}).unwrap()
        };

        // (a) λ‖x − x₀‖²: with y = x − x₀ the model is wᵀy + (b + wᵀx₀), so x* = x₀ + w/(2λ).
        let shifted = ex1::LinearModel::new(w.clone(), b + w.dot(&mean)).unwrap();
        let l2 = ex1::L2Objective::new(shifted, settings.l2_lambda).unwrap();
        let found = run(PenaltyKind::L2);
        assert!(found.ascent.converged, "{class} l2: {:e}", found.ascent.stationarity);
        assert_close(&found.input, &(&mean + ex1::l2_prototype(&l2).unwrap()));

        // (b) −log N(x; μ, Σ): x* = μ + Σw, with Σ the dense W Wᵀ + σ² I.
        let gaussian = ex1::Gaussian::new(mean.clone(), prior.dense_covariance()).unwrap();
        let objective =
            ex1::GaussianObjective::new(ex1::LinearModel::new(w.clone(), b).unwrap(), gaussian).unwrap();
        let found = run(PenaltyKind::Gaussian);
        assert!(found.ascent.converged, "{class} gaussian: {:e}", found.ascent.stationarity);
        assert_close(&found.input, &ex1::gaussian_prototype(&objective).unwrap());

        // (c) x = Az + c, λ‖z‖²: z* = Aᵀw/(2λ), x* = c + AAᵀw/(2λ).
        let generator = ex1::LinearGenerator::new(prior.loading(), mean.clone()).unwrap();
        let objective = ex1::GeneratorObjective::new(
            ex1::LinearModel::new(w.clone(), b).unwrap(),
            generator,
            settings.generator_lambda,
        )
        .unwrap();
        let exact = ex1::generator_prototype(&objective).unwrap();
        let found = run(PenaltyKind::Generator);
        assert!(found.ascent.converged, "{class} generator: {:e}", found.ascent.stationarity);
        assert_close(found.code.as_ref().unwrap(), &exact.code);
        assert_close(&found.input, &exact.input);
    }
}

#[test]
fn each_class_prototype_is_classified_as_its_class() {
    let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
    let score = NetworkScore::new(&model).unwrap();
    let prior = LowRankGaussian::fit(&scene_pixels(TRAIN_SEEDS.start, 1000), 32).unwrap();
    let settings = Settings::default();
    for (class, shape) in Shape::ALL.iter().enumerate() {
        for penalty in PenaltyKind::ALL {
            let p = find_prototype(&score, class, penalty, prior.mean(), Some(&prior), &settings, |_, _| {})
                .unwrap();
            println!(
                "{:<9} {:<9} p {:.3} logit {:.3}",
                shape.name(),
                penalty.name(),
                p.probability(),
                p.logit()
            );
            assert!(p.input.iter().all(|v| (0.0..=1.0).contains(v)), "pixels outside [0, 1]");
            // Non-decreasing up to float32 rounding: the line search reads the logits of the
            // forward pass, the recorded values those of the gradient engine.
            let decreased =
                p.ascent.values.windows(2).any(|w| w[1] < w[0] - F32_ROUNDING * w[0].abs().max(1.0));
            assert!(!decreased, "the objective decreased");
            // The generator's prototypes live in the span of 32 principal components around the
            // mean scene, where some classes' logits are not the largest (the book's table says
            // which); the unconstrained pixels of (a) and (b) always reach their class.
            if penalty != PenaltyKind::Generator {
                assert_eq!(
                    p.predicted(),
                    class,
                    "{} {}: p {:.3}",
                    shape.name(),
                    penalty.name(),
                    p.probability()
                );
            }
        }
    }
}
