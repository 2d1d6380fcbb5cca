//! An attributor prepared for one model.

use candle_core::Tensor;

use super::explicit::StepTime;
use super::lrp::{Engine, ModifiedKernels};
use super::step::{Contributions, Step};
use super::{Attribution, autograd, explicit, times_input};
use crate::composite::Composite;
use crate::error::{Error, Result};
use crate::model::vgg::{in_parts, join_samples};
use crate::model::{Network, PreparedModel};

/// What the relevance is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// The modified gradient at the input.
    Gradient,
    /// `Σ_k input_k ⊙ gradient_k` (Gradient×Input, LRP).
    TimesInput,
}

/// An attributor ready for one model: the composite resolved into one checked step per layer,
/// and the kernels of the model's own weights, made on first use and kept until this value is
/// dropped (explaining many inputs with one `Prepared` pays for them once). The kernels of the
/// rules' modified weights (`W + γW⁺`, `W⁺`, …) are by default made by the step that uses them
/// and dropped after it, so that only one layer's are held at a time, or kept as well
/// ([`ModifiedKernels`]).
#[derive(Debug)]
pub struct Prepared<'m> {
    network: PreparedModel<'m>,
    steps: Vec<Step>,
    engine: Engine,
    output: Output,
}

impl<'m> Prepared<'m> {
    /// `composite` resolved against `model`, for `engine`, its modified kernels per `kernels`.
    pub(crate) fn new(
        model: &'m Network,
        composite: &Composite,
        (engine, kernels): (Engine, ModifiedKernels),
        output: Output,
    ) -> Result<Self> {
        let network = model.prepare()?;
        let rules = composite.resolve(model)?;
        let steps = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| Step::new(&network, i, rule.as_deref(), kernels))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { network, steps, engine, output })
    }

    /// The model.
    pub fn model(&self) -> &'m Network {
        self.network.model()
    }

    /// The logits and the relevance of every input value for output `class`, for each sample
    /// of `input` (`(N, 3, H, W)`, the model's dtype). Larger batches run in parts of a few
    /// samples (each sample is independent). A relevance that is not finite is an error.
    pub fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        self.check(input, class)?;
        let parts = in_parts(input, |x| {
            let (logits, contributions) = self.contributions(x, class)?;
            let relevance = match self.output {
                Output::TimesInput => times_input(&contributions)?,
                Output::Gradient => first_gradient(contributions)?,
            };
            Ok((logits, relevance))
        })?;
        let logits = join_samples(parts.iter().map(|p| &p.0).collect())?;
        let relevance = join_samples(parts.iter().map(|p| &p.1).collect())?;
        if !kernels::elementwise::all_finite(&relevance)? {
            return Err(Error::InvalidParameter {
                name: "relevance",
                value: "not finite".into(),
                why: "the explanation overflowed (a rule parameter or the input is too large for the model's precision)"
                    .into(),
            });
        }
        Ok(Attribution { logits, relevance })
    }

    /// The logits `(N, classes)` for `input`, on the prepared kernels.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        self.network.forward(input)
    }

    /// The steps of one explicit pass with their wall times (where an explanation spends its
    /// time), whatever the engine.
    pub fn profile(&self, input: &Tensor, class: usize) -> Result<Vec<StepTime>> {
        self.check(input, class)?;
        explicit::profile_steps(&self.network, &self.steps, input, class)
    }

    /// An error unless the model takes `input` and has output `class`.
    fn check(&self, input: &Tensor, class: usize) -> Result<()> {
        let model = self.model();
        model.check_input(input)?;
        if class >= model.classes() {
            return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
        }
        Ok(())
    }

    fn contributions(&self, x: &Tensor, class: usize) -> Result<(Tensor, Contributions)> {
        match self.engine {
            Engine::Explicit => explicit::modified_gradient(&self.network, &self.steps, x, class),
            Engine::Autograd => autograd::modified_gradient(&self.network, &self.steps, x, class),
        }
    }
}

/// The gradient at the input itself (the first contribution, whose input is the activation).
fn first_gradient(contributions: Contributions) -> Result<Tensor> {
    contributions.into_iter().next().map(|(_, _, g)| g).ok_or_else(|| Error::InvalidParameter {
        name: "attribution",
        value: "no inputs".into(),
        why: "the first layer gave no gradient".into(),
    })
}
