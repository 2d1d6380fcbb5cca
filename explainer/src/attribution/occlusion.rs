//! Occlusion (Zeiler & Fergus 2014, "Visualizing and understanding convolutional networks"):
//! slide a patch of a constant over the image and record how much the explained logit falls.

use candle_core::{DType, Tensor};

use super::gradient::Gradient;
use super::{Attribution, Attributor, Explain, Prepared};
use crate::error::{Error, Result};
use crate::model::Network;

/// Most occluded images run through the model at once.
const IMAGES_PER_PASS: usize = 256;

/// Occlusion as Captum's `Occlusion` with a window over all channels: a `patch × patch`
/// square, moved by `stride` pixels, is set to `fill` (all channels) at the positions
/// `0, s, 2s, …, ⌈(L − patch)/s⌉·s` of each axis of length `L` (the last window may stick out
/// and is cut at the edge). Each value's relevance is the mean, over the windows that cover
/// it, of `f_c(x) − f_c(x with the window filled)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occlusion {
    patch: usize,
    stride: usize,
    fill: f64,
}

impl Occlusion {
    /// A `patch`-pixel square moved by `1 ≤ stride ≤ patch` (so every pixel is covered),
    /// filled with the finite value `fill` (in the model's input space).
    pub fn new(patch: usize, stride: usize, fill: f64) -> Result<Self> {
        if patch == 0 || stride == 0 || stride > patch {
            return Err(Error::InvalidParameter {
                name: "occlusion patch and stride",
                value: format!("patch {patch}, stride {stride}"),
                why: "need 1 ≤ stride ≤ patch (a larger stride leaves pixels that no window covers)".into(),
            });
        }
        if !fill.is_finite() {
            return Err(Error::InvalidParameter {
                name: "occlusion fill",
                value: fill.to_string(),
                why: "the fill value must be finite".into(),
            });
        }
        Ok(Self { patch, stride, fill })
    }

    /// Made ready for `model`.
    pub fn prepare<'m>(&self, model: &'m Network) -> Result<PreparedOcclusion<'m>> {
        Ok(PreparedOcclusion { network: Gradient.prepare(model)?, method: *self })
    }

    /// The window starts along an axis of `length` pixels.
    fn starts(&self, length: usize) -> Result<Vec<usize>> {
        if self.patch > length {
            return Err(Error::InvalidParameter {
                name: "occlusion patch",
                value: self.patch.to_string(),
                why: format!("larger than the image ({length} pixels)"),
            });
        }
        let shifts = (length - self.patch).div_ceil(self.stride) + 1;
        Ok((0..shifts).map(|i| i * self.stride).collect())
    }
}

impl super::AnyAttributor for Occlusion {
    fn prepare_any<'m>(&self, model: &'m Network) -> Result<Box<dyn Explain + 'm>> {
        Ok(Box::new(self.prepare(model)?))
    }
}

/// [`Occlusion`] made ready for one model.
#[derive(Debug)]
pub struct PreparedOcclusion<'m> {
    network: Prepared<'m>,
    method: Occlusion,
}

impl PreparedOcclusion<'_> {
    /// The logits and the occlusion relevance for `class` of each image of `input`.
    pub fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        let model = self.network.model();
        model.check_input(input)?;
        if class >= model.classes() {
            return Err(Error::ClassOutOfRange { index: class, classes: model.classes() });
        }
        let (n, c, h, w) = input.dims4()?;
        let (rows, columns) = (self.method.starts(h)?, self.method.starts(w)?);
        let windows: Vec<(usize, usize)> =
            rows.iter().flat_map(|&y| columns.iter().map(move |&x| (y, x))).collect();
        let patch = self.method.patch;
        let logits = self.network.forward(input)?;
        let clean: Vec<f64> = logits.to_dtype(DType::F64)?.narrow(1, class, 1)?.flatten_all()?.to_vec1()?;
        let values: Vec<f64> = input.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let len = c * h * w;

        // Every (image, window) pair in order, scored in passes of IMAGES_PER_PASS.
        let pairs: Vec<(usize, usize)> =
            (0..n).flat_map(|i| (0..windows.len()).map(move |k| (i, k))).collect();
        let mut drops = vec![0.0; pairs.len()];
        for (chunk_index, chunk) in pairs.chunks(IMAGES_PER_PASS).enumerate() {
            let mut batch = Vec::with_capacity(chunk.len() * len);
            for &(image, window) in chunk {
                let start = batch.len();
                batch.extend_from_slice(&values[image * len..(image + 1) * len]);
                let (y0, x0) = windows[window];
                for channel in 0..c {
                    for y in y0..(y0 + patch).min(h) {
                        let row = start + channel * h * w + y * w;
                        batch[row + x0..row + (x0 + patch).min(w)].fill(self.method.fill);
                    }
                }
            }
            let tensor =
                Tensor::from_vec(batch, (chunk.len(), c, h, w), input.device())?.to_dtype(input.dtype())?;
            let occluded: Vec<f64> = self
                .network
                .forward(&tensor)?
                .to_dtype(DType::F64)?
                .narrow(1, class, 1)?
                .flatten_all()?
                .to_vec1()?;
            for (j, (&(image, _), score)) in chunk.iter().zip(&occluded).enumerate() {
                drops[chunk_index * IMAGES_PER_PASS + j] = clean[image] - score;
            }
        }

        let mut relevance = vec![0.0; n * len];
        let mut count = vec![0.0; h * w];
        for &(y0, x0) in &windows {
            for y in y0..(y0 + patch).min(h) {
                for x in x0..(x0 + patch).min(w) {
                    count[y * w + x] += 1.0;
                }
            }
        }
        for (&(image, window), drop) in pairs.iter().zip(&drops) {
            let (y0, x0) = windows[window];
            for y in y0..(y0 + patch).min(h) {
                for x in x0..(x0 + patch).min(w) {
                    relevance[image * len + y * w + x] += drop / count[y * w + x];
                }
            }
        }
        // The window spans every channel: each channel gets the pixel's value.
        for image in relevance.chunks_exact_mut(len) {
            let (first, rest) = image.split_at_mut(h * w);
            for plane in rest.chunks_exact_mut(h * w) {
                plane.copy_from_slice(first);
            }
        }
        let relevance = Tensor::from_vec(relevance, (n, c, h, w), input.device())?.to_dtype(input.dtype())?;
        Ok(Attribution { logits, relevance })
    }
}

impl Explain for PreparedOcclusion<'_> {
    fn attribute(&self, input: &Tensor, class: usize) -> Result<Attribution> {
        PreparedOcclusion::attribute(self, input, class)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::model::{Vgg, VggConfig};

    #[test]
    fn one_window_per_image_is_the_drop_of_filling_it_all() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (2, 3, 8, 8), &Device::Cpu).unwrap();
        let r = Occlusion::new(8, 8, 0.5).unwrap().prepare(&vgg).unwrap().attribute(&x, 1).unwrap();
        let filled = vgg.forward(&Tensor::full(0.5f64, (2, 3, 8, 8), &Device::Cpu).unwrap()).unwrap();
        let logits: Vec<Vec<f64>> = r.logits.to_vec2().unwrap();
        let filled: Vec<Vec<f64>> = filled.to_vec2().unwrap();
        let values: Vec<f64> = r.relevance.flatten_all().unwrap().to_vec1().unwrap();
        for image in 0..2 {
            let drop = logits[image][1] - filled[image][1];
            assert!(values[image * 192..(image + 1) * 192].iter().all(|v| (v - drop).abs() < 1e-12));
        }
    }

    #[test]
    fn windows_cover_every_pixel_and_stick_out_at_the_end() {
        let o = Occlusion::new(3, 2, 0.0).unwrap();
        assert_eq!(o.starts(8).unwrap(), vec![0, 2, 4, 6]);
        assert_eq!(o.starts(3).unwrap(), vec![0]);
        assert!(o.starts(2).is_err());
        assert!(Occlusion::new(2, 3, 0.0).is_err());
        assert!(Occlusion::new(0, 0, 0.0).is_err());
        assert!(Occlusion::new(2, 1, f64::NAN).is_err());
    }

    #[test]
    fn a_single_pixel_window_is_the_pixels_own_drop() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu).unwrap();
        let r = Occlusion::new(1, 1, 0.0).unwrap().prepare(&vgg).unwrap().attribute(&x, 2).unwrap();
        let mut v: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
        for c in 0..3 {
            v[c * 64 + 8 * 3 + 5] = 0.0;
        }
        let by_hand = vgg.forward(&Tensor::from_vec(v, (1, 3, 8, 8), &Device::Cpu).unwrap()).unwrap();
        let logit: Vec<Vec<f64>> = r.logits.to_vec2().unwrap();
        let expected = logit[0][2] - by_hand.to_vec2::<f64>().unwrap()[0][2];
        let got: Vec<f64> = r.relevance.flatten_all().unwrap().to_vec1().unwrap();
        for c in 0..3 {
            assert!((got[c * 64 + 29] - expected).abs() < 1e-12);
        }
    }
}
