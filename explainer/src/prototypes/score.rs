//! The functions whose class output a prototype maximises: a VGG network on pixel values, or
//! a linear model `f(x) = W x + b` (the network's last layer alone, exercise 1's setting).

use candle_core::{DType, Tensor};
use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};
use crate::image::{IMAGENET_MEAN, IMAGENET_STD};
use crate::model::{Affine, Feature, Layer, Vgg};
use crate::{Attributor, Gradient, Prepared};

/// Class scores (logits) of an input vector and the gradient of one of them.
pub trait ClassScore {
    /// The length of the input vector.
    fn dim(&self) -> usize;
    /// The number of classes.
    fn classes(&self) -> usize;
    /// All logits `f(x)`.
    fn logits(&self, x: &DVector<f64>) -> Result<DVector<f64>>;
    /// All logits and `∇_x f_class(x)`.
    fn logits_and_gradient(&self, x: &DVector<f64>, class: usize) -> Result<(DVector<f64>, DVector<f64>)>;
}

/// `f(x) = W x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearScore {
    weights: DMatrix<f64>,
    bias: DVector<f64>,
}

impl LinearScore {
    /// The linear model with weights `W` (`classes × n`) and bias `b` (`classes`).
    pub fn new(weights: DMatrix<f64>, bias: DVector<f64>) -> Result<Self> {
        if bias.len() != weights.nrows() {
            return Err(Error::ShapeMismatch {
                what: "the bias of a linear model",
                expected: weights.nrows().to_string(),
                found: bias.len().to_string(),
            });
        }
        if let Some(index) = weights.iter().chain(bias.iter()).position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "a linear model", index, value: f64::NAN });
        }
        Ok(Self { weights, bias })
    }

    /// The last (dense) layer of `model` as a linear model of its input, the penultimate
    /// layer's activations.
    pub fn last_layer(model: &Vgg) -> Result<Self> {
        let layer = match model.layers().last() {
            Some(Layer::Linear(layer)) => layer,
            _ => {
                return Err(Error::InvalidParameter {
                    name: "model",
                    value: model.config().name.clone(),
                    why: "its last layer is not a dense layer".into(),
                });
            }
        };
        let weight = layer.weight().to_dtype(DType::F64)?;
        let (rows, columns) = weight.dims2()?;
        let weights = DMatrix::from_row_slice(rows, columns, &weight.flatten_all()?.to_vec1::<f64>()?);
        let bias = DVector::from_vec(layer.bias().to_dtype(DType::F64)?.to_vec1::<f64>()?);
        Self::new(weights, bias)
    }

    /// `W`.
    pub fn weights(&self) -> &DMatrix<f64> {
        &self.weights
    }

    /// `b`.
    pub fn bias(&self) -> &DVector<f64> {
        &self.bias
    }
}

impl ClassScore for LinearScore {
    fn dim(&self) -> usize {
        self.weights.ncols()
    }

    fn classes(&self) -> usize {
        self.weights.nrows()
    }

    fn logits(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        check_length(x, self.dim())?;
        Ok(&self.weights * x + &self.bias)
    }

    /// `∇_x (W x + b)_c = W_c` (the class's row).
    fn logits_and_gradient(&self, x: &DVector<f64>, class: usize) -> Result<(DVector<f64>, DVector<f64>)> {
        check_class(class, self.classes())?;
        Ok((self.logits(x)?, self.weights.row(class).transpose()))
    }
}

/// A VGG network as a function of pixel values in `[0, 1]`, channel-major (`3 × H × W`): it
/// normalises them as the explainer does (`(x − mean_c) / std_c`, ImageNet statistics) and
/// returns the gradient with respect to the pixels, `∂f/∂x = (∂f/∂x̂) / std_c`.
#[derive(Debug)]
pub struct NetworkScore<'a> {
    model: &'a Vgg,
    /// The gradient attributor, prepared once: its kernels serve every step of an ascent.
    gradient: Prepared<'a>,
    side: usize,
}

impl<'a> NetworkScore<'a> {
    /// `model` on square images of the side its classifier expects
    /// ([`NetworkScore::input_side`]).
    pub fn new(model: &'a Vgg) -> Result<Self> {
        Ok(Self { model, gradient: Gradient.prepare(model)?, side: Self::input_side(model) })
    }

    /// The input side of `model`: the last feature map's side doubled by every max-pool
    /// (64 for the shapes network, 224 for VGG-16).
    pub fn input_side(model: &Vgg) -> usize {
        let config = model.config();
        let pools = config.features.iter().filter(|f| matches!(f, Feature::MaxPool)).count();
        config.feature_size << pools
    }

    /// The side of the images.
    pub fn side(&self) -> usize {
        self.side
    }

    /// The normalised input tensor `(1, 3, H, W)` of pixel values `x`.
    fn input(&self, x: &DVector<f64>) -> Result<Tensor> {
        check_length(x, self.dim())?;
        let plane = self.side * self.side;
        let normalised: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| (v - IMAGENET_MEAN[i / plane]) / IMAGENET_STD[i / plane])
            .collect();
        let tensor = Tensor::from_vec(normalised, (1, 3, self.side, self.side), self.model.device())?;
        Ok(tensor.to_dtype(self.model.dtype())?)
    }
}

impl ClassScore for NetworkScore<'_> {
    fn dim(&self) -> usize {
        3 * self.side * self.side
    }

    fn classes(&self) -> usize {
        self.model.classes()
    }

    fn logits(&self, x: &DVector<f64>) -> Result<DVector<f64>> {
        to_vector(&self.gradient.forward(&self.input(x)?)?)
    }

    fn logits_and_gradient(&self, x: &DVector<f64>, class: usize) -> Result<(DVector<f64>, DVector<f64>)> {
        check_class(class, self.classes())?;
        let attribution = self.gradient.attribute(&self.input(x)?, class)?;
        let (logits, gradient) = (attribution.logits, attribution.relevance);
        let plane = self.side * self.side;
        let mut gradient = to_vector(&gradient)?;
        for (i, g) in gradient.iter_mut().enumerate() {
            *g /= IMAGENET_STD[i / plane];
        }
        Ok((to_vector(&logits)?, gradient))
    }
}

// ANCHOR: logit_gradient
/// The logits of `model` for `input` and the gradient `∂f_class/∂input`, by the explainer's
/// [`Gradient`] attributor (its relevance is the plain gradient).
pub fn logit_gradient(model: &Vgg, input: &Tensor, class: usize) -> Result<(Tensor, Tensor)> {
    let attribution = Gradient.attribute(model, input, class)?;
    Ok((attribution.logits, attribution.relevance))
}
// ANCHOR_END: logit_gradient

/// A tensor's values as an `f64` vector.
fn to_vector(tensor: &Tensor) -> Result<DVector<f64>> {
    Ok(DVector::from_vec(tensor.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?))
}

fn check_length(x: &DVector<f64>, dim: usize) -> Result<()> {
    if x.len() != dim {
        return Err(Error::ShapeMismatch {
            what: "the input vector",
            expected: dim.to_string(),
            found: x.len().to_string(),
        });
    }
    Ok(())
}

fn check_class(class: usize, classes: usize) -> Result<()> {
    if class >= classes {
        return Err(Error::ClassOutOfRange { index: class, classes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use candle_core::Device;

    use super::*;
    use crate::VggConfig;

    #[test]
    fn network_gradient_matches_finite_differences_in_pixel_space() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let model = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let score = NetworkScore::new(&model).unwrap();
        assert_eq!(score.side(), 8);
        let x = DVector::from_fn(score.dim(), |i, _| 0.5 + 0.4 * ((i * 37 % 11) as f64 / 11.0 - 0.5));
        let (logits, gradient) = score.logits_and_gradient(&x, 2).unwrap();
        assert_relative_eq!(logits, score.logits(&x).unwrap(), epsilon = 1e-12);
        const STEP: f64 = 1e-6;
        for i in [0, 70, 150] {
            let mut up = x.clone();
            up[i] += STEP;
            let mut down = x.clone();
            down[i] -= STEP;
            let numeric = (score.logits(&up).unwrap()[2] - score.logits(&down).unwrap()[2]) / (2.0 * STEP);
            assert_relative_eq!(numeric, gradient[i], epsilon = 1e-7, max_relative = 1e-5);
        }
        assert!(matches!(score.logits_and_gradient(&x, 5), Err(Error::ClassOutOfRange { .. })));
        assert!(matches!(score.logits(&DVector::zeros(3)), Err(Error::ShapeMismatch { .. })));
    }
}
