//! The presets by name, with the parameters each takes (for the command line).

use super::{Composite, GammaSchedule, presets};
use crate::error::{Error, Result};
use crate::rules::{Stabiliser, ZBox};

/// A preset composite, by its zennit name (and `sheet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The sheet's composite ([`presets::sheet`]).
    Sheet,
    /// zennit's `epsilon_gamma_box`.
    EpsilonGammaBox,
    /// zennit's `epsilon_plus`.
    EpsilonPlus,
    /// zennit's `epsilon_plus_flat`.
    EpsilonPlusFlat,
    /// zennit's `epsilon_alpha2_beta1`.
    EpsilonAlpha2Beta1,
    /// zennit's `epsilon_alpha2_beta1_flat`.
    EpsilonAlpha2Beta1Flat,
}

/// The parameters a preset may take; `None` is the preset's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PresetOptions {
    /// ε of the dense layers' LRP-ε (zennit presets; default 10⁻⁶).
    pub epsilon: Option<f64>,
    /// γ: one per block for `sheet` (default [`GammaSchedule::DEFAULT`]), one value for
    /// `epsilon_gamma_box` (default 0.25).
    pub gamma: Option<Vec<f64>>,
    /// α of αβ, `β = α − 1` (default 2).
    pub alpha: Option<f64>,
}

impl Preset {
    /// Every preset, the default first.
    pub const ALL: [Preset; 6] = [
        Preset::Sheet,
        Preset::EpsilonGammaBox,
        Preset::EpsilonPlus,
        Preset::EpsilonPlusFlat,
        Preset::EpsilonAlpha2Beta1,
        Preset::EpsilonAlpha2Beta1Flat,
    ];

    /// The name (`--composite NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Sheet => "sheet",
            Preset::EpsilonGammaBox => "epsilon_gamma_box",
            Preset::EpsilonPlus => "epsilon_plus",
            Preset::EpsilonPlusFlat => "epsilon_plus_flat",
            Preset::EpsilonAlpha2Beta1 => "epsilon_alpha2_beta1",
            Preset::EpsilonAlpha2Beta1Flat => "epsilon_alpha2_beta1_flat",
        }
    }

    /// What the preset applies where, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Preset::Sheet => {
                "zB (no stabiliser) on conv 1, LRP-γ by block (γ schedule) on the other convs, gradient on dense layers and the average pool"
            }
            Preset::EpsilonGammaBox => {
                "zB on conv 1, LRP-γ on the other convs, LRP-ε on dense layers, Norm on the average pool"
            }
            Preset::EpsilonPlus => "z⁺ on every conv, LRP-ε on dense layers, Norm on the average pool",
            Preset::EpsilonPlusFlat => {
                "flat on the first layer, z⁺ on the other convs, LRP-ε on dense layers, Norm on the average pool"
            }
            Preset::EpsilonAlpha2Beta1 => {
                "αβ (α = 2, β = 1) on every conv, LRP-ε on dense layers, Norm on the average pool"
            }
            Preset::EpsilonAlpha2Beta1Flat => {
                "flat on the first layer, αβ (α = 2, β = 1) on the other convs, LRP-ε on dense layers, Norm on the average pool"
            }
        }
    }

    /// The preset called `name`.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| Error::InvalidParameter {
            name: "composite",
            value: name.to_owned(),
            why: format!("the composites are {}", Self::ALL.map(Preset::name).join(", ")),
        })
    }

    /// Which of ε, γ and α the preset takes.
    pub fn takes(self) -> (bool, bool, bool) {
        match self {
            Preset::Sheet => (false, true, false),
            Preset::EpsilonGammaBox => (true, true, false),
            Preset::EpsilonPlus | Preset::EpsilonPlusFlat => (true, false, false),
            Preset::EpsilonAlpha2Beta1 | Preset::EpsilonAlpha2Beta1Flat => (true, false, true),
        }
    }

    /// The composite with `options`; a parameter the preset does not take is an error that
    /// says so, as is a value the rule rejects.
    pub fn composite(self, options: &PresetOptions) -> Result<Composite> {
        let (takes_epsilon, takes_gamma, takes_alpha) = self.takes();
        let refuse = |flag: &'static str, value: String| {
            Err(Error::InvalidParameter {
                name: flag,
                value,
                why: format!("the composite {} takes no {flag}", self.name()),
            })
        };
        match (&options.epsilon, &options.gamma, &options.alpha) {
            (Some(e), _, _) if !takes_epsilon => return refuse("epsilon", e.to_string()),
            (_, Some(g), _) if !takes_gamma => return refuse("gamma", format!("{g:?}")),
            (_, _, Some(a)) if !takes_alpha => return refuse("alpha", a.to_string()),
            _ => {}
        }
        let epsilon = options.epsilon.unwrap_or(1e-6);
        let alpha = options.alpha.unwrap_or(2.0);
        let stabiliser = Stabiliser::DEFAULT;
        match self {
            Preset::Sheet => {
                let schedule = match &options.gamma {
                    Some(g) if g.len() == 1 => GammaSchedule::uniform(g[0])?,
                    Some(g) => GammaSchedule::from_slice(g)?,
                    None => GammaSchedule::default(),
                };
                Ok(presets::sheet(&schedule))
            }
            Preset::EpsilonGammaBox => {
                let gamma = match options.gamma.as_deref() {
                    None => 0.25,
                    Some([g]) => *g,
                    Some(g) => {
                        return Err(Error::InvalidParameter {
                            name: "gamma",
                            value: format!("{g:?}"),
                            why: "epsilon_gamma_box takes one γ for every convolution".into(),
                        });
                    }
                };
                presets::epsilon_gamma_box(epsilon, gamma, ZBox::imagenet(), stabiliser)
            }
            Preset::EpsilonPlus => presets::epsilon_plus(epsilon, stabiliser),
            Preset::EpsilonPlusFlat => presets::epsilon_plus_flat(epsilon, stabiliser),
            Preset::EpsilonAlpha2Beta1 => presets::epsilon_alpha_beta(epsilon, alpha, stabiliser),
            Preset::EpsilonAlpha2Beta1Flat => presets::epsilon_alpha_beta_flat(epsilon, alpha, stabiliser),
        }
    }
}
