//! A network prepared for repeated passes: a kernel per layer with parameters.

use candle_core::Tensor;

use super::layer::{Kernel, Layer};
use super::vgg::{Vgg, in_parts, join_samples};
use crate::error::Result;

/// A [`Vgg`] with a [`Kernel`] for each convolution, dense layer and average pool, made once:
/// what the kernels derive from the weights (Winograd transforms) is made on first use and
/// kept for the life of this value, and dropped with it.
#[derive(Debug)]
pub struct PreparedModel<'m> {
    model: &'m Vgg,
    kernels: Vec<Option<Kernel>>,
}

impl<'m> PreparedModel<'m> {
    /// Kernels for `model`'s own weights.
    pub fn new(model: &'m Vgg) -> Result<Self> {
        let kernels = model
            .layers()
            .iter()
            .map(|layer| match layer {
                Layer::AvgPool2d(p) => Ok(Some(Kernel::AvgPool(*p))),
                layer => layer.affine().map(|a| a.kernel(a.weight().clone())).transpose(),
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self { model, kernels })
    }

    /// The network.
    pub fn model(&self) -> &'m Vgg {
        self.model
    }

    /// The kernel of layer `index` (its own weight), if the layer has one.
    pub fn kernel(&self, index: usize) -> Option<&Kernel> {
        self.kernels.get(index).and_then(Option::as_ref)
    }

    /// The output of layer `index` for its input `x`; `relu` applies a following ReLU in the
    /// same pass where the layer can.
    pub(crate) fn layer_forward(&self, index: usize, x: &Tensor, relu: bool) -> Result<Tensor> {
        let layer = &self.model.layers()[index];
        let bias = layer.affine().map(|a| a.bias());
        let y = match self.kernel(index) {
            Some(kernel) => kernel.forward(x, bias, relu)?,
            None if relu => layer.forward(x)?.relu()?,
            None => layer.forward(x)?,
        };
        Ok(y)
    }

    /// The logits `(N, classes)` for a checked input `(N, 3, H, W)`, in parts of a few samples.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        self.model.check_input(input)?;
        let parts = in_parts(input, |x| self.forward_checked(x))?;
        Ok(join_samples(parts.iter().collect())?)
    }

    /// [`PreparedModel::forward`] for an input already checked, in one pass; a convolution or
    /// dense layer and its ReLU run as one.
    fn forward_checked(&self, input: &Tensor) -> Result<Tensor> {
        let layers = self.model.layers();
        let mut h = input.clone();
        let mut i = 0;
        while i < layers.len() {
            let fused = layers[i].affine().is_some() && matches!(layers.get(i + 1), Some(Layer::Relu));
            h = self.layer_forward(i, &h, fused)?;
            i += if fused { 2 } else { 1 };
        }
        Ok(h)
    }
}
