//! LRP rules as data: how relevance passes through one layer.
//!
//! Every rule is one generic step (zennit's `BasicHook`; the sheet's `z ← p·[z/p]_cst`),
//! parameterised by what the rule does to the layer. For a layer `z = W⋆a + b` with relevance
//! `R` at its output, a rule is a list of *groups*, each a list of *terms* `k`, each reading an
//! input `a_k` in place of `a` (`a`, `a⁺`, `a⁻`, ones, or a per-channel bound) and modifying
//! the parameters, `ρ_k(W)` and `ρ_k(b)`, with a sign `σ_k = ±1`:
//!
//! ```text
//! p_G = Σ_{k∈G} σ_k (ρ_k(W) ⋆ a_k + ρ_k(b))                 the group's modified output
//! s_G = f_G · [z selected by G] · R / stab(p_G)              stab(p) = p + ε·sign(p), sign(0) = 1
//! R_in = Σ_G Σ_{k∈G} σ_k · a_k ⊙ ρ_k(W)ᵀ s_G
//! ```
//!
//! LRP-0 is one group of one term `(a, W, b)` with `ε = 0` (and `R/0` read as 0); LRP-ε the
//! same with `ε > 0`; LRP-γ uses `W + γW⁺`; zB three terms `(x, W, b) − (L, W⁺, b⁺) −
//! (H, W⁻, b⁻)`; αβ two groups weighted `α` and `−β`. A [`Rule`] only says which: its
//! [`Rule::propagation`]. The engines ([`crate::attribution`]) run the step, written once each.
//!
//! The engines carry the *modified gradient* `g` with `R = z ⊙ g` at each layer's output and
//! `R = a ⊙ c` at its input (`c` the modified gradient there), so that a ReLU masks `g` (zennit's
//! `Pass`: relevance passes, and vanishes where the ReLU is off) and a max-pool routes it
//! (winner takes all, as zennit and the sheet). That needs every input of a term to be `a` times
//! something (`a`, `a⁺`, `a⁻`); rules whose terms read other inputs (zB's bounds, flat's and
//! w²'s ones) replace the network's input and apply to the first layer only.

pub mod alpha_beta;
pub mod epsilon;
pub mod flat;
pub mod gamma;
pub mod gradient;
pub mod lrp0;
pub mod norm;
pub mod pass;
pub mod stabiliser;
pub mod wsquare;
pub mod zbox;
pub mod zplus;

pub use alpha_beta::AlphaBeta;
pub use epsilon::Epsilon;
pub use flat::Flat;
pub use gamma::Gamma;
pub use gradient::GradientRule;
pub use lrp0::Lrp0;
pub use norm::Norm;
pub use pass::Pass;
pub use stabiliser::Stabiliser;
pub use wsquare::WSquare;
pub use zbox::ZBox;
pub use zplus::ZPlus;

// ANCHOR: rule_trait
/// How a layer passes relevance to its input: a value that describes the generic step.
pub trait Rule: std::fmt::Debug + Send + Sync {
    /// A short description with the parameters (`"gamma(0.25)"`).
    fn name(&self) -> String;

    /// The rule as data: which inputs, parameter modifiers and stabiliser the step uses.
    fn propagation(&self) -> Propagation;
}
// ANCHOR_END: rule_trait

/// What the generic step does on a layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Propagation {
    /// The layer's own gradient: `c = Wᵀ g` (on pools their routing or spreading).
    Gradient,
    /// Relevance passes through an elementwise layer unchanged (zennit's `Pass`, for ReLU).
    Pass,
    /// The LRP step of the module documentation.
    Modified(Modified),
}

/// The groups of terms and the stabiliser of a modified step.
#[derive(Debug, Clone, PartialEq)]
pub struct Modified {
    /// The groups; their contributions add up.
    pub groups: Vec<Group>,
    /// `ε ≥ 0` of `stab(p) = p + ε·sign(p)`; with 0, `R/0` is read as 0.
    pub stabiliser: Stabiliser,
}

impl Modified {
    /// Whether every term reads the activation or its sign parts (so the rule may apply at any
    /// depth; see the module documentation).
    pub fn reads_activation_only(&self) -> bool {
        self.terms().all(|t| matches!(t.input, Input::Activation | Input::Positive | Input::Negative))
    }

    /// Whether the step is one term `(a, W, b)` with sign +1: then `p = z`, and the rule needs
    /// no modified weights (LRP-0, ε, Norm).
    pub fn is_identity(&self) -> bool {
        matches!(self.groups.as_slice(), [g] if g.factor == 1.0 && g.outputs == Outputs::All
            && matches!(g.terms.as_slice(), [t] if *t == Term::new(Input::Activation, Modifier::Keep, Modifier::Keep)))
    }

    /// Every term of every group.
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.groups.iter().flat_map(|g| g.terms.iter())
    }
}

/// Terms whose modified outputs add up to one denominator.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The terms.
    pub terms: Vec<Term>,
    /// `f_G`: the group's weight in the relevance (αβ: `α` and `−β`; else 1).
    pub factor: f64,
    /// Which outputs the group explains, by the sign of the layer's true output `z`.
    pub outputs: Outputs,
}

impl Group {
    /// A group of weight 1 for every output.
    pub fn new(terms: Vec<Term>) -> Self {
        Self { terms, factor: 1.0, outputs: Outputs::All }
    }
}

/// The outputs a group explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// Every output.
    All,
    /// Outputs with `z > 0`.
    Positive,
    /// Outputs with `z < 0`.
    Negative,
}

/// One term: an input, the parameter modifiers and a sign.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// What the term reads in place of the activation `a`.
    pub input: Input,
    /// `ρ(W)`.
    pub weight: Modifier,
    /// `ρ(b)`.
    pub bias: Modifier,
    /// `σ = ±1`: how the term enters the denominator and the relevance.
    pub sign: f64,
}

impl Term {
    /// A term with sign +1.
    pub fn new(input: Input, weight: Modifier, bias: Modifier) -> Self {
        Self { input, weight, bias, sign: 1.0 }
    }

    /// The same term with sign −1.
    pub fn subtracted(self) -> Self {
        Self { sign: -1.0, ..self }
    }
}

/// What a term reads in place of the layer's input `a`.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `a`.
    Activation,
    /// `a⁺ = max(0, a)`.
    Positive,
    /// `a⁻ = min(0, a)`.
    Negative,
    /// Ones shaped like `a` (flat, w²).
    Ones,
    /// One value per input channel, broadcast over the rest (zB's bounds).
    PerChannel(Vec<f64>),
}

/// How a term modifies a parameter `θ` (the weight or the bias).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Modifier {
    /// `θ`.
    Keep,
    /// `θ⁺ = max(0, θ)`.
    Positive,
    /// `θ⁻ = min(0, θ)`.
    Negative,
    /// `0`.
    Zero,
    /// `1`.
    Ones,
    /// `θ²`.
    Square,
    /// `θ + γθ⁺`.
    AddPositive(f64),
    /// `θ + γθ⁻`.
    AddNegative(f64),
}

impl Modifier {
    /// `ρ(θ)` for one value, in the arithmetic of the value's type.
    pub fn apply<T: candle_core::WithDType>(self, theta: T) -> T {
        let zero = T::zero();
        let (positive, negative) =
            (if theta > zero { theta } else { zero }, if theta < zero { theta } else { zero });
        match self {
            Modifier::Keep => theta,
            Modifier::Positive => positive,
            Modifier::Negative => negative,
            Modifier::Zero => zero,
            Modifier::Ones => T::from_f64(1.0),
            Modifier::Square => theta * theta,
            Modifier::AddPositive(g) => theta + T::from_f64(g) * positive,
            Modifier::AddNegative(g) => theta + T::from_f64(g) * negative,
        }
    }

    /// The parameter (`γ`) this modifier carries, if any.
    pub fn parameter(self) -> Option<f64> {
        match self {
            Modifier::AddPositive(g) | Modifier::AddNegative(g) => Some(g),
            _ => None,
        }
    }
}

/// An error for a rule parameter `name = value` that makes no sense, saying `why`.
pub(crate) fn invalid(name: &'static str, value: f64, why: &str) -> crate::Error {
    crate::Error::InvalidParameter { name, value: format!("{value:?}"), why: why.into() }
}
