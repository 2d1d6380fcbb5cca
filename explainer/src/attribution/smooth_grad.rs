//! SmoothGrad (Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise"): the
//! gradient averaged over noisy copies of the input, and its ×Input variant.

use candle_core::{DType, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::gradient::Gradient;
use super::{Attribution, Attributor, Explain, Prepared};
use crate::error::{Error, Result};
use crate::model::Network;

/// SmoothGrad, `R = 1/S · Σ_s ∂f_c/∂x (x + ε_s)` with `ε_s ~ N(0, σ²)` and
/// `σ = level · (max x − min x)` per image (the noise level as a fraction of the input's range,
/// as Smilkov et al. give it); with [`SmoothGrad::times_input`],
/// `R = 1/S · Σ_s (x + ε_s) ⊙ ∂f_c/∂x (x + ε_s)`, Captum's `NoiseTunnel(InputXGradient)`.
///
/// The noise of an image is drawn from a ChaCha8 generator seeded with `seed` and a hash of
/// the image's values: the same image gets the same noise in any batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothGrad {
    level: f64,
    samples: usize,
    seed: u64,
    times_input: bool,
}

impl SmoothGrad {
    /// `samples ≥ 1` noisy copies with noise level `level ≥ 0` (finite), drawn from `seed`.
    pub fn new(level: f64, samples: usize, seed: u64) -> Result<Self> {
        if !(level.is_finite() && level >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "noise level",
                value: level.to_string(),
                why: "the noise's standard deviation as a share of the input range must be finite and ≥ 0"
                    .into(),
            });
        }
        if samples == 0 {
            return Err(Error::InvalidParameter {
                name: "samples",
                value: "0".into(),
                why: "SmoothGrad averages over at least one noisy copy".into(),
            });
        }
        Ok(Self { level, samples, seed, times_input: false })
    }

    /// The ×Input variant: each noisy copy's gradient times that copy.
    pub fn times_input(mut self) -> Self {
        self.times_input = true;
        self
    }

    /// Whether this is the ×Input variant.
    pub fn is_times_input(&self) -> bool {
        self.times_input
    }

    /// The noise level, a share of the input range.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The number of noisy copies.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Made ready for `model`.
    pub fn prepare<'m>(&self, model: &'m Network) -> Result<PreparedSmoothGrad<'m>> {
        Ok(PreparedSmoothGrad { gradient: Gradient.prepare(model)?, method: *self })
    }

    /// The noise for `input` (`(N, C, H, W)`): `(N·S, C, H, W)` in `input`'s dtype, the `S`
    /// copies of image `n` at `n·S .. (n+1)·S`, each value `σ_n · z`, `z` standard normal.
    pub fn noise(&self, input: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = input.dims4()?;
        let values: Vec<f64> = input.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let len = c * h * w;
        let mut noise = Vec::with_capacity(n * self.samples * len);
        for image in values.chunks_exact(len) {
            let low = image.iter().copied().fold(f64::INFINITY, f64::min);
            let high = image.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sigma = self.level * (high - low);
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(hash(image));
            for _ in 0..self.samples * len {
                noise.push(sigma * standard_normal(&mut rng));
            }
        }
        Ok(Tensor::from_vec(noise, (n * self.samples, c, h, w), input.device())?.to_dtype(input.dtype())?)
    }
}

impl super::AnyAttributor for SmoothGrad {
    fn prepare_any<'m>(&self, model: &'m Network) -> Result<Box<dyn Explain + 'm>> {
        Ok(Box::new(self.prepare(model)?))
    }
}

/// [`SmoothGrad`] made ready for one model.
#[derive(Debug)]
pub struct PreparedSmoothGrad<'m> {
    gradient: Prepared<'m>,
    method: SmoothGrad,
}

impl PreparedSmoothGrad<'_> {
    /// The logits of `input` and SmoothGrad's relevance for `class`, with the noise of
    /// [`SmoothGrad::noise`].
    pub fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        let noise = self.method.noise(input)?;
        self.attribute_with_noise(input, class, &noise)
    }

    /// The same with given noise, `(N·S, C, H, W)` laid out as [`SmoothGrad::noise`] (for
    /// comparisons with other libraries' noise).
    pub fn attribute_with_noise(&self, input: &Tensor, class: usize, noise: &Tensor) -> Result<Attribution> {
        let (n, c, h, w) = input.dims4()?;
        let s = self.method.samples;
        if noise.dims() != [n * s, c, h, w] {
            return Err(Error::ShapeMismatch {
                what: "SmoothGrad noise",
                expected: format!("[{}, {c}, {h}, {w}] ({s} copies of each image)", n * s),
                found: format!("{:?}", noise.dims()),
            });
        }
        let logits = self.gradient.forward(input)?;
        let repeated = input.unsqueeze(1)?.repeat((1, s, 1, 1, 1))?.reshape((n * s, c, h, w))?;
        let noisy = repeated.add(noise)?;
        let gradient = self.gradient.attribute(&noisy, class)?.relevance;
        let per_copy = if self.method.times_input { noisy.mul(&gradient)? } else { gradient };
        let relevance = (per_copy.reshape((n, s, c, h, w))?.sum(1)? / s as f64)?;
        Ok(Attribution { logits, relevance })
    }
}

impl Explain for PreparedSmoothGrad<'_> {
    fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        PreparedSmoothGrad::attribute(self, input, class)
    }
}

/// A 64-bit hash (FNV-1a over the bits) of an image's values: its noise stream.
fn hash(values: &[f64]) -> u64 {
    values.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| (h ^ v.to_bits()).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random();
    let v: f64 = rng.random();
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::model::{Vgg, VggConfig};

    fn setup() -> (Vgg, Tensor) {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (2, 3, 8, 8), &Device::Cpu).unwrap();
        (vgg, x)
    }

    #[test]
    fn zero_noise_is_the_gradient_and_times_input_is_gradient_times_input() {
        let (vgg, x) = setup();
        let plain = Gradient.attribute(&vgg, &x, 2).unwrap().relevance;
        let smooth = SmoothGrad::new(0.0, 3, 1).unwrap().prepare(&vgg).unwrap().attribute(&x, 2).unwrap();
        let diff: f64 =
            (smooth.relevance - &plain).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(diff < 1e-12, "{diff}");
        let times = SmoothGrad::new(0.0, 2, 1).unwrap().times_input().prepare(&vgg).unwrap();
        let gxi = (plain * &x).unwrap();
        let r = times.attribute(&x, 2).unwrap().relevance;
        let diff: f64 = (r - gxi).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(diff < 1e-12, "{diff}");
    }

    #[test]
    fn noise_has_the_level_of_the_range_and_does_not_depend_on_the_batch() {
        let (_, x) = setup();
        let method = SmoothGrad::new(0.2, 50, 7).unwrap();
        let noise = method.noise(&x).unwrap();
        assert_eq!(noise.dims(), &[100, 3, 8, 8]);
        let first: Vec<f64> = x.get(0).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let range = first.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - first.iter().copied().fold(f64::INFINITY, f64::min);
        let values: Vec<f64> = noise.narrow(0, 0, 50).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        // 9600 draws: the sample sd is within 3 % of σ with overwhelming probability.
        assert!((sd / (0.2 * range) - 1.0).abs() < 0.03, "sd {sd}, σ {}", 0.2 * range);
        assert!(mean.abs() < 0.05 * range, "{mean}");
        let alone = method.noise(&x.narrow(0, 1, 1).unwrap()).unwrap();
        let batched: Vec<f64> = noise.narrow(0, 50, 50).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(alone.flatten_all().unwrap().to_vec1::<f64>().unwrap(), batched);
        assert_ne!(
            SmoothGrad::new(0.2, 50, 8).unwrap().noise(&x).unwrap().to_vec1_flat(),
            noise.to_vec1_flat()
        );
    }

    #[test]
    fn invalid_parameters_and_noise_are_errors() {
        assert!(SmoothGrad::new(-0.1, 5, 0).is_err());
        assert!(SmoothGrad::new(f64::NAN, 5, 0).is_err());
        assert!(SmoothGrad::new(0.1, 0, 0).is_err());
        let (vgg, x) = setup();
        let prepared = SmoothGrad::new(0.1, 2, 0).unwrap().prepare(&vgg).unwrap();
        let wrong = Tensor::zeros((3, 3, 8, 8), DType::F64, &Device::Cpu).unwrap();
        assert!(matches!(prepared.attribute_with_noise(&x, 0, &wrong), Err(Error::ShapeMismatch { .. })));
    }

    trait Flat {
        fn to_vec1_flat(&self) -> Vec<f64>;
    }
    impl Flat for Tensor {
        fn to_vec1_flat(&self) -> Vec<f64> {
            self.flatten_all().unwrap().to_vec1().unwrap()
        }
    }
}
