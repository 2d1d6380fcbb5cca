//! Dense layers `y = W x + b` (`W` of shape `(out, in)`, as `torch.nn.Linear`) and their
//! transposes `c = Wᵀ s`, on batches of row vectors.

use candle_core::{Result, Shape, Tensor};

/// A dense weight `(out, in)` prepared for passes over batches `(N, in)`.
#[derive(Debug, Clone)]
pub struct DenseKernel {
    weight: Tensor,
}

impl DenseKernel {
    /// A kernel for `weight` `(out ≥ 1, in ≥ 1)`.
    pub fn new(weight: Tensor) -> Result<Self> {
        let (o, i) = weight.dims2()?;
        if o == 0 || i == 0 {
            candle_core::bail!("a dense weight must be (out ≥ 1, in ≥ 1), got {:?}", weight.dims());
        }
        Ok(Self { weight })
    }

    /// The weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `W x + b` for each row `x` of `x` `(N, in)`, then `max(0, ·)` when `relu`. Computed as
    /// `(W xᵀ)ᵀ`: the same sums as `x Wᵀ`, but the product reads `W` row by row, which is
    /// several times faster for a batch of a few rows on a large `W`.
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        let y = self.weight.matmul(&x.t()?)?.t()?;
        let y = match bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        if relu { y.relu() } else { Ok(y) }
    }

    /// `c = s W` (row vectors): the transposed map, shaped as `input`.
    pub fn transposed(&self, s: &Tensor, input: &Shape) -> Result<Tensor> {
        s.matmul(&self.weight)?.reshape(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// ⟨s, W x⟩ = ⟨Wᵀ s, x⟩.
    #[test]
    fn transposed_is_the_adjoint() {
        let d = Device::Cpu;
        let w = Tensor::randn(0f64, 1.0, (5, 7), &d).unwrap();
        let dense = DenseKernel::new(w).unwrap();
        let x = Tensor::randn(0f64, 1.0, (3, 7), &d).unwrap();
        let s = Tensor::randn(0f64, 1.0, (3, 5), &d).unwrap();
        let lhs = (&s * dense.forward(&x, None, false).unwrap()).unwrap().sum_all().unwrap();
        let rhs = (dense.transposed(&s, x.shape()).unwrap() * &x).unwrap().sum_all().unwrap();
        approx::assert_relative_eq!(
            lhs.to_scalar::<f64>().unwrap(),
            rhs.to_scalar::<f64>().unwrap(),
            max_relative = 1e-12
        );
        assert!(DenseKernel::new(Tensor::zeros((0, 3), candle_core::DType::F32, &d).unwrap()).is_err());
    }
}
