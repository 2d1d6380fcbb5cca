//! LRP rules: how the relevance (modified gradient) passes through a layer with parameters.
//!
//! Every rule is the sheet's trick (exercise 4; zennit's `BasicHook`): a modified forward
//! pass `p` whose value is replaced by the layer's true output `z`,
//!
//! ```text
//! z ← p · [z / p]_cst          (PyTorch: p * (z / p).detach())
//! ```
//!
//! so that the forward pass is unchanged and the gradient flows through `p`. With `g` the
//! (modified) gradient at the layer's output and `s = g · z / p` (0 where `p = 0`), the
//! gradient at the input is `c = ∂p/∂a ᵀ s`, and the relevance is `R = a ⊙ c`, the LRP rule
//! `R_j = Σ_k a_j ρ(w_jk) / Σ_j a_j ρ(w_jk) · R_k` with `R_k = z_k g_k`.
//!
//! A [`Rule`] provides both halves: [`Rule::forward`] builds `p · [z/p]_cst` from candle ops,
//! for the autograd engine, and [`Rule::backward`] computes `c` directly, for the explicit
//! engine. A rule that needs more inputs than the activation (zB's bounds `L`, `H`) declares
//! them with [`Rule::bounds`]; its relevance is then `Σ_k input_k ⊙ c_k`.

pub mod epsilon;
pub mod gamma;
pub mod pass;
pub mod zbox;

pub use epsilon::Epsilon;
pub use gamma::Gamma;
pub use pass::Pass;
pub use zbox::ZBox;

use candle_core::{Result, Tensor, WithDType};

use crate::model::Affine;
use crate::model::elementwise::{contiguous_part, update_in_place, zip_map};

// ANCHOR: rule_trait
/// How a layer with parameters passes relevance (as a modified gradient) to its input.
pub trait Rule: std::fmt::Debug + Send + Sync {
    /// A short description (`"gamma(0.25)"`).
    fn name(&self) -> String;

    /// Extra inputs besides the activation, built from the layer's input `x` (zB: the bounds
    /// `L` and `H`). The engines pass `[x, bounds…]` to [`Rule::forward`] and
    /// [`Rule::backward`]. Default: none.
    fn bounds(&self, _x: &Tensor) -> Result<Vec<Tensor>> {
        Ok(Vec::new())
    }

    /// The layer's output `z` with the rule's gradient, `p · [z/p]_cst`, as candle ops
    /// differentiable in `inputs` (for the autograd engine).
    fn forward(&self, layer: &dyn Affine, inputs: &[Tensor]) -> Result<Tensor>;

    /// The modified gradient at each of `inputs`, given the layer's output `z` and the
    /// modified gradient `g` at that output (for the explicit engine). Where a ReLU follows
    /// the layer, the explicit engine passes `max(0, z)` for `z` (it runs the two as one):
    /// the same wherever `g`, masked by that ReLU, is not zero. The tensors returned
    /// must be new, not views of `inputs`, `z` or `g`: the engine writes over them (the ReLU
    /// mask below the layer is applied in place).
    fn backward(&self, layer: &dyn Affine, inputs: &[Tensor], z: &Tensor, g: &Tensor) -> Result<Vec<Tensor>>;
}
// ANCHOR_END: rule_trait

// ANCHOR: reassign
/// `z / p`, and 0 where `p = 0` (no relevance flows through a zero denominator).
pub fn ratio(z: &Tensor, p: &Tensor) -> Result<Tensor> {
    // The quotient is ±∞ or NaN where p = 0; `where_cond` never selects those entries.
    let zero = p.zeros_like()?;
    p.eq(&zero)?.where_cond(&zero, &z.div(p)?)
}

/// `g · z/p`, with `z/p` read as 0 where `p = 0`: the explicit engine's `s`, as `g`
/// times [`ratio`] but in one pass over the three tensors instead of six candle ops.
pub fn scaled_ratio(g: &Tensor, z: &Tensor, p: &Tensor) -> Result<Tensor> {
    zip_map([g, z, p], |[g, z, p]| scaled_ratio_of(p, g, z), |[g, z, p]| scaled_ratio_of(p, g, z))
}

/// [`scaled_ratio`] written over `p`, which the caller made for this call and passes on: no
/// new buffer, one parallel pass. A new tensor when `p` is not contiguous or shares storage
/// with `g` or `z`.
pub fn scaled_ratio_over(p: Tensor, g: &Tensor, z: &Tensor) -> Result<Tensor> {
    let same = |t: &Tensor| t.shape() == p.shape() && t.dtype() == p.dtype() && t.is_contiguous();
    // candle refuses (before writing) when an operand shares `p`'s storage.
    if p.is_contiguous() && same(g) && same(z) && p.inplace_op3(g, z, &ScaledRatio).is_ok() {
        return Ok(p);
    }
    scaled_ratio(g, z, &p)
}

/// `p ← g · z/p` (0 where `p = 0`), for [`scaled_ratio_over`].
struct ScaledRatio;

impl candle_core::InplaceOp3 for ScaledRatio {
    fn name(&self) -> &'static str {
        "scaled-ratio"
    }

    fn cpu_fwd(
        &self,
        p: &mut candle_core::CpuStorage,
        p_layout: &candle_core::Layout,
        g: &candle_core::CpuStorage,
        g_layout: &candle_core::Layout,
        z: &candle_core::CpuStorage,
        z_layout: &candle_core::Layout,
    ) -> Result<()> {
        use candle_core::CpuStorage::{F32, F64};
        let Some((p0, p1)) = p_layout.contiguous_offsets() else {
            candle_core::bail!("scaled-ratio needs contiguous tensors")
        };
        match (p, g, z) {
            (F32(p), F32(g), F32(z)) => {
                let others = [contiguous_part(g, g_layout)?, contiguous_part(z, z_layout)?];
                update_in_place(&mut p[p0..p1], others, |p, [g, z]| scaled_ratio_of(p, g, z));
            }
            (F64(p), F64(g), F64(z)) => {
                let others = [contiguous_part(g, g_layout)?, contiguous_part(z, z_layout)?];
                update_in_place(&mut p[p0..p1], others, |p, [g, z]| scaled_ratio_of(p, g, z));
            }
            _ => candle_core::bail!("scaled-ratio needs three f32 or three f64 tensors"),
        }
        Ok(())
    }
}

/// `g · z/p`, 0 where `p = 0`: the arithmetic of [`scaled_ratio`] and [`scaled_ratio_over`].
fn scaled_ratio_of<T: WithDType>(p: T, g: T, z: T) -> T {
    g * if p == T::zero() { T::zero() } else { z / p }
}

/// The sheet's reassignment `z ← p · [z/p]_cst`: the value of `z`, the gradient of `p`.
pub fn reassign(z: &Tensor, p: &Tensor) -> Result<Tensor> {
    p.mul(&ratio(&z.detach(), &p.detach())?.detach())
}
// ANCHOR_END: reassign

/// `w⁺ = max(0, w)`.
pub fn positive(w: &Tensor) -> Result<Tensor> {
    w.relu()
}

/// `w⁻ = min(0, w) = w − w⁺` (exact in floating point).
pub fn negative(w: &Tensor) -> Result<Tensor> {
    w.sub(&w.relu()?)
}

/// The one input of a rule without bounds, or an error naming the rule.
pub(crate) fn single<'a>(rule: &dyn Rule, inputs: &'a [Tensor]) -> Result<&'a Tensor> {
    match inputs {
        [a] => Ok(a),
        _ => candle_core::bail!("rule {} takes one input, got {}", rule.name(), inputs.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Linear;
    use candle_core::Device;

    #[test]
    fn ratio_is_zero_where_the_denominator_is() {
        let z = Tensor::new(&[1f64, 2., 0., -3.], &Device::Cpu).unwrap();
        let p = Tensor::new(&[2f64, 0., 0., 1.5], &Device::Cpu).unwrap();
        assert_eq!(ratio(&z, &p).unwrap().to_vec1::<f64>().unwrap(), [0.5, 0., 0., -2.]);
        let g = Tensor::new(&[3f64, 5., 7., -1.], &Device::Cpu).unwrap();
        let fused = scaled_ratio(&g, &z, &p).unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(fused, g.mul(&ratio(&z, &p).unwrap()).unwrap().to_vec1::<f64>().unwrap());
        let over = scaled_ratio_over(p.copy().unwrap(), &g, &z).unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(over, fused);
        // Sharing storage with an operand: computed into a new tensor, `p` left as it was.
        let shared = scaled_ratio_over(p.clone(), &g, &p).unwrap();
        assert_eq!(shared.to_vec1::<f64>().unwrap(), [3., 0., 0., -1.]);
        assert_eq!(p.to_vec1::<f64>().unwrap(), [2., 0., 0., 1.5]);
    }

    /// The explicit LRP-γ and zB passes against their formulas written out as loops
    /// (the slow twin), on a dense layer with hand-picked numbers.
    #[test]
    fn gamma_and_zbox_match_their_formulas_on_a_dense_layer() {
        let d = &Device::Cpu;
        let w = vec![vec![1.0, -2.0, 0.5], vec![-1.5, 0.25, 2.0]]; // (out 2, in 3)
        let b = [0.1, -0.2];
        let a = [0.7, 1.3, 0.4];
        let r_out = [0.9, -0.6];
        let layer = Linear::new(
            Tensor::new(&[[1.0f64, -2.0, 0.5], [-1.5, 0.25, 2.0]], d).unwrap(),
            Tensor::new(&b, d).unwrap(),
        );
        let x = Tensor::new(&[a], d).unwrap();
        let z = layer.apply(&x, layer.weight(), Some(layer.bias())).unwrap();
        let zs = z.to_vec2::<f64>().unwrap()[0].clone();
        // The modified gradient at the output is g = R/z, so that R = z·g.
        let g = Tensor::new(&[[r_out[0] / zs[0], r_out[1] / zs[1]]], d).unwrap();

        let gamma = 0.3;
        let c = Gamma::new(gamma).backward(&layer, &[x.clone()], &z, &g).unwrap();
        let r = (&x * &c[0]).unwrap().to_vec2::<f64>().unwrap()[0].clone();
        for j in 0..3 {
            let expected: f64 = (0..2)
                .map(|k| {
                    let rho = |v: f64| v + gamma * v.max(0.0);
                    let denominator: f64 = (0..3).map(|i| a[i] * rho(w[k][i])).sum::<f64>() + rho(b[k]);
                    a[j] * rho(w[k][j]) / denominator * r_out[k]
                })
                .sum();
            approx::assert_relative_eq!(r[j], expected, max_relative = 1e-12);
        }

        let (low, high) = ([-1.0, -2.0, -0.5], [2.0, 1.0, 3.0]);
        let zbox = ZBox::new(low.to_vec(), high.to_vec());
        let bounds = [Tensor::new(&[low], d).unwrap(), Tensor::new(&[high], d).unwrap()];
        let inputs = [x.clone(), bounds[0].clone(), bounds[1].clone()];
        let c = zbox.backward(&layer, &inputs, &z, &g).unwrap();
        let r: Vec<f64> = (0..3)
            .map(|i| {
                let parts: Vec<f64> = inputs
                    .iter()
                    .zip(&c)
                    .map(|(t, c)| (t * c).unwrap().to_vec2::<f64>().unwrap()[0][i])
                    .collect();
                parts.iter().sum()
            })
            .collect();
        for i in 0..3 {
            let expected: f64 = (0..2)
                .map(|k| {
                    let term =
                        |i: usize| a[i] * w[k][i] - low[i] * w[k][i].max(0.0) - high[i] * w[k][i].min(0.0);
                    term(i) / (0..3).map(term).sum::<f64>() * r_out[k]
                })
                .sum();
            approx::assert_relative_eq!(r[i], expected, max_relative = 1e-12);
        }
    }
}
