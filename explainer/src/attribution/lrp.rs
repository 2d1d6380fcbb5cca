//! Layer-wise relevance propagation with any composite.

use super::Attributor;
use super::prepared::{Output, Prepared};
use crate::composite::{Composite, GammaSchedule, presets};
use crate::error::Result;
use crate::model::Network;

/// How the modified gradient is computed. Both give the same result (tested).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// A hand-written backward pass over the recorded forward pass (fast, the default).
    #[default]
    Explicit,
    /// The sheet's `p·[z/p]_cst` trick, generalised, through candle's autograd (reference).
    Autograd,
}

/// What LRP does with the kernels of its rules' modified weights (`W + γW⁺`, `W⁺`, …): the
/// trade between memory and time. Both give the same relevance, bit for bit (tested).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModifiedKernels {
    /// Made by the layer's step and dropped after it, so that an explanation holds one layer's
    /// at a time (the default): every explanation makes them again.
    #[default]
    PerStep,
    /// Made on first use and kept by the [`Prepared`] until it is dropped: explanations after
    /// the first skip making them, for as much memory again as the kernels of the model's own
    /// weights per modified group (a Winograd transform is 4× its weight).
    Kept,
}

/// LRP: the relevance `Σ_k input_k ⊙ c_k` of the modified gradient that a [`Composite`]'s
/// rules define; by default the sheet's composite ([`presets::sheet`]).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use explainer::{Attributor, Lrp, Vgg, VggConfig, composite::Preset};
///
/// let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 10);
/// let vgg = Vgg::random(&config, 7, &Device::Cpu, DType::F64)?;
/// let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu)?;
/// let composite = Preset::EpsilonPlus.composite(&Default::default())?;
/// let lrp = Lrp::new(composite).prepare(&vgg)?; // the model's kernels made once, owned by `lrp`
/// let explained = lrp.attribute(&x, 3)?;
/// assert_eq!(explained.relevance.dims(), &[1, 3, 8, 8]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Lrp {
    composite: Composite,
    engine: Engine,
    kernels: ModifiedKernels,
}

impl Lrp {
    /// LRP with `composite`, explicit engine.
    pub fn new(composite: Composite) -> Self {
        Self { composite, engine: Engine::Explicit, kernels: ModifiedKernels::PerStep }
    }

    /// The sheet's LRP with this γ schedule.
    pub fn sheet(schedule: &GammaSchedule) -> Self {
        Self::new(presets::sheet(schedule))
    }

    /// The same with another engine.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The same with the modified kernels made per step or kept (the explicit engine's: the
    /// autograd engine makes none).
    pub fn with_modified_kernels(mut self, kernels: ModifiedKernels) -> Self {
        self.kernels = kernels;
        self
    }

    /// What is done with the modified kernels.
    pub fn modified_kernels(&self) -> ModifiedKernels {
        self.kernels
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The composite.
    pub fn composite(&self) -> &Composite {
        &self.composite
    }
}

impl Default for Lrp {
    /// The sheet's LRP with the default γ schedule.
    fn default() -> Self {
        Self::sheet(&GammaSchedule::default())
    }
}

// ANCHOR: lrp_attribute
impl Attributor for Lrp {
    fn prepare<'m>(&self, model: &'m Network) -> Result<Prepared<'m>> {
        Prepared::new(model, &self.composite, (self.engine, self.kernels), Output::TimesInput)
    }
}
// ANCHOR_END: lrp_attribute
