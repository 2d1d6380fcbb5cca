//! The preset composites: the sheet's, and zennit's five with their names and meanings.
//!
//! zennit's presets share a base map: Pass on ReLU and on BatchNorm (what canonization leaves of
//! it), Norm on average pools (VGG's adaptive average pool too, where it is the identity: its
//! Norm then scales relevance by `z/(z ± ε)`) and on residual sums, ε on the dense layers, max-pools unmapped (their gradient routes relevance to the maximum).
//! They differ in the convolutions and the first layer. The stabiliser (10⁻⁶ by default) goes
//! to every rule but the dense layers' ε.

use super::{Composite, GammaSchedule, Selector};
use crate::error::Result;
use crate::model::LayerKind::{AvgPool, BatchNorm, Convolution, Dense, Relu, Sum};
use crate::rules::{AlphaBeta, Epsilon, Flat, Gamma, Norm, Pass, Stabiliser, ZBox, ZPlus};

// ANCHOR: sheet
/// The sheet's composite (exercise 4): zB on the first convolution, LRP-γ with γ by block on
/// the other convolutions (blocks after the schedule's last use its last γ), the gradient on
/// the dense layers and the average pool, no stabilisers. The default.
pub fn sheet(schedule: &GammaSchedule) -> Composite {
    let gamma = |g| Gamma::from_valid(g).with_stabiliser(Stabiliser::NONE);
    let mut composite = Composite::new("sheet")
        .with(Selector::First(vec![Convolution]), ZBox::imagenet().with_stabiliser(Stabiliser::NONE));
    for (block, g) in schedule.gammas().into_iter().enumerate() {
        composite = composite.with(Selector::Block(block, vec![Convolution]), gamma(g));
    }
    let last = schedule.gammas()[GammaSchedule::BLOCKS - 1];
    composite.with(Selector::Kinds(vec![Convolution]), gamma(last))
}
// ANCHOR_END: sheet

/// One rule on every convolution and dense layer, with zennit's base map (Pass on ReLU and
/// BatchNorm, Norm on average pools and sums): zennit's `LayerMapComposite` of a single rule.
pub fn everywhere(name: &str, rule: impl crate::rules::Rule + 'static) -> Composite {
    zennit_base(name, Stabiliser::DEFAULT).with(Selector::Kinds(vec![Convolution, Dense]), rule)
}

/// zennit's base map (`layer_map_base`): Pass on ReLU and BatchNorm, Norm on average pools and
/// residual sums.
fn zennit_base(name: &str, stabiliser: Stabiliser) -> Composite {
    Composite::new(name)
        .with(Selector::Kinds(vec![Relu, BatchNorm]), Pass)
        .with(Selector::Kinds(vec![AvgPool, Sum]), Norm::new(stabiliser))
}

// ANCHOR: epsilon_gamma_box
/// zennit's `EpsilonGammaBox`: zB with `bounds` on the first convolution, LRP-γ on the other
/// convolutions, LRP-ε on the dense layers.
pub fn epsilon_gamma_box(
    epsilon: f64,
    gamma: f64,
    bounds: ZBox,
    stabiliser: Stabiliser,
) -> Result<Composite> {
    Ok(zennit_base("epsilon_gamma_box", stabiliser)
        .with(Selector::First(vec![Convolution]), bounds.with_stabiliser(stabiliser))
        .with(Selector::Kinds(vec![Convolution]), Gamma::new(gamma)?.with_stabiliser(stabiliser))
        .with(Selector::Kinds(vec![Dense]), Epsilon::new(epsilon)?))
}
// ANCHOR_END: epsilon_gamma_box

/// zennit's `EpsilonPlus`: z⁺ on the convolutions, LRP-ε on the dense layers.
pub fn epsilon_plus(epsilon: f64, stabiliser: Stabiliser) -> Result<Composite> {
    Ok(zennit_base("epsilon_plus", stabiliser)
        .with(Selector::Kinds(vec![Convolution]), ZPlus::new(stabiliser))
        .with(Selector::Kinds(vec![Dense]), Epsilon::new(epsilon)?))
}

/// zennit's `EpsilonPlusFlat`: [`epsilon_plus`] with flat on the first layer with parameters.
pub fn epsilon_plus_flat(epsilon: f64, stabiliser: Stabiliser) -> Result<Composite> {
    Ok(zennit_base("epsilon_plus_flat", stabiliser)
        .with(Selector::First(vec![Convolution, Dense]), Flat::new(stabiliser))
        .with(Selector::Kinds(vec![Convolution]), ZPlus::new(stabiliser))
        .with(Selector::Kinds(vec![Dense]), Epsilon::new(epsilon)?))
}

/// zennit's `EpsilonAlpha2Beta1` (with any `α`, `β = α − 1`): αβ on the convolutions, LRP-ε on
/// the dense layers.
pub fn epsilon_alpha_beta(epsilon: f64, alpha: f64, stabiliser: Stabiliser) -> Result<Composite> {
    let name = if alpha == 2.0 { "epsilon_alpha2_beta1".to_owned() } else { format!("epsilon_alpha{alpha}") };
    Ok(zennit_base(&name, stabiliser)
        .with(
            Selector::Kinds(vec![Convolution]),
            AlphaBeta::new(alpha, alpha - 1.0)?.with_stabiliser(stabiliser),
        )
        .with(Selector::Kinds(vec![Dense]), Epsilon::new(epsilon)?))
}

/// zennit's `EpsilonAlpha2Beta1Flat`: [`epsilon_alpha_beta`] with flat on the first layer.
pub fn epsilon_alpha_beta_flat(epsilon: f64, alpha: f64, stabiliser: Stabiliser) -> Result<Composite> {
    let name = if alpha == 2.0 {
        "epsilon_alpha2_beta1_flat".to_owned()
    } else {
        format!("epsilon_alpha{alpha}_flat")
    };
    Ok(zennit_base(&name, stabiliser)
        .with(Selector::First(vec![Convolution, Dense]), Flat::new(stabiliser))
        .with(
            Selector::Kinds(vec![Convolution]),
            AlphaBeta::new(alpha, alpha - 1.0)?.with_stabiliser(stabiliser),
        )
        .with(Selector::Kinds(vec![Dense]), Epsilon::new(epsilon)?))
}
