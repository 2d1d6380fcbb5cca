//! The LRP variants the book's "Rules and composites" chapter compares on the shipped model.

use super::method::Method;
use crate::attribution::Lrp;
use crate::composite::{GammaSchedule, presets};
use crate::error::Result;
use crate::rules::{AlphaBeta, Epsilon, Gamma, Lrp0, Stabiliser, ZBox};

/// LRP-0, LRP-ε (ε = 0.25), LRP-γ (γ = 0.25) and αβ (α = 2, β = 1), each on every layer with
/// parameters; zennit's `epsilon_gamma_box` and `epsilon_plus`; and the sheet's composite.
pub fn compared_composites() -> Result<Vec<Method>> {
    let default = Stabiliser::DEFAULT;
    Ok(vec![
        Method::lrp("LRP-0", Lrp::new(presets::everywhere("lrp0", Lrp0))),
        Method::lrp("LRP-ε", Lrp::new(presets::everywhere("epsilon", Epsilon::new(0.25)?))),
        Method::lrp("LRP-γ", Lrp::new(presets::everywhere("gamma", Gamma::new(0.25)?))),
        Method::lrp("LRP-αβ", Lrp::new(presets::everywhere("alpha2_beta1", AlphaBeta::alpha2_beta1()))),
        Method::lrp(
            "epsilon_gamma_box",
            Lrp::new(presets::epsilon_gamma_box(1e-6, 0.25, ZBox::imagenet(), default)?),
        ),
        Method::lrp("epsilon_plus", Lrp::new(presets::epsilon_plus(1e-6, default)?)),
        Method::lrp("sheet", Lrp::new(presets::sheet(&GammaSchedule::default()))),
    ])
}
