//! Integrated Gradients (Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep
//! networks"): the gradient integrated along the straight path from a baseline to the input.

use candle_core::{DType, Tensor};

use super::baseline::Baseline;
use super::gradient::Gradient;
use super::quadrature::Quadrature;
use super::{Attribution, Attributor, Explain, Prepared};
use crate::error::{Error, Result};
use crate::model::Network;

/// Most scaled images run through the model at once.
const IMAGES_PER_PASS: usize = 256;

/// Integrated Gradients, `R = (x − x̄) ⊙ ∫₀¹ ∂f_c/∂x (x̄ + α(x − x̄)) dα`, the integral by a
/// [`Quadrature`] with `steps` nodes: `R ≈ (x − x̄) ⊙ Σ_i w_i ∂f_c/∂x (x̄ + α_i(x − x̄))`.
///
/// Completeness: `Σ R = f_c(x) − f_c(x̄)` for the exact integral; the quadrature's residual is
/// [`IntegratedAttribution::residuals`].
#[derive(Debug, Clone)]
pub struct IntegratedGradients {
    baseline: Baseline,
    alphas: Vec<f64>,
    weights: Vec<f64>,
}

impl IntegratedGradients {
    /// From `baseline` with `steps` nodes of `quadrature` (at least 2 for the trapezoid, 1
    /// for Gauss–Legendre).
    pub fn new(baseline: Baseline, steps: usize, quadrature: Quadrature) -> Result<Self> {
        let (alphas, weights) = quadrature.nodes(steps)?;
        Ok(Self { baseline, alphas, weights })
    }

    /// From `baseline` with given nodes `α_i ∈ [0, 1]` and finite weights `w_i` (at least one
    /// node; e.g. another library's rounded weights).
    pub fn with_nodes(baseline: Baseline, alphas: Vec<f64>, weights: Vec<f64>) -> Result<Self> {
        let valid = !alphas.is_empty()
            && alphas.len() == weights.len()
            && alphas.iter().all(|a| (0.0..=1.0).contains(a))
            && weights.iter().all(|w| w.is_finite());
        if !valid {
            return Err(Error::InvalidParameter {
                name: "quadrature nodes",
                value: format!("{} nodes, {} weights", alphas.len(), weights.len()),
                why: "need as many finite weights as nodes, at least one, every node in [0, 1]".into(),
            });
        }
        Ok(Self { baseline, alphas, weights })
    }

    /// The baseline.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// The number of nodes.
    pub fn steps(&self) -> usize {
        self.alphas.len()
    }

    /// Made ready for `model`.
    pub fn prepare<'m>(&self, model: &'m Network) -> Result<PreparedIntegratedGradients<'m>> {
        Ok(PreparedIntegratedGradients {
            gradient: Gradient.prepare(model)?,
            baseline: self.baseline.clone(),
            alphas: self.alphas.clone(),
            weights: self.weights.clone(),
        })
    }
}

impl super::AnyAttributor for IntegratedGradients {
    fn prepare_any<'m>(&self, model: &'m Network) -> Result<Box<dyn Explain + 'm>> {
        Ok(Box::new(self.prepare(model)?))
    }
}

/// What Integrated Gradients returns: the attribution and the baseline's logits.
#[derive(Debug, Clone)]
pub struct IntegratedAttribution {
    /// The logits of the input and the relevance.
    pub attribution: Attribution,
    /// The logits of the baselines, `(N, classes)`.
    pub baseline_logits: Tensor,
}

impl IntegratedAttribution {
    /// The completeness residual of each image, `Σ R − (f_c(x) − f_c(x̄))`.
    pub fn residuals(&self, class: usize) -> Result<Vec<f64>> {
        let sums: Vec<f64> =
            self.attribution.relevance.to_dtype(DType::F64)?.flatten_from(1)?.sum(1)?.to_vec1()?;
        let logits: Vec<Vec<f64>> = self.attribution.logits.to_dtype(DType::F64)?.to_vec2()?;
        let baseline: Vec<Vec<f64>> = self.baseline_logits.to_dtype(DType::F64)?.to_vec2()?;
        Ok(sums
            .iter()
            .zip(logits.iter().zip(&baseline))
            .map(|(s, (f, b))| s - (f[class] - b[class]))
            .collect())
    }
}

/// [`IntegratedGradients`] made ready for one model.
#[derive(Debug)]
pub struct PreparedIntegratedGradients<'m> {
    gradient: Prepared<'m>,
    baseline: Baseline,
    alphas: Vec<f64>,
    weights: Vec<f64>,
}

impl PreparedIntegratedGradients<'_> {
    /// The relevance for `class` of each image of `input` (`(N, C, H, W)`), with the logits
    /// of input and baseline.
    pub fn explain(&self, input: &Tensor, class: usize) -> Result<IntegratedAttribution> {
        let (n, c, h, w) = input.dims4()?;
        let baselines = self.baseline.images(input)?;
        let logits = self.gradient.forward(input)?;
        let baseline_logits = self.gradient.forward(&baselines)?;
        let steps = self.alphas.len();
        let device = input.device();
        let alphas =
            Tensor::from_slice(&self.alphas, (1, steps, 1, 1, 1), device)?.to_dtype(input.dtype())?;
        let weights =
            Tensor::from_slice(&self.weights, (1, steps, 1, 1, 1), device)?.to_dtype(input.dtype())?;
        let per_pass = (IMAGES_PER_PASS / steps).max(1);
        let mut parts = Vec::new();
        for start in (0..n).step_by(per_pass) {
            let k = per_pass.min(n - start);
            let x = input.narrow(0, start, k)?;
            let base = baselines.narrow(0, start, k)?;
            let difference = x.sub(&base)?;
            let scaled = base
                .unsqueeze(1)?
                .broadcast_add(&difference.unsqueeze(1)?.broadcast_mul(&alphas)?)?
                .reshape((k * steps, c, h, w))?;
            let gradients =
                self.gradient.attribute(&scaled, class)?.relevance.reshape((k, steps, c, h, w))?;
            let integral = gradients.broadcast_mul(&weights)?.sum(1)?;
            parts.push(difference.mul(&integral)?);
        }
        let relevance = Tensor::cat(&parts, 0)?;
        if !kernels::elementwise::all_finite(&relevance)? {
            return Err(Error::NonFinite {
                what: "Integrated Gradients relevance",
                index: 0,
                value: f64::NAN,
            });
        }
        Ok(IntegratedAttribution { attribution: Attribution { logits, relevance }, baseline_logits })
    }
}

impl Explain for PreparedIntegratedGradients<'_> {
    fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        Ok(self.explain(input, class)?.attribution)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::model::{Vgg, VggConfig};

    #[test]
    fn completeness_holds_for_many_steps_and_batching_does_not_matter() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (3, 3, 8, 8), &Device::Cpu).unwrap();
        // The integrand is piecewise constant along the path (ReLUs, max-pools switch many
        // times near the zero baseline of this random network), so the error falls like 1/n.
        let coarse = IntegratedGradients::new(Baseline::Zeros, 10, Quadrature::Trapezoid).unwrap();
        let coarse = coarse.prepare(&vgg).unwrap().explain(&x, 1).unwrap().residuals(1).unwrap();
        let ig = IntegratedGradients::new(Baseline::Zeros, 2000, Quadrature::Trapezoid).unwrap();
        let prepared = ig.prepare(&vgg).unwrap();
        let explained = prepared.explain(&x, 1).unwrap();
        let fine = explained.residuals(1).unwrap();
        // The logits are O(1): the residual is a small absolute number, and smaller than with
        // 10 nodes in total.
        assert!(fine.iter().all(|r| r.abs() < 5e-3), "{fine:?}");
        let total = |r: &[f64]| r.iter().map(|v| v.abs()).sum::<f64>();
        assert!(total(&fine) < total(&coarse), "{fine:?} against {coarse:?}");
        let alone = prepared.explain(&x.narrow(0, 2, 1).unwrap(), 1).unwrap().attribution.relevance;
        let batched = explained.attribution.relevance.narrow(0, 2, 1).unwrap();
        let diff: f64 = (alone - batched).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(diff < 1e-12, "{diff}");
    }

    #[test]
    fn on_a_linear_region_it_is_gradient_times_input() {
        // Two nodes of the trapezoid at a baseline of zeros: R = x ⊙ (g(0) + g(x)) / 2; with
        // the same input as baseline the relevance is 0.
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu).unwrap();
        let ig =
            IntegratedGradients::new(Baseline::Image(x.get(0).unwrap()), 5, Quadrature::Trapezoid).unwrap();
        let r = ig.prepare(&vgg).unwrap().explain(&x, 0).unwrap().attribution.relevance;
        assert_eq!(r.abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap(), 0.0);
        let ig = IntegratedGradients::new(Baseline::Zeros, 2, Quadrature::Trapezoid).unwrap();
        let r = ig.prepare(&vgg).unwrap().explain(&x, 0).unwrap().attribution.relevance;
        let g0 = Gradient.attribute(&vgg, &x.zeros_like().unwrap(), 0).unwrap().relevance;
        let g1 = Gradient.attribute(&vgg, &x, 0).unwrap().relevance;
        let expected = ((g0 + g1).unwrap() * 0.5).unwrap().mul(&x).unwrap();
        let diff: f64 = (r - expected).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(diff < 1e-12, "{diff}");
        assert!(IntegratedGradients::new(Baseline::Zeros, 1, Quadrature::Trapezoid).is_err());
        assert!(IntegratedGradients::with_nodes(Baseline::Zeros, vec![0.5], vec![1.0]).is_ok());
        assert!(IntegratedGradients::with_nodes(Baseline::Zeros, vec![1.5], vec![1.0]).is_err());
        assert!(IntegratedGradients::with_nodes(Baseline::Zeros, vec![0.5], vec![]).is_err());
        assert!(IntegratedGradients::with_nodes(Baseline::Zeros, vec![], vec![]).is_err());
    }
}
