//! One prototype: the class, the penalty, the ascent, and what the network and the prior say
//! about the result.

use nalgebra::DVector;

use super::ascent::{Ascent, AscentResult};
use super::gaussian_prior::GaussianPrior;
use super::generator::{CodeObjective, LinearGenerator};
use super::l2::L2Penalty;
use super::low_rank_gaussian::LowRankGaussian;
use super::penalty::InputObjective;
use super::score::ClassScore;
use crate::error::{Error, Result};

/// The three penalties of exercise 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PenaltyKind {
    /// (a) `λ‖x − x₀‖²`.
    L2,
    /// (b) `−λ log N(x; μ, Σ)`.
    Gaussian,
    /// (c) `x = A z + c`, `λ‖z‖²`.
    Generator,
}

impl PenaltyKind {
    /// All three, in the exercise's order.
    pub const ALL: [PenaltyKind; 3] = [PenaltyKind::L2, PenaltyKind::Gaussian, PenaltyKind::Generator];

    /// A short name (`l2`, `gaussian`, `generator`).
    pub fn name(self) -> &'static str {
        match self {
            PenaltyKind::L2 => "l2",
            PenaltyKind::Gaussian => "gaussian",
            PenaltyKind::Generator => "generator",
        }
    }

    /// The penalty as a formula, for titles.
    pub fn formula(self) -> &'static str {
        match self {
            PenaltyKind::L2 => "(a) λ‖x − x₀‖²",
            PenaltyKind::Gaussian => "(b) −λ log N(x; μ, Σ)",
            PenaltyKind::Generator => "(c) x = Az + c, λ‖z‖²",
        }
    }
}

/// `λ` of the Gaussian prior on the shipped model.
const GAUSSIAN_LAMBDA: f64 = 0.01;

/// How prototypes are searched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// `λ` of the L2 penalty.
    pub l2_lambda: f64,
    /// `λ` of the Gaussian prior `−λ log N` (exercise 1 (b) has 1).
    pub gaussian_lambda: f64,
    /// `λ` of the generator's code penalty.
    pub generator_lambda: f64,
    /// Step-size rule and stopping criterion.
    pub ascent: Ascent,
    /// The valid input range the prototype is clamped to (`Some((0, 1))` for pixels).
    pub range: Option<(f64, f64)>,
}

impl Default for Settings {
    /// The shipped scene model's: `λ = 0.5` (L2), `λ = 0.01` (Gaussian), `λ = 0.005`
    /// (generator), at most 300
    /// steps from a first step of 1 to a gradient mapping of `10⁻⁴`, pixels in `[0, 1]`.
    fn default() -> Self {
        Self {
            l2_lambda: 0.5,
            gaussian_lambda: GAUSSIAN_LAMBDA,
            generator_lambda: 0.005,
            ascent: Ascent { max_iterations: 300, tolerance: 1e-4, ..Ascent::default() },
            range: Some((0.0, 1.0)),
        }
    }
}

/// A prototype and what it scores.
#[derive(Debug, Clone)]
pub struct Prototype {
    /// The class maximised.
    pub class: usize,
    /// The penalty.
    pub penalty: PenaltyKind,
    /// `λ` of the penalty.
    pub lambda: f64,
    /// The input `x*` (for the generator, `clip(A z* + c)`).
    pub input: DVector<f64>,
    /// The generator's code `z*`.
    pub code: Option<DVector<f64>>,
    /// All logits at `x*`.
    pub logits: DVector<f64>,
    /// `Ω` at the prototype (of `z*` for the generator).
    pub penalty_value: f64,
    /// `log N(x*; μ, Σ)` under the fitted prior, if there is one.
    pub log_density: Option<f64>,
    /// The ascent that found it.
    pub ascent: AscentResult,
}

impl Prototype {
    /// The logit of the class, `f_c(x*)`.
    pub fn logit(&self) -> f64 {
        self.logits[self.class]
    }

    /// The softmax probability of the class at `x*`.
    pub fn probability(&self) -> f64 {
        let top = self.logits.max();
        let total: f64 = self.logits.iter().map(|l| (l - top).exp()).sum();
        (self.logits[self.class] - top).exp() / total
    }

    /// The class with the largest logit at `x*`.
    pub fn predicted(&self) -> usize {
        self.logits.imax()
    }
}

/// Searches the prototype of `class` under `penalty`: gradient ascent on `f_class − Ω` from
/// the reference input `anchor` (the mean scene; `z = 0` for the generator). The Gaussian and
/// the generator need the fitted `prior`; the L2 penalty uses it only to report the
/// log-density.
pub fn find_prototype(
    score: &dyn ClassScore,
    class: usize,
    penalty: PenaltyKind,
    anchor: &DVector<f64>,
    prior: Option<&LowRankGaussian>,
    settings: &Settings,
    progress: impl FnMut(usize, f64),
) -> Result<Prototype> {
    if class >= score.classes() {
        return Err(Error::ClassOutOfRange { index: class, classes: score.classes() });
    }
    let needs_prior = || Error::InvalidParameter {
        name: "penalty",
        value: penalty.name().into(),
        why: "needs a Gaussian fitted to training images (a prior)".into(),
    };
    let range = settings.range;
    let (lambda, input, code, penalty_value, ascent) = match penalty {
        PenaltyKind::L2 => {
            let l2 = L2Penalty::new(settings.l2_lambda, anchor.clone())?;
            let objective = InputObjective { score, class, penalty: &l2, range };
            let ascent = settings.ascent.maximize(&objective, anchor, progress)?;
            let value = super::penalty::InputPenalty::value(&l2, &ascent.point)?;
            (settings.l2_lambda, ascent.point.clone(), None, value, ascent)
        }
        PenaltyKind::Gaussian => {
            let density = prior.ok_or_else(needs_prior)?;
            let gaussian = GaussianPrior::new(density, settings.gaussian_lambda)?;
            let objective = InputObjective { score, class, penalty: &gaussian, range };
            let ascent = settings.ascent.maximize(&objective, density.mean(), progress)?;
            let value = super::penalty::InputPenalty::value(&gaussian, &ascent.point)?;
            (settings.gaussian_lambda, ascent.point.clone(), None, value, ascent)
        }
        PenaltyKind::Generator => {
            let density = prior.ok_or_else(needs_prior)?;
            let generator = LinearGenerator::from_gaussian(density, settings.generator_lambda)?;
            let objective = CodeObjective { score, class, generator: &generator, range };
            let start = DVector::zeros(generator.code_len());
            let ascent = settings.ascent.maximize(&objective, &start, progress)?;
            let input = generator.generate(&ascent.point, range)?;
            let value = generator.penalty(&ascent.point);
            (settings.generator_lambda, input, Some(ascent.point.clone()), value, ascent)
        }
    };
    let logits = score.logits(&input)?;
    let log_density = prior.map(|p| p.log_density(&input)).transpose()?;
    Ok(Prototype { class, penalty, lambda, input, code, logits, penalty_value, log_density, ascent })
}
