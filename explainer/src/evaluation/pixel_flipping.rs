//! Pixel flipping: remove the most relevant pixels first and watch the class score fall.

use candle_core::{DType, Tensor};

use super::mask::Mask;
use super::splitmix::{Domain, SplitMix64};
use crate::error::{Error, Result};
use crate::model::Vgg;

/// Images evaluated per forward pass by default.
const BATCH_SIZE: usize = 64;

/// What a removed pixel is replaced by, in the model's input space (all channels of the pixel).
#[derive(Debug, Clone, PartialEq)]
pub enum Replacement {
    /// The background mean: the mean of each channel over the pixels outside the object
    /// mask, per image. Removing a pixel paints it the colour of the empty scene.
    BackgroundMean,
    /// One value per channel for every image (e.g. the dataset mean).
    Constant(Vec<f64>),
    /// Seeded noise: each value uniform in `[min_c, max_c]`, the range of channel `c` in the
    /// image, drawn from `(seed, scene)` so it does not depend on batching.
    UniformNoise {
        /// The seed of all noise images.
        seed: u64,
    },
}

impl Replacement {
    /// The replacement image of each input image (`(N, C, H, W)`, same dtype): what pixel
    /// flipping writes into a removed pixel. `masks` and `scenes` (one per image) are used by
    /// [`Replacement::BackgroundMean`] and [`Replacement::UniformNoise`] respectively.
    ///
    /// Fails with [`Error::ShapeMismatch`] for masks, scenes or constants that do not fit the
    /// input, and [`Error::UndefinedMetric`] for a background mean of a mask covering every pixel.
    pub fn images(&self, input: &Tensor, masks: &[Mask], scenes: &[u64]) -> Result<Tensor> {
        let (n, channels, height, width) = input.dims4()?;
        let hw = height * width;
        if masks.len() != n || scenes.len() != n {
            return Err(Error::ShapeMismatch {
                what: "masks and scenes of pixel flipping",
                expected: format!("{n} of each (one per image)"),
                found: format!("{} masks, {} scenes", masks.len(), scenes.len()),
            });
        }
        if let Some(mask) = masks.iter().find(|m| m.width() != width || m.height() != height) {
            return Err(Error::ShapeMismatch {
                what: "mask",
                expected: format!("{width}×{height} (the input)"),
                found: format!("{}×{}", mask.width(), mask.height()),
            });
        }
        let values: Vec<f64> = input.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let mut out = Vec::with_capacity(values.len());
        for (i, image) in values.chunks_exact(channels * hw).enumerate() {
            match self {
                Self::BackgroundMean => {
                    let outside = hw - masks[i].count();
                    if outside == 0 {
                        return Err(Error::UndefinedMetric {
                            metric: "background mean",
                            why: format!("the mask of image {i} covers every pixel"),
                        });
                    }
                    for plane in image.chunks_exact(hw) {
                        let sum: f64 = plane
                            .iter()
                            .enumerate()
                            .filter(|(p, _)| !masks[i].contains(*p))
                            .map(|(_, v)| v)
                            .sum();
                        out.extend(std::iter::repeat_n(sum / outside as f64, hw));
                    }
                }
                Self::Constant(fill) => {
                    if fill.len() != channels {
                        return Err(Error::ShapeMismatch {
                            what: "constant replacement",
                            expected: format!("{channels} values (one per channel)"),
                            found: format!("{} values", fill.len()),
                        });
                    }
                    for &v in fill {
                        out.extend(std::iter::repeat_n(v, hw));
                    }
                }
                Self::UniformNoise { seed } => {
                    let mut rng = SplitMix64::new(Domain::Replacement, *seed, scenes[i]);
                    for plane in image.chunks_exact(hw) {
                        let low = plane.iter().copied().fold(f64::INFINITY, f64::min);
                        let high = plane.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        out.extend((0..hw).map(|_| low + (high - low) * rng.uniform()));
                    }
                }
            }
        }
        if let Some(index) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "replacement value", index, value: out[index] });
        }
        Ok(Tensor::from_vec(out, (n, channels, height, width), input.device())?.to_dtype(input.dtype())?)
    }
}

/// The class score of one image as its pixels are removed.
#[derive(Debug, Clone, PartialEq)]
pub struct FlipCurve {
    /// Share of the pixels removed at each step, from 0.
    pub fractions: Vec<f64>,
    /// The explained logit `f(x^k)` after step `k` (`k = 0`: the intact image).
    pub scores: Vec<f64>,
}

impl FlipCurve {
    // ANCHOR: aopc
    /// The area over the perturbation curve, `AOPC = 1/(L+1) · Σ_{k=0}^{L} (f(x⁰) − f(x^k))`
    /// (Samek et al. 2017, "Evaluating the visualization of what a deep neural network has
    /// learned", IEEE TNNLS 28(11), eq. 12, for one image; Quantus' `RegionPerturbation`).
    /// Larger is better: the score falls early when the most relevant pixels go first.
    pub fn aopc(&self) -> f64 {
        let start = self.scores[0];
        self.scores.iter().map(|s| start - s).sum::<f64>() / self.scores.len() as f64
    }
    // ANCHOR_END: aopc
}

/// Pixel flipping (Samek et al. 2017, "MoRF"; Bach et al. 2015): in `steps` equal steps up to
/// `max_fraction` of the pixels, replace the pixels in a given order (most relevant first, or
/// random for the baseline) and record the explained logit after each step.
///
/// Step `k` has removed the first `round(k · max_fraction · P / steps)` pixels of the order
/// (`P = H·W`, all channels of a pixel at once). Batched: `batch_size` images per forward pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelFlipping {
    steps: usize,
    max_fraction: f64,
    batch_size: usize,
}

impl PixelFlipping {
    /// `steps ≥ 1` steps up to `max_fraction ∈ (0, 1]` of the pixels.
    pub fn new(steps: usize, max_fraction: f64) -> Result<Self> {
        if steps == 0 {
            return Err(Error::InvalidParameter {
                name: "steps",
                value: "0".into(),
                why: "pixel flipping needs at least one step".into(),
            });
        }
        if !(max_fraction > 0.0 && max_fraction <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "max_fraction",
                value: max_fraction.to_string(),
                why: "the share of pixels removed must be in (0, 1]".into(),
            });
        }
        Ok(Self { steps, max_fraction, batch_size: BATCH_SIZE })
    }

    /// The same with `batch_size ≥ 1` images per forward pass (1 if 0 is given).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Number of steps `L`; a curve has `L + 1` points.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Pixels removed after step `k` of an image with `pixels` pixels.
    pub fn removed(&self, pixels: usize, step: usize) -> usize {
        let share = self.max_fraction * step.min(self.steps) as f64 / self.steps as f64;
        ((share * pixels as f64).round() as usize).min(pixels)
    }

    /// The flipping curve of each image of `input` (`(N, C, H, W)`, the model's dtype) for
    /// its class `classes[n]`, removing pixels in `orders[n]` (a permutation of `0..H·W`)
    /// and writing `replacement`'s values (same shape, see [`Replacement::images`]).
    pub fn curves(
        &self,
        model: &Vgg,
        input: &Tensor,
        replacement: &Tensor,
        classes: &[usize],
        orders: &[Vec<usize>],
    ) -> Result<Vec<FlipCurve>> {
        model.check_input(input)?;
        let (n, channels, height, width) = input.dims4()?;
        let pixels = height * width;
        if replacement.dims() != input.dims() {
            return Err(Error::ShapeMismatch {
                what: "replacement images",
                expected: format!("{:?} (the input)", input.dims()),
                found: format!("{:?}", replacement.dims()),
            });
        }
        if classes.len() != n || orders.len() != n {
            return Err(Error::ShapeMismatch {
                what: "classes and orders of pixel flipping",
                expected: format!("{n} of each (one per image)"),
                found: format!("{} classes, {} orders", classes.len(), orders.len()),
            });
        }
        if let Some(&class) = classes.iter().find(|&&c| c >= model.classes()) {
            return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
        }
        for order in orders {
            check_permutation(order, pixels)?;
        }
        let x: Vec<f64> = input.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let fill: Vec<f64> = replacement.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let image_len = channels * pixels;
        let removed: Vec<usize> = (0..=self.steps).map(|k| self.removed(pixels, k)).collect();
        let fractions: Vec<f64> = removed.iter().map(|&r| r as f64 / pixels as f64).collect();

        let mut scores = vec![Vec::with_capacity(self.steps + 1); n];
        let mut pending: Vec<usize> = Vec::with_capacity(self.batch_size);
        let mut buffer: Vec<f64> = Vec::with_capacity(self.batch_size * image_len);
        for (image, order) in orders.iter().enumerate().take(n) {
            let range = image * image_len..(image + 1) * image_len;
            let mut current = x[range.clone()].to_vec();
            let source = &fill[range];
            for k in 0..=self.steps {
                let from = if k == 0 { 0 } else { removed[k - 1] };
                for &p in &order[from..removed[k]] {
                    for c in 0..channels {
                        current[c * pixels + p] = source[c * pixels + p];
                    }
                }
                buffer.extend_from_slice(&current);
                pending.push(image);
                if pending.len() == self.batch_size {
                    self.score(
                        model,
                        &mut buffer,
                        &mut pending,
                        (channels, height, width),
                        classes,
                        &mut scores,
                    )?;
                }
            }
        }
        if !pending.is_empty() {
            self.score(model, &mut buffer, &mut pending, (channels, height, width), classes, &mut scores)?;
        }
        Ok(scores.into_iter().map(|scores| FlipCurve { fractions: fractions.clone(), scores }).collect())
    }

    /// Runs the buffered images through the model and appends each one's class logit.
    fn score(
        &self,
        model: &Vgg,
        buffer: &mut Vec<f64>,
        pending: &mut Vec<usize>,
        (channels, height, width): (usize, usize, usize),
        classes: &[usize],
        scores: &mut [Vec<f64>],
    ) -> Result<()> {
        let batch = Tensor::from_vec(
            std::mem::take(buffer),
            (pending.len(), channels, height, width),
            model.device(),
        )?
        .to_dtype(model.dtype())?;
        let logits: Vec<Vec<f64>> = model.forward(&batch)?.to_dtype(DType::F64)?.to_vec2()?;
        for (row, &image) in logits.iter().zip(pending.iter()) {
            let score = row[classes[image]];
            if !score.is_finite() {
                return Err(Error::NonFinite {
                    what: "class score while flipping",
                    index: image,
                    value: score,
                });
            }
            scores[image].push(score);
        }
        pending.clear();
        buffer.reserve(self.batch_size * channels * height * width);
        Ok(())
    }
}

/// Checks that `order` is a permutation of `0..pixels`.
fn check_permutation(order: &[usize], pixels: usize) -> Result<()> {
    let mut seen = vec![false; pixels];
    let bad =
        order.len() != pixels || order.iter().any(|&p| p >= pixels || std::mem::replace(&mut seen[p], true));
    if bad {
        return Err(Error::ShapeMismatch {
            what: "pixel order",
            expected: format!("a permutation of 0..{pixels}"),
            found: format!("{} indices, not a permutation", order.len()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;
    use candle_core::Device;

    use super::*;
    use crate::model::VggConfig;

    const EXACT: f64 = 1e-12;

    /// A small network on 8×8 inputs and one input image.
    fn setup() -> (Vgg, Tensor) {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (2, 3, 8, 8), &Device::Cpu).unwrap();
        (vgg, x)
    }

    #[test]
    fn aopc_is_the_mean_drop_including_step_zero() {
        let curve = FlipCurve { fractions: vec![0.0, 0.5, 1.0], scores: vec![4.0, 1.0, 1.0] };
        // (0 + 3 + 3) / 3.
        assert_relative_eq!(curve.aopc(), 2.0, epsilon = EXACT);
    }

    #[test]
    fn removed_counts_follow_the_steps() {
        let flipping = PixelFlipping::new(4, 0.5).unwrap();
        let counts: Vec<usize> = (0..=4).map(|k| flipping.removed(64, k)).collect();
        assert_eq!(counts, vec![0, 8, 16, 24, 32]);
        assert!(PixelFlipping::new(0, 0.5).is_err());
        assert!(PixelFlipping::new(3, 0.0).is_err());
        assert!(PixelFlipping::new(3, f64::NAN).is_err());
    }

    #[test]
    fn curve_matches_replacing_by_hand_and_batching_does_not_matter() {
        let (vgg, x) = setup();
        let fill = x.zeros_like().unwrap();
        let orders: Vec<Vec<usize>> = vec![(0..64).collect(), (0..64).rev().collect()];
        let flipping = PixelFlipping::new(2, 1.0).unwrap();
        let curves = flipping.curves(&vgg, &x, &fill, &[1, 4], &orders).unwrap();
        let logits: Vec<Vec<f64>> = vgg.forward(&x).unwrap().to_vec2().unwrap();
        let zero: Vec<Vec<f64>> = vgg.forward(&fill).unwrap().to_vec2().unwrap();
        // Step 0 is the intact image, the last step the all-replaced one.
        assert_relative_eq!(curves[0].scores[0], logits[0][1], epsilon = EXACT);
        assert_relative_eq!(curves[1].scores[2], zero[1][4], epsilon = EXACT);
        assert_eq!(curves[0].fractions, vec![0.0, 0.5, 1.0]);
        // Halfway for image 0: the top half (rows 0..4) replaced by zeros.
        let mut half: Vec<f64> = x.get(0).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        for c in 0..3 {
            half[c * 64..c * 64 + 32].fill(0.0);
        }
        let half = Tensor::from_vec(half, (1, 3, 8, 8), &Device::Cpu).unwrap();
        let expected: Vec<Vec<f64>> = vgg.forward(&half).unwrap().to_vec2().unwrap();
        assert_relative_eq!(curves[0].scores[1], expected[0][1], epsilon = EXACT);
        let one_by_one = flipping.with_batch_size(1).curves(&vgg, &x, &fill, &[1, 4], &orders).unwrap();
        for (a, b) in curves.iter().zip(&one_by_one) {
            for (s, t) in a.scores.iter().zip(&b.scores) {
                assert_relative_eq!(s, t, epsilon = EXACT);
            }
        }
    }

    #[test]
    fn background_mean_is_the_mean_outside_the_mask() {
        // One 2×2 image, one channel repeated thrice: values 1, 2, 3, 10; object = pixel 3.
        let values: Vec<f64> = [1.0, 2.0, 3.0, 10.0].repeat(3);
        let x = Tensor::from_vec(values, (1, 3, 2, 2), &Device::Cpu).unwrap();
        let mask = Mask::new(2, 2, vec![false, false, false, true]).unwrap();
        let fill = Replacement::BackgroundMean.images(&x, std::slice::from_ref(&mask), &[0]).unwrap();
        let fill: Vec<f64> = fill.flatten_all().unwrap().to_vec1().unwrap();
        assert!(fill.iter().all(|&v| (v - 2.0).abs() < EXACT), "{fill:?}");
        let full = Mask::new(2, 2, vec![true; 4]).unwrap();
        assert!(matches!(
            Replacement::BackgroundMean.images(&x, &[full], &[0]),
            Err(Error::UndefinedMetric { .. })
        ));
        let constant =
            Replacement::Constant(vec![7.0, 8.0, 9.0]).images(&x, std::slice::from_ref(&mask), &[0]).unwrap();
        assert_eq!(constant.flatten_all().unwrap().to_vec1::<f64>().unwrap()[4], 8.0);
        assert!(Replacement::Constant(vec![1.0]).images(&x, &[mask], &[0]).is_err());
    }

    #[test]
    fn noise_is_seeded_per_scene_and_within_the_channel_range() {
        let (_, x) = setup();
        let masks = vec![Mask::new(8, 8, vec![true; 64]).unwrap(); 2];
        let noise = Replacement::UniformNoise { seed: 1 };
        let a: Vec<f64> =
            noise.images(&x, &masks, &[10, 11]).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f64> =
            noise.images(&x, &masks, &[10, 12]).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a[..192], b[..192]);
        assert_ne!(a[192..], b[192..]);
        let plane: Vec<f64> = x.get(0).unwrap().get(0).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let (low, high) =
            plane.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(a[..64].iter().all(|v| (low..=high).contains(v)));
    }

    #[test]
    fn bad_orders_classes_and_shapes_are_typed_errors() {
        let (vgg, x) = setup();
        let fill = x.zeros_like().unwrap();
        let flipping = PixelFlipping::new(2, 0.5).unwrap();
        let good: Vec<usize> = (0..64).collect();
        let mut repeated = good.clone();
        repeated[1] = 0;
        let run = |classes: &[usize], orders: &[Vec<usize>], fill: &Tensor| {
            flipping.curves(&vgg, &x, fill, classes, orders)
        };
        assert!(matches!(run(&[0, 0], &[good.clone(), repeated], &fill), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(run(&[0], &[good.clone(), good.clone()], &fill), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(
            run(&[0, 9], &[good.clone(), good.clone()], &fill),
            Err(Error::ClassOutOfRange { .. })
        ));
        let small = Tensor::zeros((1, 3, 8, 8), DType::F64, &Device::Cpu).unwrap();
        assert!(matches!(run(&[0, 0], &[good.clone(), good], &small), Err(Error::ShapeMismatch { .. })));
    }
}
