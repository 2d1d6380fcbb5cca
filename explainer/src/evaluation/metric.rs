//! The [`Metric`] trait: what the evaluation measures, one file per metric, one list of them.

use candle_core::Tensor;

use super::mask::Mask;
use super::method::Method;
use crate::error::{Error, Result};
use crate::heatmap::RelevanceMap;
use crate::model::Vgg;

/// What a metric sees of one batch of scenes: the trained model, the input `(N, C, H, W)`,
/// and per scene its true class (the explained one), object mask and seed.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The trained model.
    pub model: &'a Vgg,
    /// The scenes, in the model's input space.
    pub input: &'a Tensor,
    /// The explained (true) class of each scene.
    pub classes: &'a [usize],
    /// The object mask of each scene.
    pub masks: &'a [Mask],
    /// The seed (identity) of each scene.
    pub scenes: &'a [u64],
}

/// One number a metric reports per scene: its key in CSV files and its heading in tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The CSV key (`mass_accuracy`).
    pub key: &'static str,
    /// The table heading (`mass accuracy`).
    pub heading: &'static str,
}

/// A curve a metric draws per scene (the mean over scenes becomes a figure).
#[derive(Debug, Clone, PartialEq)]
pub struct CurveSpec {
    /// The figure's file stem (`pixel_flipping`).
    pub file: &'static str,
    /// The figure's title.
    pub title: &'static str,
    /// The x axis label and the y axis label.
    pub axes: (&'static str, &'static str),
    /// The x value of each point.
    pub x: Vec<f64>,
}

/// What a metric returns for a batch: per column, one value per scene (`None` where the
/// metric is undefined for that scene), and per scene its curve if the metric draws one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// `values[column][scene]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// One curve per scene (`None` where undefined), empty without a [`CurveSpec`].
    pub curves: Vec<Option<Vec<f64>>>,
}

/// A measure of explanation quality. A new metric is one file with an implementation and one
/// line in [`standard_metrics`](super::standard::standard_metrics); the table, the CSV files and the figures are built from it.
pub trait Metric: std::fmt::Debug + Send + Sync {
    /// The numbers it reports per scene.
    fn columns(&self) -> Vec<Column>;

    /// The curve it draws per scene, if any.
    fn curve(&self) -> Option<CurveSpec> {
        None
    }

    /// The scores of `method`'s relevance maps `maps` (one per scene of `batch`, made on the
    /// trained model).
    fn scores(&self, batch: &Batch, method: &Method, maps: &[RelevanceMap]) -> Result<Scores>;
}

/// A metric of one map against its scene's mask alone (no model): the simple case of
/// [`Metric`], which every `MapMetric` is.
pub trait MapMetric: std::fmt::Debug + Send + Sync {
    /// The one number it reports.
    fn column(&self) -> Column;

    /// The score of `map` against `mask`, `None` where undefined.
    fn score(&self, map: &RelevanceMap, mask: &Mask) -> Result<Option<f64>>;
}

impl<M: MapMetric> Metric for M {
    fn columns(&self) -> Vec<Column> {
        vec![self.column()]
    }

    fn scores(&self, batch: &Batch, _method: &Method, maps: &[RelevanceMap]) -> Result<Scores> {
        check_maps(batch, maps)?;
        let values =
            maps.iter().zip(batch.masks).map(|(map, mask)| self.score(map, mask)).collect::<Result<_>>()?;
        Ok(Scores { values: vec![values], curves: Vec::new() })
    }
}

/// An error unless there is one map per scene.
pub(crate) fn check_maps(batch: &Batch, maps: &[RelevanceMap]) -> Result<()> {
    if maps.len() != batch.scenes.len() || batch.masks.len() != batch.scenes.len() {
        return Err(Error::ShapeMismatch {
            what: "maps and masks of a metric batch",
            expected: format!("{} of each (one per scene)", batch.scenes.len()),
            found: format!("{} maps, {} masks", maps.len(), batch.masks.len()),
        });
    }
    Ok(())
}

/// Turns an [`Error::UndefinedMetric`] into `None`; other errors stay errors.
pub(crate) fn defined(result: Result<f64>) -> Result<Option<f64>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::UndefinedMetric { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
