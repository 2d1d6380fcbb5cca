//! Class prototypes of a network by activation maximisation, with the three penalties of
//! exercise 1 of sheet 11: the input `x*` that maximises `f_c(x) − Ω(x)`.
//!
//! - (a) [`L2Penalty`]: `Ω(x) = λ‖x − x₀‖²`, `x₀` the mean scene;
//! - (b) [`GaussianPrior`]: `Ω(x) = −λ log N(x; μ, Σ)` (the exercise: `λ = 1`), `μ`, `Σ` fitted to training scenes as a
//!   [`LowRankGaussian`] (probabilistic PCA: `Σ = W Wᵀ + σ² I`, never stored dense);
//! - (c) [`LinearGenerator`]: `x = A z + c` with `A = W`, `c = μ` of the same fit, and
//!   `Ω(z) = λ‖z‖²`, maximised over the code `z`.
//!
//! [`find_prototype`] runs projected gradient ascent ([`Ascent`]: Armijo backtracking, stop at
//! a small gradient mapping) through a [`ClassScore`]: a VGG network on pixel values
//! ([`NetworkScore`], its gradient from the explainer's [`crate::Gradient`]) or a linear
//! model ([`LinearScore`], e.g. the network's last layer, where exercise 1's closed forms hold).
//! Pixels are clamped to `[0, 1]` ([`Settings::range`]): the network was trained on nothing
//! else, and the penalties alone would not keep a prototype there.
//!
//! ```
//! use candle_core::{DType, Device};
//! use explainer::prototypes::{Ascent, NetworkScore, PenaltyKind, Settings, find_prototype};
//! use explainer::{Vgg, VggConfig};
//! use nalgebra::DVector;
//!
//! let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 3);
//! let model = Vgg::random(&config, 1, &Device::Cpu, DType::F32)?;
//! let score = NetworkScore::new(&model)?;
//! let grey = DVector::from_element(3 * 8 * 8, 0.5);
//! let settings = Settings { ascent: Ascent { max_iterations: 20, ..Ascent::default() }, ..Settings::default() };
//! let prototype = find_prototype(&score, 2, PenaltyKind::L2, &grey, None, &settings, |_, _| {})?;
//! assert!(prototype.input.iter().all(|v| (0.0..=1.0).contains(v)));
//! assert!(prototype.ascent.value >= prototype.ascent.values[0]);
//! # Ok::<(), explainer::Error>(())
//! ```

pub mod ascent;
pub mod figure;
pub mod gaussian_prior;
pub mod generator;
pub mod l2;
pub mod low_rank_gaussian;
pub mod penalty;
pub mod pixels;
pub mod prototype;
pub mod score;

pub use ascent::{Ascent, AscentResult, Objective};
pub use gaussian_prior::GaussianPrior;
pub use generator::{CodeObjective, LinearGenerator};
pub use l2::L2Penalty;
pub use low_rank_gaussian::LowRankGaussian;
pub use penalty::{InputObjective, InputPenalty};
pub use prototype::{PenaltyKind, Prototype, Settings, find_prototype};
pub use score::{ClassScore, LinearScore, NetworkScore, logit_gradient};
