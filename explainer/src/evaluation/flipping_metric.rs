//! Pixel flipping as a [`Metric`]: AOPC of the most-relevant-first order, its gain over a
//! random order of the same scene, and the flipping curve.

use std::sync::Mutex;

use super::method::Method;
use super::metric::{Batch, Column, CurveSpec, Metric, Scores, check_maps};
use super::order::{most_relevant_first, random_order};
use super::pixel_flipping::{PixelFlipping, Replacement};
use crate::error::Result;
use crate::heatmap::RelevanceMap;

/// [`PixelFlipping`] with its [`Replacement`]: per scene the AOPC ([`super::FlipCurve::aopc`])
/// of the method's order and `AOPC − AOPC(random order)`, the random order seeded by
/// `(order_seed, scene)`; the curve is the explained logit after each step.
#[derive(Debug)]
pub struct Flipping {
    flipping: PixelFlipping,
    replacement: Replacement,
    order_seed: u64,
    pixels: usize,
    /// The random order's AOPC of the last batch's scenes (the same for every method).
    random: Mutex<Option<(Vec<u64>, Vec<f64>)>>,
}

impl Flipping {
    /// Flipping by `flipping`, removed pixels becoming `replacement`, random orders from
    /// `order_seed`, on images of `pixels` pixels (for the curve's x axis).
    pub fn new(flipping: PixelFlipping, replacement: Replacement, order_seed: u64, pixels: usize) -> Self {
        Self { flipping, replacement, order_seed, pixels, random: Mutex::new(None) }
    }

    /// The random order's AOPC of each scene of `batch`, computed once per batch.
    fn random_aopc(&self, batch: &Batch, fill: &candle_core::Tensor) -> Result<Vec<f64>> {
        let mut cached = self.random.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((scenes, aopc)) = cached.as_ref()
            && scenes == batch.scenes
        {
            return Ok(aopc.clone());
        }
        let pixels = batch.masks.first().map_or(0, |m| m.pixels());
        let orders: Vec<Vec<usize>> =
            batch.scenes.iter().map(|&s| random_order(pixels, self.order_seed, s)).collect();
        let curves = self.flipping.curves(batch.model, batch.input, fill, batch.classes, &orders)?;
        let aopc: Vec<f64> = curves.iter().map(|c| c.aopc()).collect();
        *cached = Some((batch.scenes.to_vec(), aopc.clone()));
        Ok(aopc)
    }
}

impl Metric for Flipping {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column { key: "aopc", heading: "AOPC" },
            Column { key: "aopc_minus_random", heading: "AOPC − random order" },
        ]
    }

    fn curve(&self) -> Option<CurveSpec> {
        let pixels = self.pixels.max(1);
        Some(CurveSpec {
            file: "pixel_flipping",
            title: "Pixel flipping, most relevant first",
            axes: ("share of pixels removed", "mean logit of the true class"),
            x: (0..=self.flipping.steps())
                .map(|k| self.flipping.removed(pixels, k) as f64 / pixels as f64)
                .collect(),
        })
    }

    fn scores(&self, batch: &Batch, _method: &Method, maps: &[RelevanceMap]) -> Result<Scores> {
        check_maps(batch, maps)?;
        let fill = self.replacement.images(batch.input, batch.masks, batch.scenes)?;
        let random = self.random_aopc(batch, &fill)?;
        let orders: Vec<Vec<usize>> = maps.iter().map(|m| most_relevant_first(m.values())).collect();
        let curves = self.flipping.curves(batch.model, batch.input, &fill, batch.classes, &orders)?;
        let aopc: Vec<f64> = curves.iter().map(|c| c.aopc()).collect();
        Ok(Scores {
            values: vec![
                aopc.iter().map(|&a| Some(a)).collect(),
                aopc.iter().zip(&random).map(|(a, r)| Some(a - r)).collect(),
            ],
            curves: curves.into_iter().map(|c| Some(c.scores)).collect(),
        })
    }
}
