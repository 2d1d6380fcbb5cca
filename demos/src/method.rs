//! The methods demo 2 offers: Gradient×Input and LRP with each of the explainer's preset
//! composites, with the γ of the presets that take one.

use explainer::composite::Preset;
use explainer::{Composite, Engine, GammaSchedule, Lrp, PresetOptions};

use crate::error::{Error, Result};

/// The engine the demos compute with: the sheet's `z ← p·[z/p]_cst` trick through candle's
/// autograd. The explainer's default explicit engine reads the clock after every layer (for its
/// profile), and `wasm32-unknown-unknown` has no clock; both engines give the same relevance
/// (the explainer's tests, and the browser test against the explicit engine).
pub const ENGINE: Engine = Engine::Autograd;

/// One method of demo 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Gradient×Input, `R_i = x_i ∂f_c/∂x_i`: LRP with the plain gradient on every layer.
    GradientTimesInput,
    /// LRP with a preset composite.
    Lrp(Preset),
}

impl Method {
    /// Every method, in the order of the page's menu (index = [`Method::from_index`]).
    pub fn all() -> Vec<Method> {
        std::iter::once(Method::GradientTimesInput).chain(Preset::ALL.map(Method::Lrp)).collect()
    }

    /// The method with menu index `index`.
    pub fn from_index(index: u32) -> Result<Method> {
        let all = Self::all();
        all.get(index as usize).copied().ok_or_else(|| Error::InvalidInput {
            name: "method",
            value: index.to_string(),
            why: format!("the methods are numbered 0 to {}", all.len() - 1),
        })
    }

    /// The name shown on the page (`gradient_x_input` or the preset's zennit name).
    pub fn name(self) -> &'static str {
        match self {
            Method::GradientTimesInput => "gradient_x_input",
            Method::Lrp(preset) => preset.name(),
        }
    }

    /// Whether the γ slider applies.
    pub fn takes_gamma(self) -> bool {
        matches!(self, Method::Lrp(Preset::Sheet | Preset::EpsilonGammaBox))
    }

    /// The attributor. `gamma` is the γ of the first blocks: for `sheet`, the schedule
    /// [`GammaSchedule::DEFAULT`] scaled so its first entry is `gamma`
    /// (`γ_b = gamma · DEFAULT_b / DEFAULT_0`, the sheet's schedule at `gamma = 0.25`); for
    /// `epsilon_gamma_box`, its one γ. Other methods ignore it.
    pub fn attributor(self, gamma: f64) -> Result<Lrp> {
        if self.takes_gamma() && !(gamma.is_finite() && gamma >= 0.0) {
            return Err(Error::InvalidInput {
                name: "gamma",
                value: gamma.to_string(),
                why: "γ must be finite and non-negative".into(),
            });
        }
        let composite = match self {
            Method::GradientTimesInput => Composite::gradient(),
            Method::Lrp(Preset::Sheet) => {
                let first = GammaSchedule::DEFAULT[0];
                let schedule = GammaSchedule::new(GammaSchedule::DEFAULT.map(|g| gamma * g / first))?;
                Preset::Sheet.composite(&PresetOptions {
                    gamma: Some(schedule.gammas().to_vec()),
                    ..Default::default()
                })?
            }
            Method::Lrp(Preset::EpsilonGammaBox) => Preset::EpsilonGammaBox
                .composite(&PresetOptions { gamma: Some(vec![gamma]), ..Default::default() })?,
            Method::Lrp(preset) => preset.composite(&PresetOptions::default())?,
        };
        Ok(Lrp::new(composite).with_engine(ENGINE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_has_gradient_x_input_and_every_preset() {
        let names: Vec<&str> = Method::all().into_iter().map(Method::name).collect();
        assert_eq!(names[0], "gradient_x_input");
        assert_eq!(&names[1..], &Preset::ALL.map(Preset::name));
        assert!(Method::from_index(names.len() as u32).is_err());
    }

    #[test]
    fn gamma_is_checked_only_where_it_is_used() {
        assert!(Method::Lrp(Preset::Sheet).attributor(-1.0).is_err());
        assert!(Method::Lrp(Preset::EpsilonGammaBox).attributor(f64::NAN).is_err());
        assert!(Method::Lrp(Preset::EpsilonPlus).attributor(-1.0).is_ok());
        assert!(Method::GradientTimesInput.attributor(0.25).is_ok());
    }
}
