//! The sheet's composite: zB on the pixels, LRP-γ on the other convolutions, the gradient
//! on the dense layers (the book's appendix "The sheet, and what we reconstructed"; close to zennit's `EpsilonGammaBox` without ε).

use std::sync::Arc;

use super::{Composite, GammaSchedule, LayerRules, blocks};
use crate::error::{Error, Result};
use crate::model::{Layer, Vgg};
use crate::rules::{Gamma, Pass, Rule, ZBox};

/// zB (or another rule) on convolution 1, LRP-γ with γ from a [`GammaSchedule`] by block on
/// the other convolutions, [`Pass`] on the dense layers.
#[derive(Debug, Clone)]
pub struct GammaBox {
    schedule: GammaSchedule,
    first: Arc<dyn Rule>,
}

impl GammaBox {
    /// The sheet's composite with this schedule and zB with ImageNet bounds on convolution 1.
    pub fn new(schedule: GammaSchedule) -> Self {
        Self { schedule, first: Arc::new(ZBox::imagenet()) }
    }

    /// The same with another rule on convolution 1 (e.g. other bounds, or [`Pass`]).
    pub fn with_first(mut self, rule: impl Rule + 'static) -> Self {
        self.first = Arc::new(rule);
        self
    }

    /// The schedule.
    pub fn schedule(&self) -> &GammaSchedule {
        &self.schedule
    }
}

impl Default for GammaBox {
    fn default() -> Self {
        Self::new(GammaSchedule::default())
    }
}

// ANCHOR: gamma_box
impl Composite for GammaBox {
    fn rules(&self, model: &Vgg) -> Result<LayerRules> {
        let blocks = blocks(model);
        let pass: Arc<dyn Rule> = Arc::new(Pass);
        let mut first = true;
        model
            .layers()
            .iter()
            .zip(blocks)
            .map(|(layer, block)| match layer {
                Layer::Conv2d(_) if first => {
                    first = false;
                    Ok(Some(self.first.clone()))
                }
                Layer::Conv2d(_) => {
                    let gamma = self.schedule.get(block).ok_or_else(|| Error::InvalidParameter {
                        name: "gamma schedule",
                        value: format!("{:?}", self.schedule.gammas()),
                        why: format!(
                            "{} has convolutions in block {}, the schedule only 5",
                            model.config().name,
                            block + 1
                        ),
                    })?;
                    Ok(Some(Arc::new(Gamma::new(gamma)) as Arc<dyn Rule>))
                }
                Layer::Linear(_) => Ok(Some(pass.clone())),
                _ => Ok(None),
            })
            .collect()
    }
}
// ANCHOR_END: gamma_box
