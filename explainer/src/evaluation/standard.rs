//! The lists the evaluation runs: its metrics and its methods. Adding a metric or a method is
//! one line here (and its own file).

use super::cascading::CascadingRandomisation;
use super::flipping_metric::Flipping;
use super::mass_accuracy::MassAccuracy;
use super::method::Method;
use super::metric::Metric;
use super::pixel_flipping::{PixelFlipping, Replacement};
use super::pointing_game::PointingGame;
use super::random_baseline::RandomRelevance;
use super::rank_accuracy::RankAccuracy;
use super::shift_invariance::ShiftInvariance;
use crate::attribution::{Baseline, IntegratedGradients, Lrp, Occlusion, Quadrature, SmoothGrad};
use crate::composite::Preset;
use crate::error::Result;
use crate::model::Vgg;

/// How the model-based metrics are set up.
#[derive(Debug, Clone)]
pub struct MetricSettings {
    /// Pixel flipping's steps and share of pixels.
    pub flipping: PixelFlipping,
    /// What a flipped pixel becomes.
    pub replacement: Replacement,
    /// The seed of the random pixel orders and of the randomised network.
    pub random_seed: u64,
    /// The constant added to every input value by the shift-invariance test.
    pub shift: f64,
}

/// Every metric, in table order: relevance mass and rank accuracy, the pointing game, pixel
/// flipping, cascading randomisation (against `Vgg::random` with the random seed) and input-
/// shift invariance, for `model`.
pub fn standard_metrics(model: &Vgg, settings: &MetricSettings) -> Result<Vec<Box<dyn Metric>>> {
    let random = Vgg::random(model.config(), settings.random_seed, model.device(), model.dtype())?;
    let size = model.config().input_size();
    let channels = model.config().in_channels;
    Ok(vec![
        Box::new(MassAccuracy),
        Box::new(RankAccuracy),
        Box::new(PointingGame),
        Box::new(super::sparseness::Sparseness),
        Box::new(Flipping::new(
            settings.flipping,
            settings.replacement.clone(),
            settings.random_seed,
            size * size,
        )),
        Box::new(CascadingRandomisation::new(model, &random)?),
        Box::new(ShiftInvariance::new(model, vec![settings.shift; channels])?),
    ])
}

/// How the costlier methods are set up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodSettings {
    /// SmoothGrad's noisy copies per image.
    pub smooth_grad_samples: usize,
    /// SmoothGrad's noise level (share of the input range).
    pub noise_level: f64,
    /// Integrated Gradients' nodes (trapezoid rule).
    pub ig_steps: usize,
    /// Occlusion's patch and stride in pixels.
    pub occlusion: (usize, usize),
    /// The seed of SmoothGrad's noise and of the random baseline.
    pub seed: u64,
}

/// Every method, in table order: Gradient, Gradient×Input, SmoothGrad, Integrated Gradients
/// (zero baseline), Occlusion (filled with 0, the mean colour in the normalised space), LRP
/// with the sheet's composite and zennit's `epsilon_gamma_box`, `epsilon_plus` and
/// `epsilon_alpha2_beta1_flat` (their default parameters), and the random baseline.
pub fn standard_methods(settings: &MethodSettings) -> Result<Vec<Method>> {
    let lrp = |preset: Preset| -> Result<Method> {
        Ok(Method::lrp(&format!("LRP {}", preset.name()), Lrp::new(preset.composite(&Default::default())?)))
    };
    let (patch, stride) = settings.occlusion;
    Ok(vec![
        Method::Gradient,
        Method::GradientTimesInput,
        Method::other(
            "SmoothGrad",
            SmoothGrad::new(settings.noise_level, settings.smooth_grad_samples, settings.seed)?,
        ),
        Method::other(
            "Integrated Gradients",
            IntegratedGradients::new(Baseline::Zeros, settings.ig_steps, Quadrature::Trapezoid)?,
        ),
        Method::other("Occlusion", Occlusion::new(patch, stride, 0.0)?),
        lrp(Preset::Sheet)?,
        lrp(Preset::EpsilonGammaBox)?,
        lrp(Preset::EpsilonPlus)?,
        lrp(Preset::EpsilonAlpha2Beta1Flat)?,
        Method::Random(RandomRelevance { seed: settings.seed }),
    ])
}
