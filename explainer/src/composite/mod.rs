//! Composites: which rule each layer of a network uses (zennit's `Composite`s).

pub mod gamma_box;
pub mod schedule;

pub use gamma_box::GammaBox;
pub use schedule::GammaSchedule;

use std::sync::Arc;

use crate::error::Result;
use crate::model::{Layer, Vgg};
use crate::rules::{Pass, Rule};

/// The rule of each layer with parameters; layers without (ReLU, max-pool, flatten, dropout)
/// always pass the gradient (ReLU mask, max-pool routing), as on the sheet.
pub type LayerRules = Vec<Option<Arc<dyn Rule>>>;

/// Picks a rule for every layer of a network.
pub trait Composite: std::fmt::Debug + Send + Sync {
    /// One entry per layer of `model`: `Some(rule)` for each convolution and dense layer.
    fn rules(&self, model: &Vgg) -> Result<LayerRules>;
}

/// [`Pass`] on every layer: the modified gradient is the gradient (Gradient, Gradient×Input).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllPass;

impl Composite for AllPass {
    fn rules(&self, model: &Vgg) -> Result<LayerRules> {
        let pass: Arc<dyn Rule> = Arc::new(Pass);
        Ok(model.layers().iter().map(|l| l.affine().map(|_| pass.clone())).collect())
    }
}

// ANCHOR: blocks
/// The block (0-based: the number of max-pools before it) of every layer of `model`.
pub fn blocks(model: &Vgg) -> Vec<usize> {
    let mut block = 0;
    model
        .layers()
        .iter()
        .map(|layer| {
            let b = block;
            if let Layer::MaxPool2d(_) = layer {
                block += 1;
            }
            b
        })
        .collect()
}
// ANCHOR_END: blocks
