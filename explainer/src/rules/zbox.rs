//! The zB rule for the pixel layer (exercise 4, `ConvPx`; zennit's `ZBox`).

use candle_core::{Result, Tensor};

use super::{Rule, negative, positive, reassign, scaled_ratio_over};
use crate::model::Affine;

/// ImageNet mean per colour channel (RGB), as on the sheet.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet standard deviation per colour channel (RGB), as on the sheet.
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// zB: `R_i = Σ_j (x_i w_ij − l_i w_ij⁺ − h_i w_ij⁻) / Σ_i (x_i w_ij − l_i w_ij⁺ − h_i w_ij⁻) · R_j`
/// for inputs bounded by `l ≤ x ≤ h`.
///
/// As the sheet's `ConvPx`: `z = w⋆x + b`, `p = z − (w⁺⋆L + b⁺) − (w⁻⋆H + b⁻)` (weights and
/// biases clamped, so the biases cancel in `p`), `z ← p·[z/p]_cst`, and the relevance of the
/// input is `R = X·∂X + L·∂L + H·∂H`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZBox {
    /// Lower bound per input channel (`L`).
    pub low: Vec<f64>,
    /// Upper bound per input channel (`H`).
    pub high: Vec<f64>,
}

impl ZBox {
    /// Bounds per channel.
    pub fn new(low: Vec<f64>, high: Vec<f64>) -> Self {
        Self { low, high }
    }

    // ANCHOR: zbox_bounds
    /// Bounds of pixels in `[0, 1]` after normalisation by `mean` and `std`:
    /// `L = (0 − mean)/std`, `H = (1 − mean)/std`.
    pub fn normalized(mean: &[f64], std: &[f64]) -> Self {
        let low = mean.iter().zip(std).map(|(m, s)| (0.0 - m) / s).collect();
        let high = mean.iter().zip(std).map(|(m, s)| (1.0 - m) / s).collect();
        Self { low, high }
    }
    // ANCHOR_END: zbox_bounds

    /// The sheet's bounds, for ImageNet-normalised pixels.
    pub fn imagenet() -> Self {
        Self::normalized(&IMAGENET_MEAN, &IMAGENET_STD)
    }

    /// `(value per channel)` broadcast to the shape of `x` (the sheet's `X*0 + bound`).
    fn fill(values: &[f64], x: &Tensor) -> Result<Tensor> {
        let c = values.len();
        if x.rank() < 2 || x.dim(1)? != c {
            candle_core::bail!("zB has bounds for {c} channels, the input is {:?}", x.dims());
        }
        let mut shape = vec![1; x.rank()];
        shape[1] = c;
        Tensor::new(values, x.device())?
            .to_dtype(x.dtype())?
            .reshape(shape)?
            .broadcast_as(x.shape())?
            .contiguous()
    }

    // ANCHOR: zbox_outputs
    /// `(z, p)` for inputs `[x, L, H]`.
    fn outputs(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<(Tensor, Tensor)> {
        let [x, l, h] = inputs else { candle_core::bail!("zB takes [x, L, H], got {} inputs", inputs.len()) };
        let (w, b) = (layer.weight(), layer.bias());
        let z = layer.apply(x, w, Some(b))?;
        let low = layer.apply(l, &positive(w)?, Some(&positive(b)?))?;
        let high = layer.apply(h, &negative(w)?, Some(&negative(b)?))?;
        let p = z.sub(&low)?.sub(&high)?;
        Ok((z, p))
    }
    // ANCHOR_END: zbox_outputs
}

impl Default for ZBox {
    /// [`ZBox::imagenet`].
    fn default() -> Self {
        Self::imagenet()
    }
}

// ANCHOR: zbox_rule
impl Rule for ZBox {
    fn name(&self) -> String {
        "zbox".into()
    }

    fn bounds(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        Ok(vec![Self::fill(&self.low, x)?, Self::fill(&self.high, x)?])
    }

    fn forward(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<Tensor> {
        let (z, p) = self.outputs(layer, inputs)?;
        reassign(&z, &p)
    }

    /// One convolution and one transposed pass: with the input stacked as `[X, L, H]` along
    /// the channels and the kernel as `K = [w, −w⁺, −w⁻]`, the denominator is
    /// `p = K ⋆ [X, L, H] = w⋆X − w⁺⋆L − w⁻⋆H` (the biases cancel), and `Kᵀs` holds the three
    /// gradients `wᵀs`, `−w⁺ᵀs`, `−w⁻ᵀs` (one convolution and one transposed pass instead of
    /// three of each). The layer's output `z` is the one the engine recorded.
    fn backward(&self, layer: &dyn Affine, inputs: &[Tensor], z: &Tensor, g: &Tensor) -> Result<Vec<Tensor>> {
        let [x, l, h] = inputs else { candle_core::bail!("zB takes [x, L, H], got {} inputs", inputs.len()) };
        let w = layer.weight();
        let kernel = Tensor::cat(&[w, &positive(w)?.neg()?, &negative(w)?.neg()?], 1)?;
        let stacked = Tensor::cat(&[x, l, h], 1)?;
        let p = layer.apply(&stacked, &kernel, None)?;
        let s = scaled_ratio_over(p, g, z)?;
        let c = x.dim(1)?;
        let all = layer.apply_transposed(&s, &kernel, stacked.shape())?;
        Ok(vec![all.narrow(1, 0, c)?, all.narrow(1, c, c)?, all.narrow(1, 2 * c, c)?])
    }
}
// ANCHOR_END: zbox_rule
