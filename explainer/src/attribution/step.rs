//! The generic LRP step, prepared per layer (see [`crate::rules`] for the math).
//!
//! A [`Step`] holds what a rule needs on its layer: for each group, the bias `Σ σ_k ρ_k(b)`
//! and the kernel of the stacked weight `[σ_k ρ_k(W)]_k` (along the input axis), so that a
//! group's denominator is one pass over the stacked inputs `[a_k]_k` and its transposed pass
//! gives every term's `σ_k ρ_k(W)ᵀ s` at once. By default a group's kernel is made in the step
//! that uses it and dropped at its end, so an explanation holds the modified kernels of one
//! layer at a time (a Winograd transform is 4× its weight: kept for every layer they would
//! outweigh the model's convolutions four times over); with [`ModifiedKernels::Kept`] it is
//! made on first use and kept with the step. The layer's own kernel, shared with the forward
//! pass, is kept by the [`PreparedModel`]. When
//! two consecutive groups split the layer into `θ⁺` and `θ⁻` halves on the same input (αβ on a
//! non-negative input), their denominators add up to the layer's output, `p₁ + p₂ = W·a + b =
//! z`, and the second is taken as `z − p₁` instead of another convolution.

use std::sync::OnceLock;

use candle_core::{DType, Tensor};
use kernels::elementwise::zip_map;

use super::lrp::ModifiedKernels;
use super::ratio::Ratio;
use crate::error::{Error, Result};
use crate::model::{Affine, Kernel, PreparedModel};
use crate::rules::{Group, Input, Modified, Modifier, Propagation, Rule};

/// What the engines do on one layer.
#[derive(Debug)]
pub(crate) enum Step {
    /// The layer's own gradient (ReLU: its mask; pools: routing or spreading).
    Gradient,
    /// A modified step with its prepared groups.
    Modified(ModifiedStep),
}

/// A rule's modified step on one layer.
#[derive(Debug)]
pub(crate) struct ModifiedStep {
    /// The rule's name, for messages.
    pub name: String,
    /// The rule as data.
    pub spec: Modified,
    /// Per group, what was prepared.
    groups: Vec<PreparedGroup>,
}

/// One group's bias `Σ σ_k ρ_k(b)`, checked finite once, and with [`ModifiedKernels::Kept`]
/// the cell that keeps its kernel with the live terms it was made for.
#[derive(Debug)]
struct PreparedGroup {
    bias: Option<Tensor>,
    kept: Option<OnceLock<(Vec<usize>, Kernel)>>,
}

impl Step {
    /// The step of `rule` (none: the gradient) on layer `index` of `network`, its parameters
    /// checked against the model's dtype, its modified kernels made per step or kept.
    pub fn new(
        network: &PreparedModel<'_>,
        index: usize,
        rule: Option<&dyn Rule>,
        kernels: ModifiedKernels,
    ) -> Result<Self> {
        let Some(rule) = rule else { return Ok(Step::Gradient) };
        let spec = match rule.propagation() {
            Propagation::Gradient | Propagation::Pass => return Ok(Step::Gradient),
            Propagation::Modified(spec) => spec,
        };
        let model = network.model();
        let name = format!("{} on {}", rule.name(), model.layer_names()[index]);
        check_representable(&name, &spec, model.dtype())?;
        let layer = &model.layers()[index];
        let groups = spec
            .groups
            .iter()
            .map(|group| {
                let bias = match layer.affine() {
                    Some(affine) => group_bias(&name, affine, group)?,
                    None => None,
                };
                let kept = (kernels == ModifiedKernels::Kept).then(OnceLock::new);
                Ok(PreparedGroup { bias, kept })
            })
            .collect::<Result<_>>()?;
        Ok(Step::Modified(ModifiedStep { name, spec, groups }))
    }
}

/// The distinct inputs of a modified step and the modified gradient at each (its terms' `σ_k
/// ρ_k(W)ᵀ s` summed per input): the relevance at the layer's input is `Σ input ⊙ gradient`.
pub(crate) type Contributions = Vec<(Input, Tensor, Tensor)>;

impl ModifiedStep {
    /// The step on layer `index` given its input `a`, its output `z` (`max(0, z)` where a ReLU
    /// follows: the same where the gradient is not zero) and the modified gradient `g` there;
    /// `a_nonnegative`/`z_nonnegative` say what is known of their signs.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        network: &PreparedModel<'_>,
        index: usize,
        a: &Tensor,
        a_nonnegative: bool,
        z: &Tensor,
        z_nonnegative: bool,
        g: &Tensor,
    ) -> Result<Contributions> {
        let own = network.kernel(index).ok_or_else(|| self.error("the layer has no kernel"))?;
        if self.spec.is_identity() {
            // p = z: no modified weights, and z must stay as it is.
            let ratio = Ratio { factor: 1.0, outputs: crate::rules::Outputs::All, epsilon: self.epsilon() };
            let s = ratio.new_tensor(z, g, z)?;
            return Ok(vec![(Input::Activation, a.clone(), own.transposed(&s, a.shape())?)]);
        }
        let layer = &network.model().layers()[index];
        let affine = layer.affine().ok_or_else(|| self.error("a modified step needs parameters"))?;
        let mut out: Contributions = Vec::new();
        // The denominator of the next group when it is the complement of this one.
        let mut complement: Option<Tensor> = None;
        let live = |group: &Group| -> Vec<usize> {
            (0..group.terms.len())
                .filter(|&k| !(a_nonnegative && group.terms[k].input == Input::Negative))
                .collect()
        };
        for (i, (group, prepared)) in self.spec.groups.iter().zip(&self.groups).enumerate() {
            let given = complement.take();
            if group.outputs == crate::rules::Outputs::Negative && z_nonnegative {
                continue; // no output is negative: the group explains nothing
            }
            if group.factor == 0.0 {
                continue; // αβ with β = 0: the group's relevance is 0·(…)
            }
            let terms = live(group);
            if terms.is_empty() {
                continue;
            }
            let inputs = terms
                .iter()
                .map(|&k| term_input(&group.terms[k].input, a, a_nonnegative))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let stacked = if inputs.len() == 1 { inputs[0].clone() } else { Tensor::cat(&inputs, 1)? };
            // Its forward and transposed passes share one transform, made here or kept.
            let make =
                || -> Result<Kernel> { Ok(affine.kernel(self.stacked_weight(affine, group, &terms)?)?) };
            let made: Kernel;
            let kernel = match &prepared.kept {
                Some(cell) => {
                    if cell.get().is_none() {
                        // Another thread may have set it meanwhile: then this one is dropped.
                        let _ = cell.set((terms.clone(), make()?));
                    }
                    match cell.get() {
                        Some((kept_terms, kernel)) if *kept_terms == terms => kernel,
                        _ => {
                            made = make()?; // kept for other live terms: made for this step
                            &made
                        }
                    }
                }
                None => {
                    made = make()?;
                    &made
                }
            };
            let p = match given {
                Some(p) => p,
                None => kernel.forward(&stacked, prepared.bias.as_ref(), false)?,
            };
            if let Some(next) = self.spec.groups.get(i + 1)
                && next.factor != 0.0
                && complementary(group, &terms, next, &live(next), a_nonnegative)
            {
                // p_next = W·a + b − p = z: one convolution fewer (αβ's second group).
                complement = Some(z.sub(&p)?);
            }
            let ratio = Ratio { factor: group.factor, outputs: group.outputs, epsilon: self.epsilon() };
            let s = ratio.over(p, g, z)?;
            let c = kernel.transposed(&s, stacked.shape())?;
            let channels = a.dim(1)?;
            for (j, (&k, input)) in terms.iter().zip(inputs).enumerate() {
                let part = if terms.len() == 1 { c.clone() } else { c.narrow(1, j * channels, channels)? };
                let which = &group.terms[k].input;
                match out.iter_mut().find(|(i, _, _)| i == which) {
                    Some((_, _, sum)) => *sum = sum.add(&part)?,
                    None => out.push((which.clone(), input, part)),
                }
            }
        }
        if out.is_empty() {
            out.push((Input::Activation, a.clone(), a.zeros_like()?));
        }
        Ok(out)
    }

    /// The step of an identity rule (Norm) on a sum `z = Σ_k x_k` given the modified gradient
    /// `g` at `z`: `s = g·z/stab(z)`, the modified gradient at every `x_k`, so that the
    /// relevance `R_k = x_k·s = x_k·R/stab(z)` splits `R = z·g` by contribution.
    pub fn sum_ratio(&self, z: &Tensor, g: &Tensor) -> Result<Tensor> {
        if !self.spec.is_identity() {
            return Err(self.error("only an identity rule (Norm) or the gradient applies to a sum"));
        }
        let ratio = Ratio { factor: 1.0, outputs: crate::rules::Outputs::All, epsilon: self.epsilon() };
        Ok(ratio.new_tensor(z, g, z)?)
    }

    /// ε of the rule's stabiliser.
    pub fn epsilon(&self) -> f64 {
        self.spec.stabiliser.epsilon()
    }

    /// `[σ_k ρ_k(W)]_k` over `terms`, stacked along the input axis, checked finite.
    fn stacked_weight(&self, affine: &dyn Affine, group: &Group, terms: &[usize]) -> Result<Tensor> {
        let parts = terms
            .iter()
            .map(|&k| modified(affine.weight(), group.terms[k].weight, group.terms[k].sign))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let w = if parts.len() == 1 { parts[0].clone() } else { Tensor::cat(&parts, 1)? };
        check_finite(&self.name, "modified weight", &w)?;
        Ok(w)
    }

    fn error(&self, why: &str) -> Error {
        Error::InvalidParameter { name: "composite", value: self.name.clone(), why: why.into() }
    }
}

/// Whether the denominators of groups `a` and `b` (over their live `terms`) add up to the
/// layer's own output `z = W·x + b`: each has one term with sign +1 reading the layer input
/// itself, one modifies weight and bias by `θ⁺` and the other by `θ⁻`, and `θ⁺ + θ⁻ = θ`.
/// Then `p_b = z − p_a` (αβ's two groups on a non-negative input), exact up to rounding of
/// the order of `z`'s and `p_a`'s.
fn complementary(a: &Group, a_terms: &[usize], b: &Group, b_terms: &[usize], a_nonnegative: bool) -> bool {
    let ([ka], [kb]) = (a_terms, b_terms) else { return false };
    let (ta, tb) = (&a.terms[*ka], &b.terms[*kb]);
    let reads_the_input = |input: &Input| match input {
        Input::Activation => true,
        Input::Positive => a_nonnegative,
        _ => false,
    };
    let halves = matches!(
        (ta.weight, tb.weight),
        (Modifier::Positive, Modifier::Negative) | (Modifier::Negative, Modifier::Positive)
    );
    ta.input == tb.input
        && reads_the_input(&ta.input)
        && ta.sign == 1.0
        && tb.sign == 1.0
        && ta.weight == ta.bias
        && tb.weight == tb.bias
        && halves
}

/// The tensor a term reads for the layer input `a`.
pub(crate) fn term_input(input: &Input, a: &Tensor, a_nonnegative: bool) -> candle_core::Result<Tensor> {
    match input {
        Input::Activation => Ok(a.clone()),
        Input::Positive if a_nonnegative => Ok(a.clone()),
        Input::Positive => a.relu(),
        Input::Negative => a.minimum(0.0),
        Input::Ones => a.ones_like(),
        Input::PerChannel(values) => per_channel(values, a),
    }
}

/// One value per channel (axis 1) broadcast to the shape of `a` (the sheet's `X*0 + bound`).
pub(crate) fn per_channel(values: &[f64], a: &Tensor) -> candle_core::Result<Tensor> {
    let mut shape = vec![1; a.rank()];
    shape[1] = values.len();
    Tensor::new(values, a.device())?
        .to_dtype(a.dtype())?
        .reshape(shape)?
        .broadcast_as(a.shape())?
        .contiguous()
}

/// `σ · ρ(θ)` elementwise, in `θ`'s dtype: the arithmetic of [`Modifier::apply`], with the
/// choice of modifier and sign made once, outside the loop (so that it vectorises; a branch on
/// them per element made a weight's modification the larger part of making its kernel).
pub(crate) fn modified(theta: &Tensor, modifier: Modifier, sign: f64) -> candle_core::Result<Tensor> {
    if modifier == Modifier::Keep && sign == 1.0 {
        return Ok(theta.clone());
    }
    let negate = sign < 0.0;
    /// `v` in the type of `t` (0, 1, γ).
    fn like<T: candle_core::WithDType>(_: T, v: f64) -> T {
        T::from_f64(v)
    }
    macro_rules! each {
        (|$t:ident| $rho:expr) => {
            if negate {
                zip_map([theta], |[$t]: [f32; 1]| -($rho), |[$t]: [f64; 1]| -($rho))
            } else {
                zip_map([theta], |[$t]: [f32; 1]| $rho, |[$t]: [f64; 1]| $rho)
            }
        };
    }
    match modifier {
        Modifier::Keep => each!(|t| t),
        Modifier::Positive => each!(|t| if t > 0.0 { t } else { 0.0 }),
        Modifier::Negative => each!(|t| if t < 0.0 { t } else { 0.0 }),
        Modifier::Zero => each!(|t| like(t, 0.0)),
        Modifier::Ones => each!(|t| like(t, 1.0)),
        Modifier::Square => each!(|t| t * t),
        Modifier::AddPositive(g) => each!(|t| t + like(t, g) * if t > 0.0 { t } else { 0.0 }),
        Modifier::AddNegative(g) => each!(|t| t + like(t, g) * if t < 0.0 { t } else { 0.0 }),
    }
}

/// `Σ_k σ_k ρ_k(b)` of a group (`None` when every term's bias is zeroed), checked finite.
fn group_bias(name: &str, affine: &dyn Affine, group: &Group) -> Result<Option<Tensor>> {
    let mut sum: Option<Tensor> = None;
    for term in group.terms.iter().filter(|t| t.bias != Modifier::Zero) {
        let b = modified(affine.bias(), term.bias, term.sign)?;
        sum = Some(match sum {
            Some(s) => s.add(&b)?,
            None => b,
        });
    }
    if let Some(b) = &sum {
        check_finite(name, "modified bias", b)?;
    }
    Ok(sum)
}

/// An error unless every value of `t` is finite (a γ too large for the dtype overflows).
fn check_finite(name: &str, what: &str, t: &Tensor) -> Result<()> {
    if !kernels::elementwise::all_finite(t)? {
        return Err(Error::InvalidParameter {
            name: "rule",
            value: name.to_owned(),
            why: format!(
                "its {what} is not finite in {:?}: a parameter is too large for that precision",
                t.dtype()
            ),
        });
    }
    Ok(())
}

/// An error unless every parameter of `spec` is meaningful in `dtype`: finite there (ε, the
/// bounds), and γ and the group weights (α, β) at most `1/u` with `u` the dtype's unit roundoff
/// (2⁻²³ in float32): beyond it `W + γW⁺` rounds to `γW⁺` (the z⁺ limit, only scaled towards
/// overflow), and `α·(…) − β·(…)` cancels every digit.
fn check_representable(name: &str, spec: &Modified, dtype: DType) -> Result<()> {
    let unit = match dtype {
        DType::F32 => f64::from(f32::EPSILON),
        _ => f64::EPSILON,
    };
    let mut finite = vec![("stabiliser ε", spec.stabiliser.epsilon())];
    let mut bounded = Vec::new();
    for group in &spec.groups {
        bounded.push(("group weight (α or β)", group.factor));
        for term in &group.terms {
            bounded.extend(term.weight.parameter().map(|g| ("γ", g)));
            if let Input::PerChannel(bounds) = &term.input {
                finite.extend(bounds.iter().map(|&b| ("bound", b)));
            }
        }
    }
    let refuse = |what: &str, v: f64, why: String| {
        Err(Error::InvalidParameter { name: "rule", value: format!("{name}: {what} = {v:?}"), why })
    };
    for (what, v) in finite {
        let fits = match dtype {
            DType::F32 => (v as f32).is_finite(),
            _ => v.is_finite(),
        };
        if !fits {
            return refuse(what, v, format!("is not finite in the model's precision {dtype:?}"));
        }
    }
    for (what, v) in bounded {
        if v.is_nan() || v.abs() * unit > 1.0 {
            return refuse(
                what,
                v,
                format!(
                    "is beyond 1/u = {:.3e} for the model's precision {dtype:?}: the rule's arithmetic \
                 loses every digit there (use {:.0e} or less, or z⁺ for γ → ∞)",
                    1.0 / unit,
                    1.0 / unit
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The vectorised map is [`Modifier::apply`] (and the sign) bit for bit, for every modifier,
    /// in both dtypes, on values of both signs, zeros, infinities and NaN.
    #[test]
    fn modified_is_apply_bit_for_bit() {
        let values = [-2.5, -0.0, 0.0, 1.25, 3e30, -7e-30, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let modifiers = [
            Modifier::Keep,
            Modifier::Positive,
            Modifier::Negative,
            Modifier::Zero,
            Modifier::Ones,
            Modifier::Square,
            Modifier::AddPositive(0.25),
            Modifier::AddNegative(3.0),
        ];
        for modifier in modifiers {
            for sign in [1.0, -1.0] {
                let theta = Tensor::new(&values, &Device::Cpu).unwrap();
                let ours = modified(&theta, modifier, sign).unwrap().to_vec1::<f64>().unwrap();
                let theta32 = theta.to_dtype(DType::F32).unwrap();
                let ours32 = modified(&theta32, modifier, sign).unwrap().to_vec1::<f32>().unwrap();
                for (i, &v) in values.iter().enumerate() {
                    // The sign as negation, as before the map was vectorised.
                    let (expected, expected32) = (modifier.apply(v), modifier.apply(v as f32));
                    let (expected, expected32) =
                        if sign < 0.0 { (-expected, -expected32) } else { (expected, expected32) };
                    assert_eq!(ours[i].to_bits(), expected.to_bits(), "{modifier:?} {sign} {v}");
                    assert_eq!(ours32[i].to_bits(), expected32.to_bits(), "f32 {modifier:?} {sign} {v}");
                }
            }
        }
    }
}
