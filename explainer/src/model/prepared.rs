//! A network prepared for repeated passes: a kernel per layer with parameters.

use candle_core::Tensor;

use super::layer::{Kernel, Layer};
use super::network::Network;
use super::vgg::{in_parts, join_samples};
use crate::error::Result;

/// A [`Network`] with a [`Kernel`] for each convolution, dense layer and average pool, made once:
/// what the kernels derive from the weights (Winograd transforms) is made on first use and
/// kept for the life of this value, and dropped with it.
#[derive(Debug)]
pub struct PreparedModel<'m> {
    model: &'m Network,
    kernels: Vec<Option<Kernel>>,
}

impl<'m> PreparedModel<'m> {
    /// Kernels for `model`'s own weights.
    pub fn new(model: &'m Network) -> Result<Self> {
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
    pub fn model(&self) -> &'m Network {
        self.model
    }

    /// The kernel of layer `index` (its own weight), if the layer has one.
    pub fn kernel(&self, index: usize) -> Option<&Kernel> {
        self.kernels.get(index).and_then(Option::as_ref)
    }

    /// Whether layer `index` has parameters and its output goes only into a ReLU right after
    /// it, so that the two can run as one pass.
    pub(crate) fn fuses_relu(&self, index: usize) -> bool {
        let layers = self.model.layers();
        layers[index].affine().is_some()
            && matches!(layers.get(index + 1), Some(Layer::Relu))
            && self.model.is_sequential(index + 1)
    }

    /// The output of layer `index` for the values it reads, `xs`; `relu` applies a following
    /// ReLU in the same pass where the layer can.
    pub(crate) fn layer_forward(&self, index: usize, xs: &[&Tensor], relu: bool) -> Result<Tensor> {
        let layer = &self.model.layers()[index];
        let bias = layer.affine().map(|a| a.bias());
        let y = match (self.kernel(index), xs) {
            (Some(kernel), [x]) => kernel.forward(x, bias, relu)?,
            _ if relu => layer.forward_all(xs)?.relu()?,
            _ => layer.forward_all(xs)?,
        };
        Ok(y)
    }

    /// The logits `(N, classes)` for a checked input `(N, C, H, W)`, in parts of a few samples.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        self.model.check_input(input)?;
        let parts = in_parts(input, |x| self.forward_checked(x))?;
        Ok(join_samples(parts.iter().collect())?)
    }

    /// [`PreparedModel::forward`] for an input already checked, in one pass; a convolution or
    /// dense layer and its ReLU run as one. A value is dropped after its last reader.
    fn forward_checked(&self, input: &Tensor) -> Result<Tensor> {
        let model = self.model;
        let layers = model.layers();
        let mut left: Vec<usize> = (0..=layers.len()).map(|v| model.readers(v)).collect();
        let mut values: Vec<Option<Tensor>> = vec![None; layers.len() + 1];
        values[0] = Some(input.clone());
        let mut i = 0;
        while i < layers.len() {
            let fused = self.fuses_relu(i);
            let reads = model.inputs(i);
            let xs = reads
                .iter()
                .map(|&v| values[v].clone().ok_or_else(|| missing_value(v)))
                .collect::<Result<Vec<_>>>()?;
            let y = self.layer_forward(i, &xs.iter().collect::<Vec<_>>(), fused)?;
            drop(xs);
            for &v in reads {
                left[v] -= 1;
                if left[v] == 0 {
                    values[v] = None;
                }
            }
            i += if fused { 2 } else { 1 };
            values[i] = Some(y);
        }
        values[layers.len()].take().ok_or_else(|| missing_value(layers.len()))
    }
}

fn missing_value(v: usize) -> crate::Error {
    crate::Error::InvalidParameter {
        name: "model",
        value: format!("value {v}"),
        why: "is read before it is computed".into(),
    }
}
