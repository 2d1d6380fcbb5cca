//! Explain image classifiers with Gradient, Gradient×Input and LRP, on candle.
//!
//! Exercise 4 of sheet 11 as a library: a VGG network held as a plain list of layers
//! ([`model`]), LRP rules as small values ([`rules`]: [`Gamma`], [`ZBox`], [`Pass`],
//! [`Epsilon`]), composites that pick a rule per layer ([`composite`]: [`GammaBox`] is the
//! sheet's), and attributors that return the output and the relevance of every input value
//! ([`Gradient`], [`GradientTimesInput`], [`Lrp`]). LRP runs on two engines that agree: an
//! explicit backward pass (the default, fast) and the sheet's `z ← p·[z/p]_cst` trick through
//! candle's autograd.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use explainer::{Attributor, GammaSchedule, Lrp, Vgg, VggConfig};
//!
//! // A small VGG-style network: two blocks, 8×8 inputs, random weights.
//! let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 10);
//! let vgg = Vgg::random(&config, 7, &Device::Cpu, DType::F64)?;
//! let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu)?;
//! let lrp = Lrp::new(GammaSchedule::default()).attribute(&vgg, &x, 3)?;
//! assert_eq!(lrp.logits.dims(), &[1, 10]);
//! assert_eq!(lrp.relevance.dims(), &[1, 3, 8, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attribution;
pub mod checkpoint;
pub mod classes;
pub mod composite;
pub mod error;
pub mod evaluation;
pub mod heatmap;
pub mod image;
pub mod model;
pub mod npy;
pub mod prediction;
pub mod prototypes;
pub mod resample;
pub mod rules;
pub mod scene_panels;
pub mod scenes;
pub mod shipped;
pub mod training;

pub use attribution::{Attribution, Attributor, Engine, Gradient, GradientTimesInput, Lrp};
pub use composite::{AllPass, Composite, GammaBox, GammaSchedule};
pub use error::{Error, Result};
pub use model::{Layer, Vgg, VggConfig};
pub use rules::{Epsilon, Gamma, Pass, Rule, ZBox};
