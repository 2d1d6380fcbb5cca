//! Training a VGG-style network on the synthetic scenes of [`crate::scenes`].
//!
//! The network is the same [`Vgg`] the explainer runs, built from `candle_nn::Var`s so that
//! candle's autograd reaches every weight. Its forward pass for training
//! ([`forward_differentiable`]) differs from [`Network::forward`](crate::Network::forward) only at the max-pools: those use
//! [`MaxPool2d::forward_autograd`](crate::model::MaxPool2d::forward_autograd), whose backward
//! routes each gradient to its maximum (candle 0.11.1's own max-pool backward scales it by 1/4
//! instead; [`Layer::forward`]'s pool records no graph at all). Dropout is not used: every
//! batch is a fresh set of scenes, so the model never sees a scene twice and cannot memorise.
//!
//! Training starts on clean scenes and adds the clutter step by step (a curriculum,
//! [`TrainingConfig::curriculum`]); by default the last three quarters of the steps see
//! scenes exactly as [`crate::scenes::generate_scene`] draws them. The last layer starts at
//! zero and the biases at zero, so the first steps do not fight large random logits.
//! [`TrainingConfig::default`] is the run that made the shipped model
//! (`explainer/models/README.md`).
//!
//! The scenes of a batch are drawn in parallel (each is a function of its seed alone); the
//! arithmetic of a step runs on candle's threads.
//!
//! Scene seeds: step `t` trains on seeds `first_scene_seed + t·batch ..` from
//! [`TRAIN_SEEDS`]; the accuracy on each batch is measured before the step learns from it,
//! so the running accuracy is already an estimate on unseen scenes. Given the same
//! [`TrainingConfig`] (and the same number of threads) training gives the same weights.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::vgg::Params;
use crate::model::{Layer, Vgg, VggConfig};
use crate::scenes::{Scene, TRAIN_SEEDS, generate_scene_with_clutter, generate_scenes, scenes_to_input};

/// What and how long to train. The default is the shipped model's run: 10 000 steps of 16
/// scenes, AdamW at a peak learning rate of 10⁻³ after 100 warm-up steps, clean scenes for the
/// first 5 % of the steps and full clutter from 25 % on.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Scenes per step.
    pub batch_size: usize,
    /// Peak learning rate of AdamW, reached after [`TrainingConfig::warmup`] steps and then
    /// decayed to zero on a half cosine.
    pub learning_rate: f64,
    /// Steps of linear warm-up.
    pub warmup: usize,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Seed of the first training scene; the run uses `steps · batch_size` consecutive seeds,
    /// all in [`TRAIN_SEEDS`].
    pub first_scene_seed: u64,
    /// Curriculum: the fraction of the steps that see scenes without clutter (no strokes, no
    /// noise), and the fraction by which the clutter has risen linearly to full; after it,
    /// every scene is as [`crate::scenes::generate_scene`] draws it. Without this, a plain
    /// VGG (no batch normalisation) sits at chance for thousands of cluttered scenes.
    pub curriculum: (f64, f64),
    /// Label smoothing ε in `[0, 1)`: the target puts `1 − ε` on the label and spreads `ε`
    /// evenly over all classes ([`smoothed_cross_entropy`]); 0 is plain cross-entropy.
    pub label_smoothing: f64,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            steps: 10_000,
            batch_size: 16,
            learning_rate: 1e-3,
            warmup: 100,
            weight_decay: 1e-4,
            seed: 0,
            first_scene_seed: TRAIN_SEEDS.start,
            curriculum: (0.05, 0.25),
            label_smoothing: 0.0,
        }
    }
}

impl TrainingConfig {
    /// The seeds of all training scenes of this run.
    pub fn scene_seeds(&self) -> std::ops::Range<u64> {
        self.first_scene_seed..self.first_scene_seed + (self.steps * self.batch_size) as u64
    }

    /// The learning rate at step `step` (0-based): linear warm-up, then a half cosine to 0.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.learning_rate * (step + 1) as f64 / self.warmup as f64;
        }
        let decay_steps = self.steps.saturating_sub(self.warmup).max(1);
        let progress = (step - self.warmup) as f64 / decay_steps as f64;
        0.5 * self.learning_rate * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    /// The clutter of the scenes of step `step`: 0 during the first `curriculum.0` of the
    /// steps, then rising linearly to 1 at `curriculum.1`.
    pub fn clutter_at(&self, step: usize) -> f32 {
        let progress = step as f64 / self.steps as f64;
        let (clean, full) = self.curriculum;
        if progress >= full {
            1.0
        } else if progress < clean {
            0.0
        } else {
            ((progress - clean) / (full - clean)) as f32
        }
    }

    fn validate(&self) -> Result<()> {
        let invalid =
            |name, value: String, why: &str| Err(Error::InvalidParameter { name, value, why: why.into() });
        if self.steps == 0 || self.batch_size == 0 {
            return invalid(
                "steps × batch size",
                format!("{} × {}", self.steps, self.batch_size),
                "both must be positive",
            );
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid("learning rate", self.learning_rate.to_string(), "must be finite and positive");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid("weight decay", self.weight_decay.to_string(), "must be finite and non-negative");
        }
        let (clean, full) = self.curriculum;
        if !(0.0..=1.0).contains(&clean) || !(clean..=1.0).contains(&full) {
            return invalid("curriculum", format!("{:?}", self.curriculum), "needs 0 ≤ clean ≤ full ≤ 1");
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return invalid("label smoothing", self.label_smoothing.to_string(), "needs 0 ≤ ε < 1");
        }
        let seeds = self.scene_seeds();
        if !TRAIN_SEEDS.contains(&seeds.start) || seeds.end > TRAIN_SEEDS.end {
            return invalid(
                "scene seeds",
                format!("{seeds:?}"),
                &format!("training scenes must come from {TRAIN_SEEDS:?}, disjoint from the test seeds"),
            );
        }
        Ok(())
    }
}

/// What one step reports: the loss and accuracy on its batch (measured before the update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The step, 0-based.
    pub step: usize,
    /// Mean cross-entropy on the batch.
    pub loss: f64,
    /// Fraction of the batch classified correctly.
    pub accuracy: f64,
    /// The learning rate the step used.
    pub learning_rate: f64,
    /// The clutter of the step's scenes (1 = as generated for evaluation).
    pub clutter: f32,
}

/// A trained network and how training went.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The network (inference tensors, detached from the optimiser).
    pub model: Vgg,
    /// Mean accuracy over the last tenth of the steps' batches (scenes not yet learned from).
    pub final_train_accuracy: f64,
    /// Mean loss over the last tenth of the steps.
    pub final_loss: f64,
}

/// A network of `config` with random weights ([`Vgg::random`] with `seed`) whose parameters
/// are [`Var`]s, and those `Var`s in layer order (weight, bias, weight, …).
pub fn trainable(config: &VggConfig, seed: u64, device: &Device, dtype: DType) -> Result<(Vgg, Vec<Var>)> {
    let initial = Vgg::random(config, seed, device, dtype)?.without_biases()?;
    with_vars(&initial, true)
}

/// A copy of `initial` whose parameters are [`Var`]s (to continue training it), and those
/// `Var`s in layer order.
pub fn trainable_from(initial: &Vgg) -> Result<(Vgg, Vec<Var>)> {
    with_vars(initial, false)
}

/// `initial`'s parameters as [`Var`]s, the last layer's weight zeroed if `zero_last`.
fn with_vars(initial: &Vgg, zero_last: bool) -> Result<(Vgg, Vec<Var>)> {
    let (config, device, dtype) = (initial.config(), initial.device(), initial.dtype());
    let mut affine = initial.layers().iter().filter_map(Layer::affine);
    let last = config.features.len() + config.hidden.len();
    let mut vars = Vec::new();
    let model = Vgg::from_params(
        config,
        |index, _| {
            let layer = affine
                .next()
                .ok_or_else(|| candle_core::Error::Msg("fewer layers than parameters".into()))?;
            let weight = if zero_last && index == last {
                layer.weight().zeros_like()?
            } else {
                layer.weight().detach().copy()?
            };
            let weight = Var::from_tensor(&weight)?;
            let bias = Var::from_tensor(&layer.bias().detach().copy()?)?;
            let params = Params { weight: weight.as_tensor().clone(), bias: bias.as_tensor().clone() };
            vars.extend([weight, bias]);
            Ok(params)
        },
        device,
        dtype,
    )?;
    Ok((model, vars))
}

// ANCHOR: forward_differentiable
/// The logits of `model` for `input`, recorded for candle's autograd: every layer as in
/// [`Network::forward`](crate::Network::forward), except the max-pools, which route their gradient to the maximum
/// ([`crate::model::RoutedMaxPool`]).
pub fn forward_differentiable(model: &Vgg, input: &Tensor) -> Result<Tensor> {
    model.check_input(input)?;
    let mut h = input.clone();
    for layer in model.layers() {
        h = match layer {
            Layer::MaxPool2d(pool) => pool.forward_autograd(&h)?,
            other => other.forward(&h)?,
        };
    }
    Ok(h)
}
// ANCHOR_END: forward_differentiable

/// The class labels of `scenes` as a `u32` tensor `(N)`.
fn labels(scenes: &[Scene], device: &Device) -> Result<Tensor> {
    let classes: Vec<u32> = scenes.iter().map(|s| s.class as u32).collect();
    Ok(Tensor::from_vec(classes, scenes.len(), device)?)
}

/// Number of rows whose largest logit is the label's.
fn correct(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let predicted = logits.argmax(D::Minus1)?;
    Ok(predicted.eq(labels)?.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()? as usize)
}

/// Mean cross-entropy of `logits` `(N, K)` against the labels smoothed by `epsilon`: with
/// `log p = log_softmax(logits)`,
/// `L = −(1/N) Σ_n [(1 − ε) log p_{n, y_n} + (ε/K) Σ_k log p_{n,k}]`
/// (Szegedy et al. 2016). At `ε = 0` this is [`candle_nn::loss::cross_entropy`].
pub fn smoothed_cross_entropy(logits: &Tensor, labels: &Tensor, epsilon: f64) -> Result<Tensor> {
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let (n, k) = log_p.dims2()?;
    let on_label = log_p.gather(&labels.unsqueeze(1)?, 1)?.sum_all()?;
    let everywhere = log_p.sum_all()?;
    let total = ((on_label * (1.0 - epsilon))? + (everywhere * (epsilon / k as f64))?)?;
    Ok((total * (-1.0 / n as f64))?)
}

/// The scenes of seeds `first..first + count` at `clutter`, drawn in parallel (each is a pure
/// function of its seed, so the batch does not depend on the number of threads).
fn training_batch(first: u64, count: usize, clutter: f32) -> Vec<Scene> {
    (first..first + count as u64)
        .into_par_iter()
        .map(|seed| generate_scene_with_clutter(seed, clutter))
        .collect()
}

/// Trains a network of `config` on the scenes of [`TRAIN_SEEDS`] with AdamW and cross-entropy,
/// calling `report` after every step.
pub fn train(
    config: &VggConfig,
    training: &TrainingConfig,
    device: &Device,
    report: impl FnMut(StepReport),
) -> Result<Trained> {
    training.validate()?;
    let (model, vars) = trainable(config, training.seed, device, DType::F32)?;
    run(model, vars, training, report)
}

/// Continues training `initial` (float32) as [`train`] does, from its weights instead of random
/// ones ([`TrainingConfig::seed`] is not used).
pub fn fine_tune(
    initial: &Vgg,
    training: &TrainingConfig,
    report: impl FnMut(StepReport),
) -> Result<Trained> {
    training.validate()?;
    if initial.dtype() != DType::F32 {
        return Err(Error::InvalidParameter {
            name: "initial model",
            value: format!("{:?}", initial.dtype()),
            why: "training runs in float32".into(),
        });
    }
    let (model, vars) = trainable_from(initial)?;
    run(model, vars, training, report)
}

/// The training loop: AdamW on `vars` (the parameters of `model`), one fresh batch per step.
fn run(
    model: Vgg,
    vars: Vec<Var>,
    training: &TrainingConfig,
    mut report: impl FnMut(StepReport),
) -> Result<Trained> {
    let device = &model.device().clone();
    let params = ParamsAdamW {
        lr: training.learning_rate_at(0),
        weight_decay: training.weight_decay,
        ..ParamsAdamW::default()
    };
    let mut optimiser = AdamW::new(vars, params)?;
    let tail = (training.steps / 10).max(1);
    let (mut tail_accuracy, mut tail_loss) = (0.0, 0.0);
    for step in 0..training.steps {
        let first = training.first_scene_seed + (step * training.batch_size) as u64;
        let clutter = training.clutter_at(step);
        let scenes = training_batch(first, training.batch_size, clutter);
        let input = scenes_to_input(&scenes, device, DType::F32)?;
        let labels = labels(&scenes, device)?;
        let learning_rate = training.learning_rate_at(step);
        optimiser.set_learning_rate(learning_rate);
        let logits = forward_differentiable(&model, &input)?;
        let loss = smoothed_cross_entropy(&logits, &labels, training.label_smoothing)?;
        let accuracy = correct(&logits, &labels)? as f64 / training.batch_size as f64;
        let loss_value = f64::from(loss.to_scalar::<f32>()?);
        if !loss_value.is_finite() {
            return Err(Error::InvalidParameter {
                name: "learning rate",
                value: learning_rate.to_string(),
                why: format!("training diverged at step {step} (loss {loss_value})"),
            });
        }
        optimiser.backward_step(&loss)?;
        if step + tail >= training.steps {
            tail_accuracy += accuracy / tail as f64;
            tail_loss += loss_value / tail as f64;
        }
        report(StepReport { step, loss: loss_value, accuracy, learning_rate, clutter });
    }
    Ok(Trained { model: detached(&model)?, final_train_accuracy: tail_accuracy, final_loss: tail_loss })
}

/// The same network with plain (non-`Var`) copies of its parameters.
fn detached(model: &Vgg) -> Result<Vgg> {
    let mut affine = model.layers().iter().filter_map(Layer::affine);
    Vgg::from_params(
        model.config(),
        |_, _| {
            let layer = affine
                .next()
                .ok_or_else(|| candle_core::Error::Msg("fewer layers than parameters".into()))?;
            Ok(Params { weight: layer.weight().detach().copy()?, bias: layer.bias().detach().copy()? })
        },
        model.device(),
        model.dtype(),
    )
}

/// The fraction of the scenes `first_seed..first_seed + count` that `model` classifies
/// correctly, in batches of `batch_size`.
pub fn accuracy(model: &Vgg, first_seed: u64, count: usize, batch_size: usize) -> Result<f64> {
    if count == 0 || batch_size == 0 {
        return Err(Error::InvalidParameter {
            name: "count × batch size",
            value: format!("{count} × {batch_size}"),
            why: "both must be positive".into(),
        });
    }
    let mut right = 0;
    let mut done = 0;
    while done < count {
        let n = batch_size.min(count - done);
        let scenes = generate_scenes(first_seed + done as u64, n);
        let input = scenes_to_input(&scenes, model.device(), model.dtype())?;
        right += correct(&model.forward(&input)?, &labels(&scenes, model.device())?)?;
        done += n;
    }
    Ok(right as f64 / count as f64)
}

/// The parameters of `model` under torchvision's names: `features.{i}.weight` / `.bias` for
/// the convolutions (`i` the layer's index in the `features` `nn.Sequential`, counting ReLUs
/// and pools), `classifier.{j}.weight` / `.bias` for the dense layers (`j` its index in
/// `classifier`), as [`Vgg::load`] reads them.
pub fn state_dict(model: &Vgg) -> Result<HashMap<String, Tensor>> {
    let layers = model.layers();
    let flatten = layers
        .iter()
        .position(|l| matches!(l, Layer::Flatten))
        .ok_or_else(|| candle_core::Error::Msg("a VGG without a flatten layer".into()))?;
    let mut tensors = HashMap::new();
    for (i, layer) in layers.iter().enumerate() {
        let Some(affine) = layer.affine() else { continue };
        let prefix =
            if i < flatten { format!("features.{i}") } else { format!("classifier.{}", i - flatten - 1) };
        tensors.insert(format!("{prefix}.weight"), affine.weight().detach().contiguous()?);
        tensors.insert(format!("{prefix}.bias"), affine.bias().detach().contiguous()?);
    }
    Ok(tensors)
}

/// Writes the parameters of `model` to a `.safetensors` file under torchvision's names
/// ([`state_dict`]).
pub fn save_safetensors(model: &Vgg, path: &Path) -> Result<()> {
    candle_core::safetensors::save(&state_dict(model)?, path)
        .map_err(|e| Error::WeightsFile { path: path.to_owned(), why: format!("cannot write it: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A network for 64×64 scenes with few channels: four blocks, one convolution each.
    fn tiny() -> VggConfig {
        VggConfig::from_cfg("tiny", &[4, 0, 4, 0, 8, 0, 8, 0], 4, vec![16], 6)
    }

    /// The gradient that training follows is the true gradient: the derivative of the loss
    /// with respect to a weight of the first convolution (behind four max-pools) matches a
    /// central finite difference.
    #[test]
    fn gradient_reaches_the_first_convolution_through_the_pools() {
        const FINITE_DIFFERENCE: f64 = 1e-6;
        const STEP: f64 = 1e-5;
        let d = Device::Cpu;
        let (model, vars) = trainable(&tiny(), 5, &d, DType::F64).unwrap();
        // The last layer starts at zero, which stops every gradient below it: give it weights.
        let random = Vgg::random(&tiny(), 5, &d, DType::F64).unwrap();
        let last = random.layers().iter().filter_map(Layer::affine).next_back().unwrap();
        vars[vars.len() - 2].set(last.weight()).unwrap();
        let scenes = generate_scenes(0, 8);
        let x = scenes_to_input(&scenes, &d, DType::F64).unwrap();
        let y = labels(&scenes, &d).unwrap();
        let loss = |m: &Vgg| {
            let logits = forward_differentiable(m, &x).unwrap();
            candle_nn::loss::cross_entropy(&logits, &y).unwrap()
        };
        let grads = loss(&model).backward().unwrap();
        let weight = &vars[0];
        let analytic: Vec<f64> =
            grads.get(weight.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(analytic.iter().any(|g| *g != 0.0), "no gradient reached convolution 1");
        let original = weight.as_tensor().detach().copy().unwrap();
        let base: Vec<f64> = original.flatten_all().unwrap().to_vec1().unwrap();
        // The weights with the largest gradients, where the relative check is meaningful.
        let mut order: Vec<usize> = (0..analytic.len()).collect();
        order.sort_by(|&a, &b| analytic[b].abs().total_cmp(&analytic[a].abs()));
        for &k in &order[..4] {
            let at = |delta: f64| {
                let mut w = base.clone();
                w[k] += delta;
                weight.set(&Tensor::from_vec(w, original.shape(), &d).unwrap()).unwrap();
                loss(&model).to_scalar::<f64>().unwrap()
            };
            let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
            approx::assert_relative_eq!(numeric, analytic[k], max_relative = FINITE_DIFFERENCE);
        }
        weight.set(&original).unwrap();
    }

    #[test]
    fn training_is_deterministic_and_learns() {
        let training = TrainingConfig { steps: 6, batch_size: 8, warmup: 2, ..TrainingConfig::default() };
        let run = || {
            let mut losses = Vec::new();
            let trained = train(&tiny(), &training, &Device::Cpu, |r| losses.push(r.loss)).unwrap();
            (state_dict(&trained.model).unwrap(), losses)
        };
        let (a, losses_a) = run();
        let (b, losses_b) = run();
        assert_eq!(losses_a, losses_b);
        assert_eq!(losses_a.len(), 6);
        for (name, t) in &a {
            let (u, v): (Vec<f32>, Vec<f32>) = (
                t.flatten_all().unwrap().to_vec1().unwrap(),
                b[name].flatten_all().unwrap().to_vec1().unwrap(),
            );
            assert_eq!(u, v, "{name}");
        }
        let initial = state_dict(&trainable(&tiny(), 0, &Device::Cpu, DType::F32).unwrap().0).unwrap();
        let w = |m: &HashMap<String, Tensor>| {
            m["features.0.weight"].flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        assert_ne!(w(&a), w(&initial), "training changed nothing");
    }

    #[test]
    fn saved_weights_load_with_torchvision_names() {
        let (model, _) = trainable(&VggConfig::shapes(), 1, &Device::Cpu, DType::F32).unwrap();
        let names: std::collections::BTreeSet<String> = state_dict(&model).unwrap().into_keys().collect();
        let want: std::collections::BTreeSet<String> = [0, 3, 6, 9, 12]
            .iter()
            .map(|i| format!("features.{i}"))
            .chain(["classifier.0".into(), "classifier.3".into()])
            .flat_map(|p| [format!("{p}.weight"), format!("{p}.bias")])
            .collect();
        assert_eq!(names, want);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shapes.safetensors");
        save_safetensors(&model, &path).unwrap();
        let loaded = Vgg::load(&path, &VggConfig::shapes(), &Device::Cpu, DType::F32).unwrap();
        let x = scenes_to_input(&generate_scenes(0, 2), &Device::Cpu, DType::F32).unwrap();
        let (a, b) = (model.forward(&x).unwrap(), loaded.forward(&x).unwrap());
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(diff, 0.0);
    }

    /// The smoothed loss against a direct computation in `f64` from the softmax, and at ε = 0
    /// against candle's own cross-entropy.
    #[test]
    fn smoothed_cross_entropy_is_the_mixture_of_label_and_uniform_targets() {
        let d = Device::Cpu;
        let rows: [[f64; 3]; 2] = [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]];
        let y = [2u32, 1];
        let logits = Tensor::from_vec(rows.concat(), (2, 3), &d).unwrap();
        let labels = Tensor::from_vec(y.to_vec(), 2, &d).unwrap();
        for epsilon in [0.0, 0.1, 0.5] {
            let mut want = 0.0;
            for (row, &label) in rows.iter().zip(&y) {
                let z: f64 = row.iter().map(|v| v.exp()).sum();
                let log_p: Vec<f64> = row.iter().map(|v| v - z.ln()).collect();
                let target = |k: usize| epsilon / 3.0 + if k == label as usize { 1.0 - epsilon } else { 0.0 };
                want -= (0..3).map(|k| target(k) * log_p[k]).sum::<f64>() / 2.0;
            }
            let got = smoothed_cross_entropy(&logits, &labels, epsilon).unwrap().to_scalar::<f64>().unwrap();
            approx::assert_relative_eq!(got, want, max_relative = 1e-12);
        }
        let plain = candle_nn::loss::cross_entropy(&logits, &labels).unwrap().to_scalar::<f64>().unwrap();
        let ours = smoothed_cross_entropy(&logits, &labels, 0.0).unwrap().to_scalar::<f64>().unwrap();
        approx::assert_relative_eq!(ours, plain, max_relative = 1e-12);
    }

    #[test]
    fn bad_training_configs_are_refused() {
        let bad = [
            TrainingConfig { steps: 0, ..TrainingConfig::default() },
            TrainingConfig { learning_rate: -1.0, ..TrainingConfig::default() },
            TrainingConfig { first_scene_seed: TRAIN_SEEDS.end - 10, ..TrainingConfig::default() },
            TrainingConfig { label_smoothing: 1.0, ..TrainingConfig::default() },
        ];
        for config in bad {
            let err = train(&tiny(), &config, &Device::Cpu, |_| {}).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter { .. }), "{err}");
        }
    }

    #[test]
    fn curriculum_starts_clean_and_ends_with_full_clutter() {
        let t = TrainingConfig { steps: 100, curriculum: (0.2, 0.6), ..TrainingConfig::default() };
        assert_eq!(t.clutter_at(0), 0.0);
        assert_eq!(t.clutter_at(19), 0.0);
        assert_eq!(t.clutter_at(40), 0.5);
        assert_eq!(t.clutter_at(60), 1.0);
        assert_eq!(t.clutter_at(99), 1.0);
    }

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let t = TrainingConfig { steps: 110, warmup: 10, learning_rate: 1.0, ..TrainingConfig::default() };
        assert_eq!(t.learning_rate_at(0), 0.1);
        assert_eq!(t.learning_rate_at(9), 1.0);
        assert_eq!(t.learning_rate_at(10), 1.0);
        assert!((t.learning_rate_at(60) - 0.5).abs() < 1e-12);
        assert!(t.learning_rate_at(109) < 1e-3);
    }
}
