//! The layers of a network as plain data, so that rules can reach the weights.
//!
//! Mirrors zennit's view of a `torch.nn.Sequential`: every layer is a value in a `Vec`, never a
//! closure. The layers with parameters ([`Conv2d`], [`Linear`]) implement [`Affine`], the
//! interface through which a prepared explainer makes kernels for the layer's own and its rules'
//! modified weights. Layers keep nothing derived: what an explanation derives from a layer
//! (modified weights, Winograd transforms) belongs to the prepared value that made it.

use candle_core::{Result, Shape, Tensor};
use kernels::{AdaptiveAvgPool2d, Conv2dConfig, ConvKernel, DenseKernel, MaxPool2d};

pub use super::batch_norm::BatchNorm2d;

/// A layer `x ↦ W⋆x + b` whose parameters rules may modify: convolutions and dense layers.
pub trait Affine: std::fmt::Debug + Send + Sync {
    /// The weight `W` (`(out, in, kh, kw)` for convolutions, `(out, in)` for dense layers); its
    /// axis 1 runs over the layer's input channels or features.
    fn weight(&self) -> &Tensor;
    /// The bias `b`, one value per output.
    fn bias(&self) -> &Tensor;
    /// A kernel for `weight` (shaped like the layer's own but for axis 1, which may stack
    /// several inputs), prepared for repeated passes.
    fn kernel(&self, weight: Tensor) -> Result<Kernel>;
    /// The layer with the given parameters, `W'⋆x + b'` (no bias for `None`), made for one
    /// use: differentiable by candle's autograd when an operand is tracked.
    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor>;
}

/// A weight prepared for passes: what an engine runs a layer (or one rule term of it) with.
#[derive(Debug)]
pub enum Kernel {
    /// A convolution.
    Conv(ConvKernel),
    /// A dense layer.
    Dense(DenseKernel),
    /// An adaptive average pool (a linear map without parameters).
    AvgPool(AdaptiveAvgPool2d),
}

impl Kernel {
    /// `W⋆x + b`, then `max(0, ·)` when `relu` (a pool has neither bias nor a fused ReLU).
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        match self {
            Kernel::Conv(k) => k.forward(x, bias, relu),
            Kernel::Dense(k) => k.forward(x, bias, relu),
            Kernel::AvgPool(_) if bias.is_some() || relu => {
                candle_core::bail!("an average pool has no bias and no fused ReLU")
            }
            Kernel::AvgPool(p) => p.forward(x),
        }
    }

    /// The transposed map `c = Wᵀ s` for an input shaped `input`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        match self {
            Kernel::Conv(k) => k.transposed(s, input),
            Kernel::Dense(k) => k.transposed(s, input),
            Kernel::AvgPool(p) => p.transposed(s, input),
        }
    }
}

/// Checks that `bias` has one value per output of `weight`, and both are floats.
fn check_parameters(kind: &str, weight: &Tensor, bias: &Tensor) -> Result<()> {
    let outputs = weight.dim(0)?;
    if bias.dims() != [outputs] {
        candle_core::bail!(
            "{kind}: a weight {:?} needs a bias of shape [{outputs}], got {:?}",
            weight.dims(),
            bias.dims()
        );
    }
    if !weight.dtype().is_float() || bias.dtype() != weight.dtype() {
        candle_core::bail!(
            "{kind}: weight and bias must be floats of one dtype, got {:?} and {:?}",
            weight.dtype(),
            bias.dtype()
        );
    }
    Ok(())
}

/// A 2-D convolution with a stride and symmetric zero padding (VGG's 3×3 stride 1 padding 1;
/// ResNet's stem 7×7 stride 2 padding 3), `y[o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] ·
/// x[c, s·i + u − p, s·j + v − p]` (zero outside `x`).
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Tensor,
    config: Conv2dConfig,
}

impl Conv2d {
    /// A stride-1 convolution from its weight `(out, in, k, k)`, bias `(out)` and padding.
    pub fn new(weight: Tensor, bias: Tensor, padding: usize) -> Result<Self> {
        Self::with_config(weight, bias, Conv2dConfig { padding, stride: 1 })
    }

    /// A convolution from its weight `(out, in, k, k)`, bias `(out)`, padding and stride.
    pub fn with_config(weight: Tensor, bias: Tensor, config: Conv2dConfig) -> Result<Self> {
        ConvKernel::with_config(weight.clone(), config)?;
        check_parameters("convolution", &weight, &bias)?;
        Ok(Self { weight, bias, config })
    }

    /// The zero padding on each side.
    pub fn padding(&self) -> usize {
        self.config.padding
    }

    /// Padding and stride.
    pub fn config(&self) -> Conv2dConfig {
        self.config
    }
}

impl Affine for Conv2d {
    fn weight(&self) -> &Tensor {
        &self.weight
    }

    fn bias(&self) -> &Tensor {
        &self.bias
    }

    fn kernel(&self, weight: Tensor) -> Result<Kernel> {
        Ok(Kernel::Conv(ConvKernel::with_config(weight, self.config)?))
    }

    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        kernels::conv::conv2d_with_config(x, weight, bias, self.config)
    }
}

/// A dense layer `y = W x + b` with `W` of shape `(out, in)`, as `torch.nn.Linear`.
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// A dense layer from its weight `(out, in)` and bias `(out)`.
    pub fn new(weight: Tensor, bias: Tensor) -> Result<Self> {
        DenseKernel::new(weight.clone())?;
        check_parameters("dense layer", &weight, &bias)?;
        Ok(Self { weight, bias })
    }
}

impl Affine for Linear {
    fn weight(&self) -> &Tensor {
        &self.weight
    }

    fn bias(&self) -> &Tensor {
        &self.bias
    }

    fn kernel(&self, weight: Tensor) -> Result<Kernel> {
        Ok(Kernel::Dense(DenseKernel::new(weight)?))
    }

    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        kernels::dense::dense(x, weight, bias)
    }
}

/// One layer of a network, in `torch.nn.Sequential` order.
#[derive(Debug, Clone)]
pub enum Layer {
    /// A convolution (`features.i` in torchvision's names).
    Conv2d(Conv2d),
    /// `max(0, x)`.
    Relu,
    /// A max-pool that records where each maximum came from.
    MaxPool2d(MaxPool2d),
    /// torchvision's `AdaptiveAvgPool2d` (the identity when its input already has its size).
    AvgPool2d(AdaptiveAvgPool2d),
    /// `(N, C, H, W) → (N, C·H·W)`, channel-major as `torch.flatten`.
    Flatten,
    /// A dense layer (`classifier.i`).
    Linear(Linear),
    /// Dropout, the identity at evaluation time.
    Dropout,
    /// BatchNorm in evaluation mode, `y = (x − μ)/√(σ² + ε)·γ + β` per channel.
    BatchNorm2d(BatchNorm2d),
    /// The sum of the values the layer reads (a residual block's `out + identity`).
    Sum,
}

/// What kind of layer a [`Layer`] is: what composites select by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// [`Layer::Conv2d`].
    Convolution,
    /// [`Layer::Linear`].
    Dense,
    /// [`Layer::Relu`].
    Relu,
    /// [`Layer::MaxPool2d`].
    MaxPool,
    /// [`Layer::AvgPool2d`].
    AvgPool,
    /// [`Layer::Flatten`].
    Flatten,
    /// [`Layer::Dropout`].
    Dropout,
    /// [`Layer::BatchNorm2d`].
    BatchNorm,
    /// [`Layer::Sum`].
    Sum,
}

impl LayerKind {
    /// Every kind, in the order the `--help` text lists them.
    pub const ALL: [LayerKind; 9] = [
        LayerKind::Convolution,
        LayerKind::Dense,
        LayerKind::AvgPool,
        LayerKind::Sum,
        LayerKind::MaxPool,
        LayerKind::Relu,
        LayerKind::BatchNorm,
        LayerKind::Flatten,
        LayerKind::Dropout,
    ];

    /// A short name for messages (`"conv2d"`, `"linear"`, …).
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Convolution => "conv2d",
            LayerKind::Dense => "linear",
            LayerKind::Relu => "relu",
            LayerKind::MaxPool => "max_pool2d",
            LayerKind::AvgPool => "avg_pool2d",
            LayerKind::Flatten => "flatten",
            LayerKind::Dropout => "dropout",
            LayerKind::BatchNorm => "batch_norm2d",
            LayerKind::Sum => "sum",
        }
    }
}

impl Layer {
    /// The layer's output for the values it reads, `xs` (inference, nothing kept).
    pub fn forward_all(&self, xs: &[&Tensor]) -> Result<Tensor> {
        match (self, xs) {
            (Layer::Sum, [first, rest @ ..]) => rest.iter().try_fold((*first).clone(), |sum, x| sum.add(x)),
            (_, [x]) => self.forward(x),
            _ => candle_core::bail!("{} reads one value, got {}", self.kind().name(), xs.len()),
        }
    }

    /// The output of a layer that reads one value, for `x` (inference, nothing kept); a sum
    /// of one value is that value.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Conv2d(c) => c.apply(x, c.weight(), Some(c.bias())),
            Layer::Relu => x.relu(),
            Layer::MaxPool2d(p) => Ok(p.forward_with_argmax(x)?.0),
            Layer::AvgPool2d(p) => p.forward(x),
            Layer::Flatten => x.flatten_from(1),
            Layer::Linear(l) => l.apply(x, l.weight(), Some(l.bias())),
            Layer::Dropout | Layer::Sum => Ok(x.clone()),
            Layer::BatchNorm2d(b) => b.forward(x),
        }
    }

    /// The layer as an [`Affine`] map, if it has parameters.
    pub fn affine(&self) -> Option<&dyn Affine> {
        match self {
            Layer::Conv2d(c) => Some(c),
            Layer::Linear(l) => Some(l),
            _ => None,
        }
    }

    /// What kind of layer this is.
    pub fn kind(&self) -> LayerKind {
        match self {
            Layer::Conv2d(_) => LayerKind::Convolution,
            Layer::Relu => LayerKind::Relu,
            Layer::MaxPool2d(_) => LayerKind::MaxPool,
            Layer::AvgPool2d(_) => LayerKind::AvgPool,
            Layer::Flatten => LayerKind::Flatten,
            Layer::Linear(_) => LayerKind::Dense,
            Layer::Dropout => LayerKind::Dropout,
            Layer::BatchNorm2d(_) => LayerKind::BatchNorm,
            Layer::Sum => LayerKind::Sum,
        }
    }
}
