//! The VGG network: a configuration and the list of its layers.

use candle_core::{DType, Device, Tensor};

use kernels::{AdaptiveAvgPool2d, MaxPool2d};

use super::config::{Feature, VggConfig};
use super::layer::{Conv2d, Layer, Linear};
use super::network::{InputSpec, Network, NetworkBuilder};
use crate::error::{Error, Result};

/// A VGG-style classifier: a [`Network`] built from a [`VggConfig`] as a plain sequence of
/// layers in torchvision's order: `features` (conv, ReLU, …, max-pool), torchvision's adaptive
/// average pool (when the configuration has one; the identity at the configuration's own input
/// size), flatten, `classifier` (linear, ReLU, dropout, …, linear). Each layer has torchvision's
/// module name ([`Network::layer_names`]), by which composites can select it. Dereferences to
/// its [`Network`], which is what explainers take.
#[derive(Debug, Clone)]
pub struct Vgg {
    config: VggConfig,
    network: Network,
}

impl std::ops::Deref for Vgg {
    type Target = Network;

    fn deref(&self) -> &Network {
        &self.network
    }
}

/// Uniform range of the biases of [`Vgg::random`]: `b ~ U(−BIAS, BIAS)`, as the fixtures.
const RANDOM_BIAS: f64 = 0.05;

/// A small deterministic generator (SplitMix64) for [`Vgg::random`]: reproducible on every
/// platform and free of candle's unseeded CPU generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// `n` samples of `N(0, std²)` by Box–Muller, as f32.
    fn normal(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let (u, v) = (self.uniform(), self.uniform());
            let r = (-2.0 * u.ln()).sqrt() * std;
            let t = std::f64::consts::TAU * v;
            out.push((r * t.cos()) as f32);
            out.push((r * t.sin()) as f32);
        }
        out.truncate(n);
        out
    }

    /// `n` samples of `U(−a, a)`, as f32.
    fn symmetric(&mut self, n: usize, a: f64) -> Vec<f32> {
        (0..n).map(|_| ((2.0 * self.uniform() - 1.0) * a) as f32).collect()
    }
}

/// Checks that `config` describes a network that can be built: at least one input channel,
/// class and unit in every layer, a last feature map of at least 1×1, and an input size that
/// fits in `usize`.
fn validate(config: &VggConfig) -> Result<()> {
    let invalid = |name: &'static str, value: String, why: &str| Error::InvalidParameter {
        name,
        value,
        why: format!("{why} (configuration {})", config.name),
    };
    if config.classes == 0 {
        return Err(invalid("classes", "0".into(), "a classifier needs at least one class"));
    }
    if let Some(layer) = config.hidden.iter().position(|&width| width == 0) {
        return Err(invalid(
            "hidden width",
            format!("0 (dense layer {layer})"),
            "a dense layer needs at least one unit",
        ));
    }
    if let Some(index) = config.features.iter().position(|f| *f == Feature::Conv(0)) {
        return Err(invalid(
            "channels",
            format!("0 (feature {index})"),
            "a convolution needs at least one channel",
        ));
    }
    if config.in_channels == 0 {
        return Err(invalid("in_channels", "0".into(), "the input needs at least one channel"));
    }
    if config.feature_size == 0 {
        return Err(invalid("feature_size", "0".into(), "the classifier needs a map of at least 1×1"));
    }
    let fits = u32::try_from(config.pools())
        .ok()
        .and_then(|pools| 1usize.checked_shl(pools))
        .and_then(|scale| scale.checked_mul(config.feature_size))
        .and_then(|size| size.checked_mul(size))
        .is_some();
    if !fits {
        return Err(invalid("max-pools", config.pools().to_string(), "the input size overflows"));
    }
    Ok(())
}

/// The parameters of one layer while building: weight and bias, in torchvision's shapes.
pub(crate) struct Params {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

impl Vgg {
    /// Builds the layer list of `config`, taking the parameters of each convolution and dense
    /// layer, in order, from `params`.
    pub(crate) fn from_params(
        config: &VggConfig,
        mut params: impl FnMut(usize, &[usize]) -> Result<Params>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        validate(config)?;
        let mut net = NetworkBuilder::new();
        let mut channels = config.in_channels;
        let mut index = 0;
        for feature in &config.features {
            let module = module_index(&config.features, index);
            match *feature {
                Feature::Conv(out) => {
                    let p = params(index, &[out, channels, 3, 3])?;
                    net.push(Layer::Conv2d(Conv2d::new(p.weight, p.bias, 1)?), format!("features.{module}"));
                    net.push(Layer::Relu, format!("features.{}", module + 1));
                    channels = out;
                }
                Feature::MaxPool => {
                    net.push(Layer::MaxPool2d(MaxPool2d::default()), format!("features.{module}"));
                }
            }
            index += 1;
        }
        if config.average_pool {
            let size = config.feature_size;
            net.push(Layer::AvgPool2d(AdaptiveAvgPool2d::new(size, size)?), "avgpool");
        }
        net.push(Layer::Flatten, "flatten");
        let mut inputs = config.classifier_inputs();
        for (k, &hidden) in config.hidden.iter().enumerate() {
            let p = params(index, &[hidden, inputs])?;
            net.push(Layer::Linear(Linear::new(p.weight, p.bias)?), format!("classifier.{}", 3 * k));
            net.push(Layer::Relu, format!("classifier.{}", 3 * k + 1));
            net.push(Layer::Dropout, format!("classifier.{}", 3 * k + 2));
            inputs = hidden;
            index += 1;
        }
        let p = params(index, &[config.classes, inputs])?;
        net.push(
            Layer::Linear(Linear::new(p.weight, p.bias)?),
            format!("classifier.{}", 3 * config.hidden.len()),
        );
        let network = net.build(&config.name, input_spec(config), config.classes, device, dtype)?;
        Ok(Self { config: config.clone(), network })
    }

    /// A network with random weights: He initialisation `w ~ N(0, 2/fan_in)` (the last layer
    /// `1.5²·2/fan_in`, as the fixtures) and biases `~ U(−0.05, 0.05)`, reproducible from `seed`.
    pub fn random(config: &VggConfig, seed: u64, device: &Device, dtype: DType) -> Result<Self> {
        let mut rng = SplitMix64(seed);
        let last = config.features.len() + config.hidden.len();
        Self::from_params(
            config,
            |index, shape| {
                let n: usize = shape.iter().product();
                let fan_in = n / shape[0];
                let gain = if index == last { 1.5 } else { 1.0 };
                let std = gain * (2.0 / fan_in as f64).sqrt();
                let weight = Tensor::from_vec(rng.normal(n, std), shape, device)?.to_dtype(dtype)?;
                let bias = Tensor::from_vec(rng.symmetric(shape[0], RANDOM_BIAS), shape[0], device)?
                    .to_dtype(dtype)?;
                Ok(Params { weight, bias })
            },
            device,
            dtype,
        )
    }

    /// The same network with every bias set to zero (for conservation checks: LRP-γ and zB
    /// conserve relevance exactly when no bias absorbs any).
    pub fn without_biases(&self) -> Result<Self> {
        Ok(Self { config: self.config.clone(), network: self.network.without_biases()? })
    }

    /// The same architecture with other layers, kind for kind (training, randomisation).
    pub fn with_layers(&self, layers: Vec<Layer>) -> Result<Self> {
        Ok(Self { config: self.config.clone(), network: self.network.with_layers(layers)? })
    }

    /// The configuration the network was built from.
    pub fn config(&self) -> &VggConfig {
        &self.config
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

/// What a VGG of `config` takes: `(N, C, S, S)` with `C` input channels and `S = feature_size ·
/// 2^pools` (224 for VGG-16: the classifier needs a 7×7 map after five 2×2 pools) — or, with
/// torchvision's adaptive average pool, any height and width that are multiples of `2^pools`.
fn input_spec(config: &VggConfig) -> InputSpec {
    let c = config;
    let size = c.input_size();
    InputSpec {
        channels: c.in_channels,
        size,
        any_size: c.average_pool,
        step: 1 << c.pools(),
        min: 1 << c.pools(),
        requirement: format!(
            "{} needs N×{}×{size}×{size} (its classifier takes a {}×{} map after {} max-pools of 2)",
            c.name,
            c.in_channels,
            c.feature_size,
            c.feature_size,
            c.pools()
        ),
    }
}

/// The index in torchvision's `features` `nn.Sequential` of the module made for entry `entry`
/// of `features` (a convolution and its ReLU take two indices, a max-pool one).
fn module_index(features: &[Feature], entry: usize) -> usize {
    features[..entry].iter().map(|f| if matches!(f, Feature::Conv(_)) { 2 } else { 1 }).sum()
}

/// Samples run through the network in one pass; a larger batch runs in parts of this size
/// (samples are independent). A pass over 32 VGG-16 inputs writes gigabytes of fresh
/// activations, whose page faults cost more than the arithmetic, and an explanation keeps
/// every layer's activations until its backward pass reaches the layer; parts of 4 hold half
/// of what parts of 8 do and run no slower (the `vgg16` bench at batch 8).
const SAMPLES_PER_PASS: usize = 4;

/// `run` on the batch `input` in parts of at most [`SAMPLES_PER_PASS`] samples, in order.
pub(crate) fn in_parts<R>(input: &Tensor, mut run: impl FnMut(&Tensor) -> Result<R>) -> Result<Vec<R>> {
    let n = input.dim(0)?;
    if n <= SAMPLES_PER_PASS {
        return Ok(vec![run(input)?]);
    }
    (0..n)
        .step_by(SAMPLES_PER_PASS)
        .map(|start| run(&input.narrow(0, start, SAMPLES_PER_PASS.min(n - start))?))
        .collect()
}

/// The parts of [`in_parts`] joined along the sample axis (a single part as it is).
pub(crate) fn join_samples(parts: Vec<&Tensor>) -> candle_core::Result<Tensor> {
    match parts.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Tensor::cat(&parts, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_vgg16_tiny_has_torchvisions_layout() {
        let vgg = Vgg::random(&VggConfig::vgg16_tiny(), 1, &Device::Cpu, DType::F32).unwrap();
        // 13 × (conv, relu) + 5 pools + avgpool + flatten + 2 × (linear, relu, dropout) + linear.
        assert_eq!(vgg.layers().len(), 13 * 2 + 5 + 1 + 1 + 2 * 3 + 1);
        let names = vgg.layer_names();
        assert_eq!(
            [&names[0], &names[4], &names[31], &names[32], &names[39]],
            ["features.0", "features.4", "avgpool", "flatten", "classifier.6"]
        );
        let x = Tensor::zeros((2, 3, 224, 224), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(vgg.forward(&x).unwrap().dims(), &[2, 1000]);
    }
}
