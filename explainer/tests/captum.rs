//! SmoothGrad, Integrated Gradients and Occlusion against Captum 0.9.0
//! (`explainer/fixtures/make_captum_fixtures.py`) on the fixture network `vgg16_tiny` at 64×64,
//! in float64: equal to a relative L2 of 1e-10.
//!
//! SmoothGrad is fed the noise Captum drew (recorded in the fixture). Captum's Integrated
//! Gradients rounds its quadrature weights to float32, so ours is run with the weights Captum
//! used (`IntegratedGradients::with_nodes`); our own rules' nodes and weights are checked
//! against Captum's unrounded ones: Gauss–Legendre equal, and Captum's `riemann_trapezoid`
//! weights, which sum to `(n − 1)/n` (step sizes `1/n` on `n` nodes spaced `1/(n − 1)`), equal
//! to our trapezoid rule's times `(n − 1)/n`. Captum's Occlusion rounds its result to float32;
//! the fixture holds its float64 sums divided in float64.

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::attribution::{Baseline, IntegratedGradients, Occlusion, Quadrature, SmoothGrad};
use explainer::{Vgg, VggConfig};
use util::{fixture, rel_l2};

/// float64 against Captum (float64): only summation order differs.
const EQUAL_TO_CAPTUM: f64 = 1e-10;

struct Case {
    model: Vgg,
    tensors: HashMap<String, Tensor>,
    class: usize,
}

fn case() -> Case {
    let model =
        Vgg::load(&fixture("vgg16_tiny.safetensors"), &VggConfig::vgg16_tiny(), &Device::Cpu, DType::F64)
            .unwrap();
    let bytes = std::fs::read(fixture("captum_vgg16_tiny.safetensors")).unwrap();
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap();
    let class = tensors["class"].to_vec1::<f64>().unwrap()[0] as usize;
    Case { model, tensors, class }
}

impl Case {
    fn input(&self) -> &Tensor {
        &self.tensors["input"]
    }

    fn expect(&self, name: &str, ours: &Tensor) {
        let captum = &self.tensors[&format!("relevance.{name}")];
        let error = rel_l2(ours, captum);
        assert!(error < EQUAL_TO_CAPTUM, "{name}: relative L2 {error:e} from Captum");
    }

    fn values(&self, key: &str) -> Vec<f64> {
        self.tensors[key].to_vec1::<f64>().unwrap()
    }
}

#[test]
fn smooth_grad_with_captums_noise_equals_captum() {
    let c = case();
    let parameters = c.values("parameters.smooth_grad");
    let (level, samples) = (parameters[0], parameters[1] as usize);
    for (name, method) in [
        ("smooth_grad", SmoothGrad::new(level, samples, 0).unwrap()),
        ("smooth_grad_x_input", SmoothGrad::new(level, samples, 0).unwrap().times_input()),
    ] {
        let prepared = method.prepare(&c.model).unwrap();
        let noise = &c.tensors[&format!("noise.{name}")];
        let ours = prepared.attribute_with_noise(c.input(), c.class, noise).unwrap();
        c.expect(name, &ours.relevance);
        // Captum's noise has the level we would draw: its sd over both images' copies is within
        // 5 % of σ = level · range (5 · 3 · 64 · 64 draws per image).
        for image in 0..2 {
            let x: Vec<f64> = c.input().get(image).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let range = x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - x.iter().copied().fold(f64::INFINITY, f64::min);
            let n: Vec<f64> =
                noise.narrow(0, image * samples, samples).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let sd = (n.iter().map(|v| v * v).sum::<f64>() / n.len() as f64).sqrt();
            assert!(
                (sd / (level * range) - 1.0).abs() < 0.05,
                "{name} image {image}: sd {sd}, σ {}",
                level * range
            );
        }
    }
}

#[test]
fn integrated_gradients_equal_captum() {
    let c = case();
    let steps = c.values("parameters.ig_steps")[0] as usize;
    for (name, baseline, quadrature, scale) in [
        ("ig_gauss_legendre", Baseline::Zeros, Quadrature::GaussLegendre, 1.0),
        (
            "ig_trapezoid",
            Baseline::Image(c.tensors["baseline.image"].clone()),
            Quadrature::Trapezoid,
            (steps - 1) as f64 / steps as f64,
        ),
    ] {
        // Our rule is Captum's, up to Captum's roundings: its weights before the float32 cast,
        // its trapezoid nodes from `torch.linspace` (float32).
        let (alphas, weights) = quadrature.nodes(steps).unwrap();
        let (captum_alphas, captum_weights) =
            (c.values(&format!("nodes.{name}")), c.values(&format!("weights64.{name}")));
        let node_tolerance = if quadrature == Quadrature::Trapezoid { 1e-7 } else { 1e-15 };
        for (a, b) in alphas.iter().zip(&captum_alphas) {
            assert!((a - b).abs() <= node_tolerance, "{name}: node {a} vs Captum's {b}");
        }
        for (w, b) in weights.iter().zip(&captum_weights) {
            assert!((w * scale - b).abs() < 1e-15, "{name}: weight {w}·{scale} vs Captum's {b}");
        }
        // With the weights Captum integrates with, the relevance is Captum's.
        let ig =
            IntegratedGradients::with_nodes(baseline, captum_alphas, c.values(&format!("weights.{name}")))
                .unwrap();
        let ours = ig.prepare(&c.model).unwrap().explain(c.input(), c.class).unwrap();
        c.expect(name, &ours.attribution.relevance);
        // Captum's convergence delta is our completeness residual.
        for (ours, captum) in ours.residuals(c.class).unwrap().iter().zip(&c.values(&format!("delta.{name}")))
        {
            assert!(
                (ours - captum).abs() < 1e-9 * (1.0 + captum.abs()),
                "{name}: residual {ours} vs Captum's delta {captum}"
            );
        }
    }
}

#[test]
fn occlusion_equals_captum_also_where_the_last_window_sticks_out() {
    let c = case();
    for (name, patch, stride, fill) in [("occlusion_16_12", 16, 12, 0.0), ("occlusion_10_7", 10, 7, 0.25)] {
        assert_eq!(
            c.values(&format!("parameters.{name}")),
            vec![patch as f64, stride as f64, fill],
            "{name}"
        );
        let occlusion = Occlusion::new(patch, stride, fill).unwrap();
        let ours = occlusion.prepare(&c.model).unwrap().attribute(c.input(), c.class).unwrap();
        c.expect(name, &ours.relevance);
    }
}
