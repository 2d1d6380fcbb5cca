//! torchvision's ResNets as [`Network`]s, and their canonization for LRP.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use kernels::{AdaptiveAvgPool2d, MaxPool2d};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::batch_norm::BatchNorm2d;
use super::layer::{Affine, Conv2d, Layer, Linear};
use super::network::{InputSpec, Network, NetworkBuilder};
use super::resnet_config::{Op, Planned, ResNetConfig};
use super::weights::{check_state_dict, read_state_dict};
use crate::error::{Error, Result};

/// A torchvision ResNet: a [`Network`] built from a [`ResNetConfig`] with torchvision's module
/// names, its residual additions as [`Layer::Sum`]. Dereferences to its [`Network`].
///
/// As loaded, every convolution is followed by its BatchNorm. LRP's rules assume that a
/// convolution's output is what the next layer sees; [`ResNet::canonized`] folds each
/// BatchNorm into the convolution before it (zennit's canonization).
#[derive(Debug, Clone)]
pub struct ResNet {
    config: ResNetConfig,
    network: Network,
}

impl std::ops::Deref for ResNet {
    type Target = Network;

    fn deref(&self) -> &Network {
        &self.network
    }
}

/// How [`ResNet::canonized`] folds a BatchNorm `y = s·x + t` into the convolution `x = W⋆a + b`
/// before it: `W' = s·W` (per output channel), `b' = s·b + t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Canonization {
    /// The BatchNorm is removed: the canonized network computes the same function (to rounding).
    #[default]
    Exact,
    /// As zennit 0.5.1's `SequentialMergeBatchNorm`: the BatchNorm stays with γ = 1, β = 0,
    /// μ = 0, σ² = 1 and its ε, so it computes `x/√(1 + ε)` (not `x`), with the Pass rule.
    /// Equal to zennit's relevance; its logits differ from the original's by about
    /// `depth · ε/2` relative.
    Zennit,
}

/// The parameters of one planned layer.
pub(crate) enum Parameters {
    /// A convolution's weight (torchvision's ResNets have no convolution biases).
    Conv(Tensor),
    /// γ, β, μ, σ².
    BatchNorm([Tensor; 4]),
    /// A dense layer's weight and bias.
    Linear(Tensor, Tensor),
    /// None.
    None,
}

impl ResNet {
    /// Builds `config`'s network, taking each layer's parameters from `source`.
    pub(crate) fn from_source(
        config: &ResNetConfig,
        mut source: impl FnMut(&Planned) -> Result<Parameters>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        validate(config)?;
        let mut net = NetworkBuilder::new();
        for planned in config.plan() {
            let layer = match (&planned.op, source(&planned)?) {
                (Op::Conv(shape, conv), Parameters::Conv(weight)) => {
                    let bias = Tensor::zeros(shape[0], dtype, device)?;
                    Layer::Conv2d(Conv2d::with_config(weight, bias, *conv)?)
                }
                (Op::BatchNorm(_), Parameters::BatchNorm([gamma, beta, mean, var])) => {
                    Layer::BatchNorm2d(BatchNorm2d::new(gamma, beta, mean, var, config.eps)?)
                }
                (Op::Linear(_), Parameters::Linear(weight, bias)) => {
                    Layer::Linear(Linear::new(weight, bias)?)
                }
                (Op::Relu, _) => Layer::Relu,
                (Op::MaxPool { kernel, stride, padding }, _) => {
                    Layer::MaxPool2d(MaxPool2d::new(*kernel, *stride, *padding)?)
                }
                (Op::Sum, _) => Layer::Sum,
                (Op::AvgPool, _) => Layer::AvgPool2d(AdaptiveAvgPool2d::new(1, 1)?),
                (Op::Flatten, _) => Layer::Flatten,
                (op, _) => {
                    return Err(Error::InvalidParameter {
                        name: "parameters",
                        value: planned.name.clone(),
                        why: format!("the source gave parameters that do not fit {op:?}"),
                    });
                }
            };
            net.push_reading(layer, planned.name, planned.reads);
        }
        let network = net.build(&config.name, input_spec(config), config.classes, device, dtype)?;
        Ok(Self { config: config.clone(), network })
    }

    /// A network with random weights, reproducible from `seed` (ChaCha8): convolutions He-normal
    /// `N(0, 2/fan_in)`; each BatchNorm `γ ~ ±U(0.5, 1.5)` (negative with probability 1/4),
    /// `β ~ U(−0.3, 0.3)`, `μ ~ N(0, 0.3²)`, `σ² ~ U(0.5, 2)`; `fc` `N(0, 1/fan_in)`, bias
    /// `U(−0.1, 0.1)`.
    pub fn random(config: &ResNetConfig, seed: u64, device: &Device, dtype: DType) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let tensor = |values: Vec<f64>, shape: &[usize]| -> Result<Tensor> {
            Ok(Tensor::from_vec(values, shape, device)?.to_dtype(dtype)?)
        };
        Self::from_source(
            config,
            |planned| {
                Ok(match &planned.op {
                    Op::Conv(shape, _) => {
                        let fan_in = shape[1] * shape[2] * shape[3];
                        let n = shape.iter().product();
                        Parameters::Conv(tensor(normal(&mut rng, n, (2.0 / fan_in as f64).sqrt()), shape)?)
                    }
                    Op::BatchNorm(c) => {
                        let c = *c;
                        let gamma = (0..c)
                            .map(|_| {
                                let magnitude = rng.random_range(0.5..1.5);
                                if rng.random::<f64>() < 0.25 { -magnitude } else { magnitude }
                            })
                            .collect();
                        let beta = (0..c).map(|_| rng.random_range(-0.3..0.3)).collect();
                        let mean = normal(&mut rng, c, 0.3);
                        let var = (0..c).map(|_| rng.random_range(0.5..2.0)).collect();
                        Parameters::BatchNorm([
                            tensor(gamma, &[c])?,
                            tensor(beta, &[c])?,
                            tensor(mean, &[c])?,
                            tensor(var, &[c])?,
                        ])
                    }
                    Op::Linear([o, i]) => {
                        let weight = normal(&mut rng, o * i, (1.0 / *i as f64).sqrt());
                        let bias = (0..*o).map(|_| rng.random_range(-0.1..0.1)).collect();
                        Parameters::Linear(tensor(weight, &[*o, *i])?, tensor(bias, &[*o])?)
                    }
                    _ => Parameters::None,
                })
            },
            device,
            dtype,
        )
    }

    /// Loads `config`'s network from a `.pth` (zip or legacy) or `.safetensors` file with
    /// torchvision's state-dict names (which timm's `resnet*.tv_in1k` share), converting the
    /// weights to `dtype`. Fails with [`Error::WeightsMismatch`] listing every missing,
    /// unexpected and mis-shaped tensor, and with [`Error::InvalidWeight`] naming a tensor that is
    /// not floating point or holds a NaN or ∞. The network is not canonized.
    pub fn load(path: &Path, config: &ResNetConfig, device: &Device, dtype: DType) -> Result<Self> {
        let tensors = read_state_dict(path, device)?;
        Self::from_state_dict(tensors, config, device, dtype).map_err(|e| e.with_path(path))
    }

    /// Builds `config`'s network from a state dict with torchvision's names (see [`ResNet::load`]).
    /// BatchNorm's `num_batches_tracked` (an integer counter) is accepted and ignored.
    pub fn from_state_dict(
        mut tensors: HashMap<String, Tensor>,
        config: &ResNetConfig,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        let expected = expected_tensors(config);
        let model = format!("{} (torchvision names)", config.name);
        check_state_dict(&tensors, &expected, |key| is_batch_counter(key, config), model)?;
        Self::from_source(
            config,
            |planned| {
                let mut take = |suffix: &str| -> Result<Tensor> {
                    let key = format!("{}.{suffix}", planned.name);
                    let t = tensors.remove(&key).ok_or_else(|| Error::InvalidParameter {
                        name: "weights",
                        value: key.clone(),
                        why: "is read twice".into(),
                    })?;
                    Ok(t.to_dtype(dtype)?)
                };
                Ok(match planned.op {
                    Op::Conv(..) => Parameters::Conv(take("weight")?),
                    Op::BatchNorm(_) => Parameters::BatchNorm([
                        take("weight")?,
                        take("bias")?,
                        take("running_mean")?,
                        take("running_var")?,
                    ]),
                    Op::Linear(_) => Parameters::Linear(take("weight")?, take("bias")?),
                    _ => Parameters::None,
                })
            },
            device,
            dtype,
        )
    }

    /// The configuration.
    pub fn config(&self) -> &ResNetConfig {
        &self.config
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The network with every BatchNorm that directly follows a convolution (and is that
    /// convolution's only reader) folded into it: with the BatchNorm `y = s·x + t` and the
    /// convolution `x = W⋆a + b`, the folded convolution is `(s·W)⋆a + (s·b + t) = y`. How the
    /// BatchNorm itself is left is `how` ([`Canonization`]). A BatchNorm elsewhere stays.
    pub fn canonized(&self, how: Canonization) -> Result<Self> {
        Ok(Self { config: self.config.clone(), network: canonize(&self.network, how)? })
    }
}

/// [`ResNet::canonized`] on any network.
pub fn canonize(network: &Network, how: Canonization) -> Result<Network> {
    let layers = network.layers();
    let names = network.layer_names();
    let mut net = NetworkBuilder::new();
    // new_value[v]: the value of the canonized network that stands for value v.
    let mut new_value = vec![0usize; layers.len() + 1];
    let mut folded = vec![false; layers.len()];
    for (i, layer) in layers.iter().enumerate() {
        let reads: Vec<usize> = network.inputs(i).iter().map(|&v| new_value[v]).collect();
        if folded[i] {
            continue;
        }
        let fold = match (layer, layers.get(i + 1)) {
            (Layer::Conv2d(conv), Some(Layer::BatchNorm2d(bn)))
                if network.inputs(i + 1) == [i + 1] && network.readers(i + 1) == 1 =>
            {
                Some((conv, bn))
            }
            _ => None,
        };
        let Some((conv, bn)) = fold else {
            new_value[i + 1] = net.push_reading(layer.clone(), names[i].clone(), reads);
            continue;
        };
        let c = bn.channels();
        let weight = conv.weight().broadcast_mul(&bn.scale().reshape((c, 1, 1, 1))?)?;
        let bias = conv.bias().mul(bn.scale())?.add(bn.shift())?;
        let merged = Layer::Conv2d(Conv2d::with_config(weight, bias, conv.config())?);
        let conv_out = net.push_reading(merged, names[i].clone(), reads);
        new_value[i + 1] = conv_out;
        new_value[i + 2] = match how {
            Canonization::Exact => conv_out,
            Canonization::Zennit => {
                let leftover = BatchNorm2d::merged_leftover(c, bn.eps(), conv.weight())?;
                net.push(Layer::BatchNorm2d(leftover), names[i + 1].clone())
            }
        };
        folded[i + 1] = true;
    }
    net.build(
        network.name(),
        network.input_spec().clone(),
        network.classes(),
        network.device(),
        network.dtype(),
    )
}

/// Whether `key` is a BatchNorm's `num_batches_tracked` counter in `config`.
fn is_batch_counter(key: &str, config: &ResNetConfig) -> bool {
    key.strip_suffix(".num_batches_tracked").is_some_and(|module| {
        config.plan().iter().any(|p| p.name == module && matches!(p.op, Op::BatchNorm(_)))
    })
}

/// Every tensor of `config`'s state dict (but the batch counters) with its shape.
fn expected_tensors(config: &ResNetConfig) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for planned in config.plan() {
        let name = &planned.name;
        match planned.op {
            Op::Conv(shape, _) => out.push((format!("{name}.weight"), shape.to_vec())),
            Op::BatchNorm(c) => {
                for suffix in ["weight", "bias", "running_mean", "running_var"] {
                    out.push((format!("{name}.{suffix}"), vec![c]));
                }
            }
            Op::Linear([o, i]) => {
                out.push((format!("{name}.weight"), vec![o, i]));
                out.push((format!("{name}.bias"), vec![o]));
            }
            _ => {}
        }
    }
    out
}

/// `n` samples of `N(0, std²)` by Box–Muller.
fn normal(rng: &mut ChaCha8Rng, n: usize, std: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let v: f64 = rng.random();
        let r = (-2.0 * u.ln()).sqrt() * std;
        out.push(r * (std::f64::consts::TAU * v).cos());
        out.push(r * (std::f64::consts::TAU * v).sin());
    }
    out.truncate(n);
    out
}

/// Checks that `config` can be built: at least one channel, class and block per stage.
fn validate(config: &ResNetConfig) -> Result<()> {
    let invalid = |name: &'static str, why: &str| Error::InvalidParameter {
        name,
        value: config.name.clone(),
        why: why.to_owned(),
    };
    if config.classes == 0 {
        return Err(invalid("classes", "a classifier needs at least one class"));
    }
    if config.in_channels == 0 || config.stem == 0 || config.widths.contains(&0) {
        return Err(invalid("widths", "every layer needs at least one channel"));
    }
    if config.blocks.contains(&0) {
        return Err(invalid("blocks", "every stage needs at least one block"));
    }
    if !(config.eps.is_finite() && config.eps > 0.0) {
        return Err(invalid("eps", "BatchNorm's ε must be finite and positive"));
    }
    Ok(())
}

/// What a ResNet takes: `(N, C, H, W)` with `H, W ≥ 32` (after the stem and the three strided
/// stages the map is at least 1×1; the average pool takes any size).
fn input_spec(config: &ResNetConfig) -> InputSpec {
    InputSpec {
        channels: config.in_channels,
        size: config.size,
        any_size: true,
        step: 1,
        min: 32,
        requirement: format!(
            "{} needs N×{}×H×W with H, W ≥ 32 (made for {s}×{s}; its average pool takes any size)",
            config.name,
            config.in_channels,
            s = config.size
        ),
    }
}
