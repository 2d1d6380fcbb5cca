//! Reference inputs `x̄` for path and perturbation methods.

use candle_core::{DType, Tensor};

use crate::error::{Error, Result};

/// The reference input `x̄` of Integrated Gradients: where the path to the input starts.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Zeros in the model's (normalised) input space: for ImageNet normalisation, the mean
    /// colour.
    Zeros,
    /// The input blurred by a Gaussian of standard deviation `sigma` pixels (per channel,
    /// separable, edges repeated), which keeps the colours and removes the shapes.
    Blurred {
        /// The blur's standard deviation in pixels, > 0.
        sigma: f64,
    },
    /// One given image `(C, H, W)` for every input (e.g. the mean scene).
    Image(Tensor),
}

impl Baseline {
    /// A Gaussian blur of `sigma > 0` pixels.
    pub fn blurred(sigma: f64) -> Result<Self> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::InvalidParameter {
                name: "blur sigma",
                value: sigma.to_string(),
                why: "the blur's standard deviation must be a positive number of pixels".into(),
            });
        }
        Ok(Self::Blurred { sigma })
    }

    /// The baseline of each image of `input` (`(N, C, H, W)`): same shape and dtype.
    pub fn images(&self, input: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = input.dims4()?;
        match self {
            Self::Zeros => Ok(input.zeros_like()?),
            Self::Image(image) => {
                if image.dims() != [c, h, w] {
                    return Err(Error::ShapeMismatch {
                        what: "baseline image",
                        expected: format!("[{c}, {h}, {w}] (one input image)"),
                        found: format!("{:?}", image.dims()),
                    });
                }
                Ok(image.to_dtype(input.dtype())?.unsqueeze(0)?.repeat((n, 1, 1, 1))?)
            }
            Self::Blurred { sigma } => {
                let values: Vec<f64> = input.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
                let kernel = gaussian_kernel(*sigma);
                let mut out = Vec::with_capacity(values.len());
                for plane in values.chunks_exact(h * w) {
                    out.extend(blur_plane(plane, w, h, &kernel));
                }
                Ok(Tensor::from_vec(out, (n, c, h, w), input.device())?.to_dtype(input.dtype())?)
            }
        }
    }
}

/// The normalised weights `exp(−k²/2σ²)` for `k = −r..=r`, `r = ⌈3σ⌉`.
fn gaussian_kernel(sigma: f64) -> Vec<f64> {
    let radius = (3.0 * sigma).ceil() as isize;
    let raw: Vec<f64> = (-radius..=radius).map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|v| v / total).collect()
}

/// One plane blurred along rows, then columns, indices clamped to the edge.
fn blur_plane(plane: &[f64], width: usize, height: usize, kernel: &[f64]) -> Vec<f64> {
    let radius = (kernel.len() / 2) as isize;
    let pass = |source: &[f64], along_rows: bool| -> Vec<f64> {
        let mut out = vec![0.0; source.len()];
        for y in 0..height {
            for x in 0..width {
                out[y * width + x] = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, weight)| {
                        let offset = k as isize - radius;
                        let (sx, sy) = if along_rows {
                            ((x as isize + offset).clamp(0, width as isize - 1) as usize, y)
                        } else {
                            (x, (y as isize + offset).clamp(0, height as isize - 1) as usize)
                        };
                        weight * source[sy * width + sx]
                    })
                    .sum();
            }
        }
        out
    };
    pass(&pass(plane, true), false)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn blur_keeps_constants_and_the_mean_of_a_periodic_pattern_and_smooths() {
        let constant = Tensor::full(0.7f64, (1, 2, 6, 5), &Device::Cpu).unwrap();
        let blurred: Vec<f64> = Baseline::blurred(1.5)
            .unwrap()
            .images(&constant)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(blurred.iter().all(|v| (v - 0.7).abs() < 1e-15));
        // A single bright pixel in the middle spreads into a symmetric bump that sums to 1.
        let mut v = vec![0.0; 81];
        v[40] = 1.0;
        let spike = Tensor::from_vec(v, (1, 1, 9, 9), &Device::Cpu).unwrap();
        let out: Vec<f64> =
            Baseline::blurred(1.0).unwrap().images(&spike).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(out[40] < 0.2 && out[40] > out[41] && (out[39] - out[41]).abs() < 1e-15);
        assert!((out[31] - out[41]).abs() < 1e-15);
        assert!(Baseline::blurred(0.0).is_err());
    }

    #[test]
    fn zeros_and_one_image_for_all() {
        let x = Tensor::randn(0f64, 1.0, (2, 3, 4, 4), &Device::Cpu).unwrap();
        let zeros = Baseline::Zeros.images(&x).unwrap();
        assert_eq!(zeros.sum_all().unwrap().to_scalar::<f64>().unwrap(), 0.0);
        let image = Tensor::randn(0f64, 1.0, (3, 4, 4), &Device::Cpu).unwrap();
        let both = Baseline::Image(image.clone()).images(&x).unwrap();
        assert_eq!(both.get(1).unwrap().to_vec3::<f64>().unwrap(), image.to_vec3::<f64>().unwrap());
        let wrong = Tensor::zeros((3, 4, 5), DType::F64, &Device::Cpu).unwrap();
        assert!(matches!(Baseline::Image(wrong).images(&x), Err(Error::ShapeMismatch { .. })));
    }
}
