//! Exercise 1 of exercise sheet 11 ("Explaining neural networks"): activation maximization for
//! the linear model `f(x) = wᵀx + b`.
//!
//! Activation maximization explains `f` by a *prototype* `x* = argmax_x f(x) − Ω(x)`, an input
//! that makes the output large while the penalty `Ω` keeps it plausible. For the three penalties
//! of the exercise the prototype has a closed form ([`closed_form`]); an independent
//! [`GradientAscent`] finds it numerically, and the tests check that both agree.
//!
//! | part | penalty `Ω` | objective | prototype |
//! |---|---|---|---|
//! | (a) | `λ‖x‖²` | [`L2Objective`] | `x* = w / (2λ)` |
//! | (b) | `−log p(x)`, `x ~ N(μ, Σ)` | [`GaussianObjective`] | `x* = μ + Σw` |
//! | (c) | `λ‖z‖²` on the code of `x = Az + c` | [`GeneratorObjective`] | `z* = Aᵀw / (2λ)`, `x* = c + AAᵀw / (2λ)` |
//!
//! For `λ ≤ 0` the objective is unbounded above and no prototype exists: the constructors
//! return [`Error::InvalidParameter`]. Every other bad input is an [`Error`] too, never a panic
//! or a NaN.
//!
//! ```
//! use activation_maximization::{GradientAscent, L2Objective, LinearModel, closed_form};
//! use approx::assert_relative_eq;
//! use nalgebra::{DVector, dvector};
//!
//! /// Agreement of gradient ascent with the closed form.
//! const SOLVER: f64 = 1e-9;
//!
//! let model = LinearModel::new(dvector![1.0, -2.0], 0.5)?;
//! let objective = L2Objective::new(model, 0.25)?;
//! let exact = closed_form::l2_prototype(&objective)?; // w / (2λ)
//! assert_relative_eq!(exact, dvector![2.0, -4.0]);
//! let ascent = GradientAscent::default().maximize(&objective, &DVector::zeros(2))?;
//! assert_relative_eq!(ascent.argmax, exact, max_relative = SOLVER);
//! println!("converged in {} iterations", ascent.iterations);
//! # Ok::<(), activation_maximization::Error>(())
//! ```
//!
//! [`figures::write_all`] draws the book's figures of this exercise.

pub mod closed_form;
pub mod error;
pub mod figures;
pub mod gaussian;
pub mod generator;
pub mod gradient_ascent;
pub mod linear_model;
pub mod objective;
mod validation;

pub use closed_form::{GeneratorPrototype, gaussian_prototype, generator_prototype, l2_prototype};
pub use error::{Error, Result};
pub use gaussian::Gaussian;
pub use generator::LinearGenerator;
pub use gradient_ascent::{Ascent, GradientAscent};
pub use linear_model::LinearModel;
pub use objective::{GaussianObjective, GeneratorObjective, L2Objective, Objective};
