//! Composites: which rule each layer uses, as data (zennit's `LayerMapComposite` and
//! `SpecialFirstLayerMapComposite`).
//!
//! A [`Composite`] is an ordered list of entries `(selector, rule)`; for each layer the first
//! entry whose [`Selector`] matches gives its rule, and a layer no entry matches keeps its
//! gradient (ReLU: its mask; max-pool: its routing). [`Composite::resolve`] turns it, once per
//! model, into one rule per layer and checks that every rule can apply where it is put.
//! The presets ([`presets`]) are constructors of this value with zennit's names and meanings.

pub mod preset;
pub mod presets;
pub mod schedule;

pub use preset::{Preset, PresetOptions};
pub use schedule::GammaSchedule;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::{LayerKind, Network};
use crate::rules::{Propagation, Rule};

/// Which layers an entry of a composite applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// The first layer, in model order, of one of these kinds (zennit's `first_map`).
    First(Vec<LayerKind>),
    /// Every layer of one of these kinds.
    Kinds(Vec<LayerKind>),
    /// Layers of one of these kinds in block `block` (0-based; a block ends at a max-pool).
    Block(usize, Vec<LayerKind>),
    /// The layer with this torchvision module name (`"features.0"`, see [`Network::layer_names`]).
    Name(String),
}

impl Selector {
    /// Whether layer `index` of `model` (in block `block`) is selected.
    fn matches(&self, model: &Network, index: usize, block: usize) -> bool {
        let kind = model.layers()[index].kind();
        match self {
            Selector::First(kinds) => {
                model.layers().iter().position(|l| kinds.contains(&l.kind())) == Some(index)
            }
            Selector::Kinds(kinds) => kinds.contains(&kind),
            Selector::Block(b, kinds) => *b == block && kinds.contains(&kind),
            Selector::Name(name) => model.layer_names().get(index) == Some(name),
        }
    }

    /// How the selector reads in `--help` and errors.
    pub fn describe(&self) -> String {
        let kinds = |k: &[LayerKind]| k.iter().map(|k| k.name()).collect::<Vec<_>>().join("/");
        match self {
            Selector::First(k) => format!("first {}", kinds(k)),
            Selector::Kinds(k) => kinds(k),
            Selector::Block(b, k) => format!("{} in block {}", kinds(k), b + 1),
            Selector::Name(n) => format!("layer {n}"),
        }
    }
}

/// A rule for each layer, picked by an ordered list of selectors.
#[derive(Debug, Clone)]
pub struct Composite {
    name: String,
    entries: Vec<(Selector, Arc<dyn Rule>)>,
}

/// One rule (or none: the layer's gradient) per layer of a model.
pub type LayerRules = Vec<Option<Arc<dyn Rule>>>;

impl Composite {
    /// A composite without entries (every layer keeps its gradient), named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), entries: Vec::new() }
    }

    /// The same with one more entry, matched after the ones before it.
    pub fn with(mut self, selector: Selector, rule: impl Rule + 'static) -> Self {
        self.entries.push((selector, Arc::new(rule)));
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entries, in matching order.
    pub fn entries(&self) -> &[(Selector, Arc<dyn Rule>)] {
        &self.entries
    }

    /// The plain gradient on every layer (Gradient, Gradient×Input).
    pub fn gradient() -> Self {
        Self::new("gradient")
    }

    // ANCHOR: resolve
    /// The rule of each layer of `model`, checked: a rule must apply to its layer's kind
    /// (modified steps to convolutions and dense layers, and to average pools only with the
    /// parameters unmodified, as to sums; Pass to ReLU, dropout, flatten and BatchNorm), and a rule whose terms replace the
    /// input (zB, flat, w²) only to the first layer, with one zB bound per input channel.
    pub fn resolve(&self, model: &Network) -> Result<LayerRules> {
        let blocks = blocks(model);
        let first_with_parameters = model.layers().iter().position(|l| l.affine().is_some());
        (0..model.layers().len())
            .map(|i| {
                let Some((_, rule)) = self.entries.iter().find(|(s, _)| s.matches(model, i, blocks[i]))
                else {
                    return Ok(None);
                };
                check_applies(model, i, rule.as_ref(), Some(i) == first_with_parameters)?;
                Ok(Some(rule.clone()))
            })
            .collect()
    }
    // ANCHOR_END: resolve
}

/// Checks that `rule` can be layer `index`'s (see [`Composite::resolve`]).
fn check_applies(model: &Network, index: usize, rule: &dyn Rule, first: bool) -> Result<()> {
    let layer = &model.layers()[index];
    let error = |why: String| Error::InvalidParameter {
        name: "composite",
        value: format!("{} on {} ({})", rule.name(), model.layer_names()[index], layer.kind().name()),
        why,
    };
    match (rule.propagation(), layer.kind()) {
        (Propagation::Gradient, _) => Ok(()),
        (
            Propagation::Pass,
            LayerKind::Relu | LayerKind::Dropout | LayerKind::Flatten | LayerKind::BatchNorm,
        ) => Ok(()),
        (Propagation::Pass, _) => {
            Err(error("Pass applies to elementwise layers (ReLU, a BatchNorm's scale) only".into()))
        }
        (Propagation::Modified(m), LayerKind::AvgPool | LayerKind::Sum) if m.is_identity() => Ok(()),
        (Propagation::Modified(_), LayerKind::AvgPool | LayerKind::Sum) => Err(error(format!(
            "{} has no parameters to modify: use Norm or the gradient",
            layer.kind().name()
        ))),
        (Propagation::Modified(m), LayerKind::Convolution | LayerKind::Dense) => {
            if !m.reads_activation_only() && !first {
                return Err(error(
                    "a rule that replaces the input (zB, flat, w²) applies to the first layer only".into(),
                ));
            }
            let channels = layer.affine().map(|a| a.weight().dim(1)).transpose()?.unwrap_or(0);
            for term in m.terms() {
                if let crate::rules::Input::PerChannel(values) = &term.input
                    && values.len() != channels
                {
                    return Err(error(format!(
                        "has bounds for {} channels, the layer has {channels} input channels",
                        values.len()
                    )));
                }
            }
            Ok(())
        }
        (Propagation::Modified(_), kind) => Err(error(format!("no LRP step is defined for {}", kind.name()))),
    }
}

// ANCHOR: blocks
/// The block (0-based: the number of max-pools before it) of every layer of `model`.
pub fn blocks(model: &Network) -> Vec<usize> {
    let mut block = 0;
    model
        .layers()
        .iter()
        .map(|layer| {
            let b = block;
            if layer.kind() == LayerKind::MaxPool {
                block += 1;
            }
            b
        })
        .collect()
}
// ANCHOR_END: blocks
