//! BatchNorm in evaluation mode: a fixed affine map per channel.

use candle_core::{DType, Result, Tensor};

/// `torch.nn.BatchNorm2d` in evaluation mode: per channel `c`,
/// `y = (x − μ_c)/√(σ²_c + ε) · γ_c + β_c = s_c·x + t_c` with the scale `s = γ/√(σ² + ε)` and the
/// shift `t = β − μ·s` (computed as PyTorch's CPU kernel does, in the parameters' dtype).
#[derive(Debug, Clone)]
pub struct BatchNorm2d {
    weight: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    eps: f64,
    scale: Tensor,
    shift: Tensor,
}

impl BatchNorm2d {
    /// A BatchNorm from γ (`weight`), β (`bias`), μ (`running_mean`), σ² (`running_var`), all
    /// `(C)` floats of one dtype, and `eps > 0`; `σ² + ε` must be positive everywhere.
    pub fn new(
        weight: Tensor,
        bias: Tensor,
        running_mean: Tensor,
        running_var: Tensor,
        eps: f64,
    ) -> Result<Self> {
        let channels = weight.dims1()?;
        for (name, t) in [("bias", &bias), ("running_mean", &running_mean), ("running_var", &running_var)] {
            if t.dims() != [channels] || t.dtype() != weight.dtype() {
                candle_core::bail!(
                    "batch norm: {name} must be ({channels}) of {:?} like the weight, got {:?} of {:?}",
                    weight.dtype(),
                    t.dims(),
                    t.dtype()
                );
            }
        }
        if !weight.dtype().is_float() {
            candle_core::bail!("batch norm: parameters must be floats, got {:?}", weight.dtype());
        }
        if !(eps.is_finite() && eps > 0.0) {
            candle_core::bail!("batch norm: eps must be finite and positive, got {eps}");
        }
        let denominator = (&running_var + eps)?;
        if denominator.to_dtype(DType::F64)?.min_all()?.to_scalar::<f64>()? <= 0.0 {
            candle_core::bail!("batch norm: running_var + eps must be positive in every channel");
        }
        let scale = weight.div(&denominator.sqrt()?)?;
        let shift = bias.sub(&running_mean.mul(&scale)?)?;
        Ok(Self { weight, running_mean, running_var, eps, scale, shift })
    }

    /// The identity's parameters (γ = 1, β = 0, μ = 0, σ² = 1) with `eps`: what zennit leaves
    /// after merging a BatchNorm into the convolution before it, `y = x/√(1 + ε)`.
    pub fn merged_leftover(channels: usize, eps: f64, like: &Tensor) -> Result<Self> {
        let ones = Tensor::ones(channels, like.dtype(), like.device())?;
        let zeros = ones.zeros_like()?;
        Self::new(ones.clone(), zeros.clone(), zeros, ones, eps)
    }

    /// The per-channel scale `s = γ/√(σ² + ε)`.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    /// The per-channel shift `t = β − μ·s`.
    pub fn shift(&self) -> &Tensor {
        &self.shift
    }

    /// ε.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.scale.elem_count()
    }

    /// `s·x + t` for `x` `(N, C, H, W)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let c = self.channels();
        x.broadcast_mul(&self.scale.reshape((1, c, 1, 1))?)?.broadcast_add(&self.shift.reshape((1, c, 1, 1))?)
    }

    /// The transposed map (the gradient at the input), `s·g`.
    pub fn transposed(&self, g: &Tensor) -> Result<Tensor> {
        g.broadcast_mul(&self.scale.reshape((1, self.channels(), 1, 1))?)
    }

    /// The same with the shift set to zero (β = μ·s), for conservation checks.
    pub fn without_shift(&self) -> Result<Self> {
        let bias = self.running_mean.mul(&self.scale)?;
        let mut out = Self::new(
            self.weight.clone(),
            bias,
            self.running_mean.clone(),
            self.running_var.clone(),
            self.eps,
        )?;
        out.shift = out.shift.zeros_like()?;
        Ok(out)
    }
}
