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

use candle_core::{Result, Tensor};

use crate::model::Affine;

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
    /// modified gradient `g` at that output (for the explicit engine).
    fn backward(&self, layer: &dyn Affine, inputs: &[Tensor], z: &Tensor, g: &Tensor) -> Result<Vec<Tensor>>;
}
// ANCHOR_END: rule_trait

// ANCHOR: reassign
/// `z / p`, and 0 where `p = 0` (no relevance flows through a zero denominator).
pub fn ratio(z: &Tensor, p: &Tensor) -> Result<Tensor> {
    let zero = p.zeros_like()?;
    let is_zero = p.eq(&zero)?;
    let safe_p = is_zero.where_cond(&zero.ones_like()?, p)?;
    is_zero.where_cond(&zero, &z.div(&safe_p)?)
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
