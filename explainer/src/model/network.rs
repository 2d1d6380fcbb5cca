//! A network as a small graph of layers: what every engine, composite and explainer takes.
//!
//! The values of a pass are numbered: value 0 is the network's input, value `i + 1` the output
//! of layer `i`. Layer `i` reads the values [`Network::inputs`]`(i)`, all earlier than `i + 1`
//! (so the layer order is a topological order and a pass is one loop over it); the last
//! layer's output is the logits. A plain sequence (VGG) reads value `i` in layer `i`; a
//! residual block adds a [`Layer::Sum`] that reads the shortcut and the residual branch.
//! [`super::Vgg`] and [`super::ResNet`] are builders of this value.

use candle_core::{DType, Device, Tensor};

use super::layer::{Affine, Conv2d, Layer, Linear};
use super::prepared::PreparedModel;
use crate::error::{Error, Result};

/// The inputs a network takes: `(N, channels, H, W)` of the network's dtype, finite, with a
/// height and width the network can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// Input channels (3 for RGB).
    pub channels: usize,
    /// The side the network was made for (224 for ImageNet models).
    pub size: usize,
    /// Whether other sides than `size` are taken (an adaptive pool before the classifier).
    pub any_size: bool,
    /// Sides other than `size` must be multiples of this (`2^pools` for VGG; 1: any side).
    pub step: usize,
    /// Sides other than `size` must be at least this.
    pub min: usize,
    /// What the network needs, in words, for error messages.
    pub requirement: String,
}

impl InputSpec {
    /// Whether a `h × w` input fits.
    pub fn fits(&self, h: usize, w: usize) -> bool {
        let other = |s: usize| s >= self.min.max(1) && s.is_multiple_of(self.step.max(1));
        (h == self.size && w == self.size) || (self.any_size && other(h) && other(w))
    }
}

/// Builds a [`Network`] layer by layer; each push returns the index of the layer's output value.
#[derive(Debug, Default)]
pub struct NetworkBuilder {
    layers: Vec<Layer>,
    names: Vec<String>,
    inputs: Vec<Vec<usize>>,
}

impl NetworkBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value the next layer reads by default: the last output (0, the input, at first).
    pub fn last(&self) -> usize {
        self.layers.len()
    }

    /// Appends `layer` named `name` reading the last output; returns its output value.
    pub fn push(&mut self, layer: Layer, name: impl Into<String>) -> usize {
        let last = self.last();
        self.push_reading(layer, name, vec![last])
    }

    /// Appends `layer` named `name` reading the values `inputs`; returns its output value.
    pub fn push_reading(&mut self, layer: Layer, name: impl Into<String>, inputs: Vec<usize>) -> usize {
        self.layers.push(layer);
        self.names.push(name.into());
        self.inputs.push(inputs);
        self.layers.len()
    }

    /// The network, checked: every layer reads earlier values (one for all but a sum, at least
    /// two for a sum), every value but the logits is read, and the input by exactly one layer.
    pub fn build(
        self,
        name: impl Into<String>,
        input: InputSpec,
        classes: usize,
        device: &Device,
        dtype: DType,
    ) -> Result<Network> {
        let name = name.into();
        let invalid = |why: String| Error::InvalidParameter { name: "network", value: name.clone(), why };
        if self.layers.is_empty() {
            return Err(invalid("has no layers".into()));
        }
        let mut reads = vec![0usize; self.layers.len() + 1];
        for (i, (layer, inputs)) in self.layers.iter().zip(&self.inputs).enumerate() {
            let arity_ok = match layer {
                Layer::Sum => inputs.len() >= 2,
                _ => inputs.len() == 1,
            };
            if !arity_ok || inputs.iter().any(|&v| v > i) {
                return Err(invalid(format!(
                    "layer {i} ({}) reads values {inputs:?}: a sum reads two or more earlier values, \
                     every other layer one",
                    self.names[i]
                )));
            }
            for &v in inputs {
                reads[v] += 1;
            }
        }
        if reads[0] != 1 {
            return Err(invalid(format!("the input is read by {} layers, not one", reads[0])));
        }
        if let Some(v) = reads[..self.layers.len()].iter().position(|&r| r == 0) {
            return Err(invalid(format!("the output of layer {} is never read", v - 1)));
        }
        Ok(Network {
            name,
            layers: self.layers,
            names: self.names,
            inputs: self.inputs,
            reads,
            input,
            classes,
            dtype,
            device: device.clone(),
        })
    }
}

/// A classifier as layers that read earlier values (see the module documentation).
#[derive(Debug, Clone)]
pub struct Network {
    name: String,
    layers: Vec<Layer>,
    names: Vec<String>,
    inputs: Vec<Vec<usize>>,
    /// How many layers read each value.
    reads: Vec<usize>,
    input: InputSpec,
    classes: usize,
    dtype: DType,
    device: Device,
}

impl Network {
    /// A short name for messages (`"vgg16"`, `"resnet50"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layers, in a topological order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// torchvision's module name of each layer (`"features.0"`, `"layer1.0.conv1"`), in layer
    /// order; a module called more than once (ResNet's `relu`) names each call.
    pub fn layer_names(&self) -> &[String] {
        &self.names
    }

    /// The values layer `index` reads (0: the network input; `i + 1`: layer `i`'s output).
    pub fn inputs(&self, index: usize) -> &[usize] {
        &self.inputs[index]
    }

    /// How many layers read value `value`.
    pub fn readers(&self, value: usize) -> usize {
        self.reads.get(value).copied().unwrap_or(0)
    }

    /// Whether layer `index` is a sequence step: it reads the previous layer's output (or the
    /// input, for layer 0), and nothing else reads that.
    pub fn is_sequential(&self, index: usize) -> bool {
        self.inputs[index] == [index] && self.reads[index] == 1
    }

    /// The inputs the network takes.
    pub fn input_spec(&self) -> &InputSpec {
        &self.input
    }

    /// The dtype of the weights; inputs must have the same.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device of the weights.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Number of classes (outputs).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The network with a kernel prepared for each layer with parameters, for repeated passes.
    pub fn prepare(&self) -> Result<PreparedModel<'_>> {
        PreparedModel::new(self)
    }

    /// The logits `(N, classes)` for a checked input. Prepares the kernels for this call only:
    /// for many calls, [`Network::prepare`] once and call [`PreparedModel::forward`].
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        self.prepare()?.forward(input)
    }

    /// The same network with other layers (same graph, names and input): for models whose
    /// parameters change (training, randomisation, bias removal).
    pub fn with_layers(&self, layers: Vec<Layer>) -> Result<Self> {
        if layers.len() != self.layers.len()
            || layers.iter().zip(&self.layers).any(|(a, b)| a.kind() != b.kind())
        {
            return Err(Error::InvalidParameter {
                name: "layers",
                value: format!("{} layers", layers.len()),
                why: format!("must be {}'s {} layers, kind for kind", self.name, self.layers.len()),
            });
        }
        Ok(Self { layers, ..self.clone() })
    }

    /// The same network with every bias set to zero (for conservation checks: LRP-γ and zB
    /// conserve relevance exactly when no bias absorbs any). A BatchNorm's shift is a bias too.
    pub fn without_biases(&self) -> Result<Self> {
        let layers = self
            .layers
            .iter()
            .map(|layer| {
                Ok(match layer {
                    Layer::Conv2d(c) => Layer::Conv2d(Conv2d::with_config(
                        c.weight().clone(),
                        c.bias().zeros_like()?,
                        c.config(),
                    )?),
                    Layer::Linear(l) => {
                        Layer::Linear(Linear::new(l.weight().clone(), l.bias().zeros_like()?)?)
                    }
                    Layer::BatchNorm2d(b) => Layer::BatchNorm2d(b.without_shift()?),
                    other => other.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.with_layers(layers)
    }

    /// Checks that `input` is something this network takes: `(N, C, H, W)` with `N ≥ 1`, the
    /// network's channels and a side it takes ([`InputSpec`]), its dtype, finite values.
    pub fn check_input(&self, input: &Tensor) -> Result<()> {
        let spec = &self.input;
        let shape = format!("{:?}", input.dims());
        let invalid = |why: String| Error::InvalidInput { shape: shape.clone(), why };
        match *input.dims() {
            [n, c, h, w] if n > 0 && c == spec.channels && spec.fits(h, w) => {}
            [_, c, h, w]
                if c == spec.channels && spec.step > 1 && (h % spec.step != 0 || w % spec.step != 0) =>
            {
                return Err(invalid(format!(
                    "height and width must be multiples of {} and equal {}: {}",
                    spec.step, spec.size, spec.requirement
                )));
            }
            _ => return Err(invalid(spec.requirement.clone())),
        }
        if input.dtype() != self.dtype {
            return Err(invalid(format!("dtype {:?}, but the model is {:?}", input.dtype(), self.dtype)));
        }
        if !kernels::elementwise::all_finite(input)? {
            return Err(invalid("contains NaN or infinite values".into()));
        }
        Ok(())
    }
}
