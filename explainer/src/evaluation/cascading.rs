//! The cascading model-parameter randomisation test as a [`Metric`].

use super::method::Method;
use super::metric::{Batch, Column, CurveSpec, Metric, Scores, check_maps, defined};
use super::model_variants::cascade;
use super::randomisation::model_randomisation_similarity;
use crate::error::Result;
use crate::heatmap::RelevanceMap;
use crate::model::Vgg;

/// Cascading randomisation (Adebayo et al. 2018, "Sanity checks for saliency maps", §4;
/// Quantus' `ModelParameterRandomisation`): the layers with parameters are replaced, from the
/// top, by those of a randomly initialised network, and after each step the method's map is
/// compared with the trained model's by Spearman's ρ of `|R|`
/// ([`model_randomisation_similarity`]). The curve is ρ after `k = 1..=L` layers; the column
/// is ρ with every layer random (the whole random network).
///
/// A method that explains the model falls towards 0 as layers go; one that ignores the
/// weights stays near 1. Where `|R|` is constant for either map the scene's ρ is undefined.
#[derive(Debug)]
pub struct CascadingRandomisation {
    models: Vec<Vgg>,
}

impl CascadingRandomisation {
    /// The cascade from `trained` to `random` (same configuration).
    pub fn new(trained: &Vgg, random: &Vgg) -> Result<Self> {
        Ok(Self { models: cascade(trained, random)? })
    }
}

impl Metric for CascadingRandomisation {
    fn columns(&self) -> Vec<Column> {
        vec![Column { key: "randomisation_spearman", heading: "randomisation ρ" }]
    }

    fn curve(&self) -> Option<CurveSpec> {
        Some(CurveSpec {
            file: "cascading_randomisation",
            title: "Cascading randomisation, from the top layer down",
            axes: ("layers randomised (from the top)", "Spearman ρ of |R| with the trained model"),
            x: (1..=self.models.len()).map(|k| k as f64).collect(),
        })
    }

    fn scores(&self, batch: &Batch, method: &Method, maps: &[RelevanceMap]) -> Result<Scores> {
        check_maps(batch, maps)?;
        let mut curves: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(self.models.len()); maps.len()];
        for model in &self.models {
            let randomised = method.maps(model, batch.input, batch.classes, batch.scenes)?;
            for ((curve, map), other) in curves.iter_mut().zip(maps).zip(&randomised) {
                curve.push(defined(model_randomisation_similarity(map, other))?);
            }
        }
        let last = curves.iter().map(|c| c.last().copied().flatten()).collect();
        let curves = curves.into_iter().map(|c| c.into_iter().collect::<Option<Vec<f64>>>()).collect();
        Ok(Scores { values: vec![last], curves })
    }
}
