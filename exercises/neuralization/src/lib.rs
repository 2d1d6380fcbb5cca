//! Exercise 3 of exercise sheet 11 ("Explaining neural networks", TU Berlin): the one-class SVM
//! `f(x) = Σ_i α_i exp(−γ ‖x − u_i‖²)`, its outlier score `o(x) = −γ⁻¹ log f(x)`, and its
//! neuralized form — a distance layer `h_i = ‖x − u_i‖² − γ⁻¹ log α_i` followed by the soft-min
//! `−γ⁻¹ log Σ_i exp(−γ h_i)`, which tends to min-pooling `min_i h_i` as `γ → ∞`.
//!
//! - [`model`]: the model, `f(x)` and the stable `o(x)`;
//! - [`neuralized`]: the two-layer network with explicit weights (3a);
//! - [`softmin`]: the soft-min, its weights, min-pooling and the bound `(log M)/γ` (3b);
//! - [`mod@explain`]: relevance of support vectors and features for an outlier score (after
//!   Kauffmann, Müller, Montavon, Pattern Recognition 2020);
//! - [`fit`] and [`data`]: a real one-class SVM fitted by linfa-svm on seeded 2-D data;
//! - [`figures`]: the book's figures of this exercise.
//!
//! ```
//! use nalgebra::{DMatrix, DVector};
//! use neuralization::{OneClassSvm, TwoLayerNetwork, explain};
//!
//! let model = OneClassSvm::new(
//!     DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 2.0, 0.0]),
//!     DVector::from_vec(vec![0.5, 0.5]),
//!     1.0,
//! )?;
//! let x = [1.0, 3.0];
//! let o = model.outlier_score(&x)?;
//! // 3a: the two-layer network computes the same score.
//! let network = TwoLayerNetwork::from_model(&model);
//! assert!((network.forward(&x)? - o).abs() < 1e-12);
//! // Far from every support vector f(x) underflows, o(x) does not.
//! assert_eq!(model.inlierness(&[1e3, 0.0])?, 0.0);
//! assert!(model.outlier_score(&[1e3, 0.0])?.is_finite());
//! // The explanation conserves the score.
//! let e = explain(&model, &x)?;
//! assert!((e.total() - o).abs() < 1e-12);
//! # Ok::<(), neuralization::Error>(())
//! ```

pub mod data;
pub mod error;
pub mod explain;
pub mod figures;
pub mod fit;
pub mod model;
pub mod neuralized;
pub mod softmin;

pub use error::{Error, Result};
pub use explain::{Explanation, explain, explain_min_pooling, explain_proportional};
pub use fit::{FittedOneClassSvm, fit_one_class_svm};
pub use model::OneClassSvm;
pub use neuralized::TwoLayerNetwork;
pub use softmin::{gap_bound, min_pooling, soft_min, soft_min_gap, soft_min_weights};
