//! Explain image classifiers with Gradient, Gradient×Input and LRP, on candle.
//!
//! Exercise 4 of sheet 11 as a general LRP library: a VGG or ResNet held as a small graph of
//! layers ([`model`]), LRP rules as data for one generic step ([`rules`]: LRP-0, ε, γ, z⁺, αβ,
//! flat, w², zB, Pass, Norm, the gradient), composites that pick a rule per layer as data
//! ([`composite`]: the sheet's and zennit's presets), and attributors that, prepared once for a
//! model, return the output and the relevance of every input value ([`Gradient`],
//! [`GradientTimesInput`], [`Lrp`]). LRP runs on two engines that agree: an explicit backward
//! pass (the default, fast) and the sheet's `z ← p·[z/p]_cst` trick through candle's autograd.
//! The compute kernels live in the `kernels` crate; this crate has no `unsafe` code.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use explainer::{Attributor, GammaSchedule, Lrp, Vgg, VggConfig};
//!
//! // A small VGG-style network: two blocks, 8×8 inputs, random weights.
//! let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 10);
//! let vgg = Vgg::random(&config, 7, &Device::Cpu, DType::F64)?;
//! let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu)?;
//! let lrp = Lrp::sheet(&GammaSchedule::default()).attribute(&vgg, &x, 3)?;
//! assert_eq!(lrp.logits.dims(), &[1, 10]);
//! assert_eq!(lrp.relevance.dims(), &[1, 3, 8, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod arguments;
pub mod attribution;
pub mod checkpoint;
pub mod classes;
pub mod composite;
#[cfg(feature = "cli")]
pub mod console;
pub mod error;
pub mod evaluation;
pub mod heatmap;
pub mod image;
pub mod model;
pub mod npy;
pub mod output_files;
pub mod prediction;
pub mod prototypes;
pub mod resample;
pub mod rules;
pub mod scene_panels;
pub mod scenes;
pub mod shipped;
pub mod training;

pub use attribution::{
    Attribution, Attributor, Engine, Gradient, GradientTimesInput, Lrp, ModifiedKernels, Prepared,
};
pub use composite::{Composite, GammaSchedule, Preset, PresetOptions, Selector};
pub use error::{Error, Result};
pub use model::{Canonization, Layer, LayerKind, Network, ResNet, ResNetConfig, Vgg, VggConfig};
pub use rules::{
    AlphaBeta, Epsilon, Flat, Gamma, GradientRule, Lrp0, Norm, Pass, Rule, Stabiliser, WSquare, ZBox, ZPlus,
};
