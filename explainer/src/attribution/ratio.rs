//! The generic step's elementwise map: `s = f · [z selected] · g · z / stab(p)`.

use candle_core::{CpuStorage, InplaceOp3, Layout, Result, Tensor, WithDType};
use kernels::elementwise::{contiguous_part, update_in_place, zip_map};

use crate::rules::Outputs;

/// The parameters of one group's map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ratio {
    /// `f`, the group's weight.
    pub factor: f64,
    /// Which outputs `z` the group explains.
    pub outputs: Outputs,
    /// ε of `stab(p) = p + ε·sign(p)` (`sign(0) = 1`).
    pub epsilon: f64,
}

impl Ratio {
    /// `s` for one position: 0 where `z` is not selected or `stab(p) = 0`.
    fn at<T: WithDType>(self, p: T, g: T, z: T) -> T {
        let (zero, epsilon) = (T::zero(), T::from_f64(self.epsilon));
        let selected = match self.outputs {
            Outputs::All => true,
            Outputs::Positive => z > zero,
            Outputs::Negative => z < zero,
        };
        // With ε = 0 this is `p` itself (a zero `p` passes nothing either way), and a factor
        // of 1 multiplies exactly: no special cases.
        let p = if p >= zero { p + epsilon } else { p - epsilon };
        if !selected || p == zero {
            return zero;
        }
        T::from_f64(self.factor) * (g * (z / p))
    }

    /// `s` written over `p`, which the caller made for this call: one pass, no new buffer; a
    /// new tensor when `p` cannot be written in place.
    pub fn over(self, p: Tensor, g: &Tensor, z: &Tensor) -> Result<Tensor> {
        let same = |t: &Tensor| t.shape() == p.shape() && t.dtype() == p.dtype() && t.is_contiguous();
        // candle refuses (before writing) when an operand shares `p`'s storage.
        if p.is_contiguous() && same(g) && same(z) && p.inplace_op3(g, z, &self).is_ok() {
            return Ok(p);
        }
        self.new_tensor(&p, g, z)
    }

    /// `s` as a new tensor.
    pub fn new_tensor(self, p: &Tensor, g: &Tensor, z: &Tensor) -> Result<Tensor> {
        zip_map([p, g, z], |[p, g, z]| self.at(p, g, z), |[p, g, z]| self.at(p, g, z))
    }
}

impl InplaceOp3 for Ratio {
    fn name(&self) -> &'static str {
        "lrp-ratio"
    }

    fn cpu_fwd(
        &self,
        p: &mut CpuStorage,
        p_layout: &Layout,
        g: &CpuStorage,
        g_layout: &Layout,
        z: &CpuStorage,
        z_layout: &Layout,
    ) -> Result<()> {
        use CpuStorage::{F32, F64};
        let Some((p0, p1)) = p_layout.contiguous_offsets() else {
            candle_core::bail!("lrp-ratio needs contiguous tensors")
        };
        match (p, g, z) {
            (F32(p), F32(g), F32(z)) => {
                let others = [contiguous_part(g, g_layout)?, contiguous_part(z, z_layout)?];
                update_in_place(&mut p[p0..p1], others, |p, [g, z]| self.at(p, g, z));
            }
            (F64(p), F64(g), F64(z)) => {
                let others = [contiguous_part(g, g_layout)?, contiguous_part(z, z_layout)?];
                update_in_place(&mut p[p0..p1], others, |p, [g, z]| self.at(p, g, z));
            }
            _ => candle_core::bail!("lrp-ratio needs three f32 or three f64 tensors"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn ratio_selects_stabilises_and_reads_zero_denominators_as_zero() {
        let d = &Device::Cpu;
        let p = Tensor::new(&[2f64, 0., -4., 1.], d).unwrap();
        let g = Tensor::new(&[3f64, 5., 7., -1.], d).unwrap();
        let z = Tensor::new(&[1f64, 2., -2., 0.], d).unwrap();
        let plain = Ratio { factor: 1.0, outputs: Outputs::All, epsilon: 0.0 };
        assert_eq!(plain.new_tensor(&p, &g, &z).unwrap().to_vec1::<f64>().unwrap(), [1.5, 0., 3.5, 0.]);
        let stabilised = Ratio { factor: -0.5, outputs: Outputs::All, epsilon: 1.0 };
        let s = stabilised.over(p.copy().unwrap(), &g, &z).unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(s, [-0.5 * 3. * (1. / 3.), -0.5 * 5. * 2., -0.5 * 7. * (-2. / -5.), 0.]);
        let positive = Ratio { factor: 1.0, outputs: Outputs::Positive, epsilon: 0.0 };
        assert_eq!(positive.new_tensor(&p, &g, &z).unwrap().to_vec1::<f64>().unwrap(), [1.5, 0., 0., 0.]);
        let negative = Ratio { factor: 1.0, outputs: Outputs::Negative, epsilon: 0.0 };
        assert_eq!(negative.new_tensor(&p, &g, &z).unwrap().to_vec1::<f64>().unwrap(), [0., 0., 3.5, 0.]);
    }
}
