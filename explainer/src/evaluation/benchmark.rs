//! The benchmark: every metric for every method on batches of scenes with known masks.

use candle_core::{DType, Tensor};

use super::interval::MeanInterval;
use super::mask::Mask;
use super::mass_accuracy::relevance_mass_accuracy;
use super::method::Method;
use super::order::{most_relevant_first, random_order};
use super::pixel_flipping::{PixelFlipping, Replacement};
use super::pointing_game::pointing_game;
use super::randomisation::model_randomisation_similarity;
use super::rank_accuracy::relevance_rank_accuracy;
use super::report::{MethodSummary, Summary};
use crate::error::{Error, Result};
use crate::model::Vgg;

/// Per-scene values of one method.
#[derive(Debug, Clone, Default)]
struct Records {
    mass_accuracy: Vec<f64>,
    rank_accuracy: Vec<f64>,
    pointing_game: Vec<f64>,
    aopc: Vec<f64>,
    aopc_minus_random: Vec<f64>,
    randomisation: Vec<f64>,
    /// Scenes without positive relevance (mass accuracy undefined).
    mass_undefined: usize,
    /// Scenes whose |R| is constant for either model (rank correlation undefined).
    randomisation_undefined: usize,
    /// Sum over scenes of the flipping curve.
    curve_sum: Vec<f64>,
}

/// Runs every [`Method`] on batches of scenes and collects, per scene: relevance mass and
/// rank accuracy, the pointing game, pixel flipping (AOPC, and its gain over a random
/// pixel order of the same scene), and the model-randomisation similarity against `randomised`.
///
/// Each class is explained for the scene's true class; the flipping score is its logit.
#[derive(Debug)]
pub struct Benchmark {
    methods: Vec<Method>,
    flipping: PixelFlipping,
    replacement: Replacement,
    randomised: Vgg,
    order_seed: u64,
    records: Vec<Records>,
    random_order: Records,
    fractions: Vec<f64>,
    correct: usize,
    scenes: usize,
}

impl Benchmark {
    /// A benchmark of `methods`, flipping pixels by `flipping` with `replacement`, checking
    /// explanations against the same methods on `randomised` (a model with random weights),
    /// and drawing the random pixel orders from `order_seed`.
    pub fn new(
        methods: Vec<Method>,
        flipping: PixelFlipping,
        replacement: Replacement,
        randomised: Vgg,
        order_seed: u64,
    ) -> Self {
        let records = vec![Records::default(); methods.len()];
        Self {
            methods,
            flipping,
            replacement,
            randomised,
            order_seed,
            records,
            random_order: Records::default(),
            fractions: Vec::new(),
            correct: 0,
            scenes: 0,
        }
    }

    /// The methods, in table order.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// Scenes evaluated so far.
    pub fn scenes(&self) -> usize {
        self.scenes
    }

    /// Evaluates a batch: `input` `(N, C, H, W)` in the model's dtype, the true class, the
    /// object mask and the seed (identity) of each scene.
    pub fn add(
        &mut self,
        model: &Vgg,
        input: &Tensor,
        classes: &[usize],
        masks: &[Mask],
        scenes: &[u64],
    ) -> Result<()> {
        let n = input.dims4()?.0;
        if classes.len() != n || masks.len() != n || scenes.len() != n {
            return Err(Error::ShapeMismatch {
                what: "classes, masks and scenes of a benchmark batch",
                expected: format!("{n} of each (one per image)"),
                found: format!("{} classes, {} masks, {} scenes", classes.len(), masks.len(), scenes.len()),
            });
        }
        let predicted = model.forward(input)?.argmax(1)?.to_dtype(DType::U32)?.to_vec1::<u32>()?;
        self.correct += predicted.iter().zip(classes).filter(|(p, c)| **p as usize == **c).count();
        let pixels = masks.first().map_or(0, Mask::pixels);
        let fill = self.replacement.images(input, masks, scenes)?;

        let random_orders: Vec<Vec<usize>> =
            scenes.iter().map(|&s| random_order(pixels, self.order_seed, s)).collect();
        let random_curves = self.flipping.curves(model, input, &fill, classes, &random_orders)?;
        let random_aopc: Vec<f64> = random_curves.iter().map(|c| c.aopc()).collect();
        if let Some(curve) = random_curves.first() {
            self.fractions.clone_from(&curve.fractions);
        }
        accumulate(
            &mut self.random_order,
            &random_curves.iter().map(|c| c.scores.clone()).collect::<Vec<_>>(),
        );
        self.random_order.aopc.extend(&random_aopc);

        for (method, records) in self.methods.iter().zip(&mut self.records) {
            let maps = method.maps(model, input, classes, scenes)?;
            let randomised = method.maps(&self.randomised, input, classes, scenes)?;
            for ((map, mask), random_map) in maps.iter().zip(masks).zip(&randomised) {
                match relevance_mass_accuracy(map, mask) {
                    Ok(value) => records.mass_accuracy.push(value),
                    Err(Error::UndefinedMetric { .. }) => records.mass_undefined += 1,
                    Err(other) => return Err(other),
                }
                records.rank_accuracy.push(relevance_rank_accuracy(map, mask)?);
                records.pointing_game.push(if pointing_game(map, mask)? { 1.0 } else { 0.0 });
                match model_randomisation_similarity(map, random_map) {
                    Ok(value) => records.randomisation.push(value),
                    Err(Error::UndefinedMetric { .. }) => records.randomisation_undefined += 1,
                    Err(other) => return Err(other),
                }
            }
            let orders: Vec<Vec<usize>> = maps.iter().map(|m| most_relevant_first(m.values())).collect();
            let curves = self.flipping.curves(model, input, &fill, classes, &orders)?;
            accumulate(records, &curves.iter().map(|c| c.scores.clone()).collect::<Vec<_>>());
            for (curve, random) in curves.iter().zip(&random_aopc) {
                records.aopc.push(curve.aopc());
                records.aopc_minus_random.push(curve.aopc() - random);
            }
        }
        self.scenes += n;
        Ok(())
    }

    /// Means with 95 % normal-approximation intervals ([`MeanInterval::normal_95`]) and the
    /// mean flipping curves. Needs at least two scenes.
    pub fn summary(&self) -> Result<Summary> {
        let interval = MeanInterval::normal_95;
        let scale = 1.0 / self.scenes.max(1) as f64;
        let mean_curve = |records: &Records| -> Vec<(f64, f64)> {
            self.fractions.iter().zip(&records.curve_sum).map(|(&f, &s)| (f, s * scale)).collect()
        };
        let rows = self
            .methods
            .iter()
            .zip(&self.records)
            .map(|(method, r)| {
                Ok(MethodSummary {
                    method: method.name().to_string(),
                    mass_accuracy: interval(&r.mass_accuracy)?,
                    mass_undefined: r.mass_undefined,
                    rank_accuracy: interval(&r.rank_accuracy)?,
                    pointing_game: interval(&r.pointing_game)?,
                    aopc: interval(&r.aopc)?,
                    aopc_minus_random: interval(&r.aopc_minus_random)?,
                    randomisation: interval(&r.randomisation)?,
                    randomisation_undefined: r.randomisation_undefined,
                    curve: mean_curve(r),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Summary {
            setup: String::new(),
            scenes: self.scenes,
            accuracy: self.correct as f64 * scale,
            steps: self.flipping.steps(),
            rows,
            random_order_aopc: interval(&self.random_order.aopc)?,
            random_order_curve: mean_curve(&self.random_order),
        })
    }
}

/// Adds each scene's curve to the running sum.
fn accumulate(records: &mut Records, curves: &[Vec<f64>]) {
    for scores in curves {
        if records.curve_sum.len() < scores.len() {
            records.curve_sum.resize(scores.len(), 0.0);
        }
        for (sum, s) in records.curve_sum.iter_mut().zip(scores) {
            *sum += s;
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::model::VggConfig;

    /// A small network on 8×8 inputs, a randomised twin, four images and their masks (a 3×3
    /// square at a different place in each).
    fn setup() -> (Vgg, Vgg, Tensor, Vec<Mask>) {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 3);
        let model = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let randomised = Vgg::random(&config, 4, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (4, 3, 8, 8), &Device::Cpu).unwrap();
        let masks = (0..4)
            .map(|i| {
                Mask::new(8, 8, (0..64).map(|p| p % 8 / 3 == i % 2 && p / 8 / 3 == i / 2).collect()).unwrap()
            })
            .collect();
        (model, randomised, x, masks)
    }

    #[test]
    fn summarises_every_method_and_the_random_order() {
        let (model, randomised, x, masks) = setup();
        let flipping = PixelFlipping::new(4, 0.5).unwrap();
        let mut benchmark =
            Benchmark::new(Method::standard(1), flipping, Replacement::BackgroundMean, randomised, 1);
        benchmark.add(&model, &x, &[0, 1, 2, 0], &masks, &[10, 11, 12, 13]).unwrap();
        benchmark.add(&model, &x.narrow(0, 0, 2).unwrap(), &[1, 1], &masks[..2], &[14, 15]).unwrap();
        assert_eq!(benchmark.scenes(), 6);
        let summary = benchmark.summary().unwrap();
        assert_eq!(summary.rows.len(), 4);
        assert_eq!(summary.random_order_curve.len(), 5);
        for row in &summary.rows {
            assert_eq!(row.rank_accuracy.n, 6);
            assert_eq!(row.mass_accuracy.n + row.mass_undefined, 6);
            // Curves start at the intact images: the same mean logit for every method.
            assert!((row.curve[0].1 - summary.random_order_curve[0].1).abs() < 1e-12);
            assert_eq!(row.curve[4].0, 0.5);
        }
        // Noise relevance ignores the model: identical maps for the randomised one.
        assert_eq!(summary.row("random").unwrap().randomisation.mean, 1.0);
        assert!(summary.row("LRP").unwrap().randomisation.mean < 1.0);
    }

    #[test]
    fn mismatched_batches_are_typed_errors() {
        let (model, randomised, x, masks) = setup();
        let flipping = PixelFlipping::new(2, 0.5).unwrap();
        let mut benchmark =
            Benchmark::new(Method::standard(1), flipping, Replacement::BackgroundMean, randomised, 1);
        let error = benchmark.add(&model, &x, &[0, 1], &masks, &[1, 2, 3, 4]).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }), "{error}");
        assert!(matches!(benchmark.summary(), Err(Error::UndefinedMetric { .. })));
    }
}
