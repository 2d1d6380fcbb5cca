//! Measuring explanation quality against known object masks, as Quantus does.
//!
//! The sheet judges heatmaps by eye ("most of the noise has disappeared"); these metrics put a
//! number on it, for any relevance map ([`RelevanceMap`](crate::heatmap::RelevanceMap), the channel sum of an attribution)
//! and a ground-truth [`Mask`]:
//!
//! - localisation: [`relevance_mass_accuracy`] and [`relevance_rank_accuracy`] (Arras et al.
//!   2022, CLEVR-XAI), [`pointing_game`](fn@pointing_game) (Zhang et al. 2018);
//! - faithfulness: [`PixelFlipping`] curves and their [`FlipCurve::aopc`] (Samek et al. 2017),
//!   against a random pixel order ([`random_order`]);
//! - the model-randomisation sanity check: [`model_randomisation_similarity`] (Adebayo et al.
//!   2018), Spearman's ρ of |R| for a trained and a randomised model;
//! - a [`RandomRelevance`] baseline, and [`Benchmark`], which runs every [`Method`] on batches
//!   of scenes and reports means with 95 % intervals ([`MeanInterval`], [`Summary`]);
//! - the extensible evaluation of the `evaluate` binary: the [`Metric`] trait (one file per
//!   metric, [`standard_metrics`] lists them, including the cascading randomisation test and
//!   input-shift invariance), the method list [`standard_methods`], and [`Suite`], which records
//!   every value per scene ([`SceneTable`]) and computes the table from that record.
//!
//! ```
//! use explainer::evaluation::{Mask, pointing_game, relevance_mass_accuracy, relevance_rank_accuracy};
//! use explainer::heatmap::RelevanceMap;
//!
//! // A 2×2 image whose object is the top row.
//! let mask = Mask::new(2, 2, vec![true, true, false, false])?;
//! let map = RelevanceMap::from_values(2, 2, vec![3.0, -1.0, 1.0, -2.0])?;
//! assert_eq!(relevance_mass_accuracy(&map, &mask)?, 0.75); // 3 / (3 + 1)
//! assert_eq!(relevance_rank_accuracy(&map, &mask)?, 0.5); // top-2 = pixels 0 and 2
//! assert!(pointing_game(&map, &mask)?); // the maximum, pixel 0, is on the object
//! # Ok::<(), explainer::Error>(())
//! ```

pub mod benchmark;
pub mod cascading;
pub mod composites;
pub mod flipping_metric;
pub mod interval;
pub mod mask;
pub mod mass_accuracy;
pub mod method;
pub mod metric;
pub mod model_variants;
pub mod order;
pub mod pixel_flipping;
pub mod pointing_game;
pub mod random_baseline;
pub mod randomisation;
pub mod rank_accuracy;
pub mod report;
pub mod scene_table;
pub mod shift_invariance;
pub mod sparseness;
mod splitmix;
pub mod standard;
pub mod suite;

pub use benchmark::Benchmark;
pub use composites::compared_composites;
pub use interval::MeanInterval;
pub use mask::Mask;
pub use mass_accuracy::relevance_mass_accuracy;
pub use method::Method;
pub use metric::{Batch, Column, CurveSpec, MapMetric, Metric, Scores};
pub use order::{most_relevant_first, random_order};
pub use pixel_flipping::{FlipCurve, PixelFlipping, Replacement};
pub use pointing_game::pointing_game;
pub use random_baseline::RandomRelevance;
pub use randomisation::{model_randomisation_similarity, spearman};
pub use rank_accuracy::relevance_rank_accuracy;
pub use report::{MethodSummary, Summary};
pub use scene_table::{SceneRow, SceneTable, TableSummary};
pub use standard::{MethodSettings, MetricSettings, standard_methods, standard_metrics};
pub use suite::Suite;
