//! Relevance heatmaps with the sheet's colour law, and side-by-side panels.
//!
//! As `utils.visualize` of the sheet (from the LRP tutorial): relevance is summed over the
//! colour channels, the colour range is symmetric, `[−b, b]` with
//! `b = 10 · (mean |R|³)^{1/3}`, the colours are matplotlib's `seismic` map (256 entries,
//! dark blue at −b, white at 0, dark red at +b) with its RGB scaled by 0.85, values beyond ±b
//! take the end colours, and pixels stay pixels (nearest neighbour, no smoothing).

use candle_core::{DType, Tensor};
use image::{Rgb, RgbImage};

use crate::{Error, Result};

/// Number of entries of matplotlib's colour lookup tables.
const LUT_SIZE: usize = 256;
/// `seismic`'s anchor colours, evenly spaced from 0 to 1 (matplotlib's `_seismic_data`).
const SEISMIC_ANCHORS: [[f64; 3]; 5] =
    [[0.0, 0.0, 0.3], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]];
/// The sheet darkens the colour map: `my_cmap[:, 0:3] *= 0.85`.
const DARKENING: f64 = 0.85;
/// `b = SCALE · (mean |R|³)^{1/3}`.
const SCALE: f64 = 10.0;
/// White space between the images of a panel, in pixels.
const PANEL_GAP: u32 = 8;

/// Relevance of each pixel of one image: the channel sum of an attribution.
#[derive(Debug, Clone, PartialEq)]
pub struct RelevanceMap {
    width: usize,
    height: usize,
    values: Vec<f64>,
}

impl RelevanceMap {
    /// Sums `relevance[batch_index]` (shape `N × C × H × W`) over its channels.
    ///
    /// Non-finite relevance is an error: a NaN would silently paint the map white.
    pub fn from_tensor(relevance: &Tensor, batch_index: usize) -> Result<Self> {
        let (batch, _, height, width) = relevance.dims4()?;
        if batch_index >= batch {
            return Err(Error::InvalidParameter {
                name: "batch_index",
                value: batch_index.to_string(),
                why: format!("the relevance holds {batch} images"),
            });
        }
        let summed = relevance.get(batch_index)?.to_dtype(DType::F64)?.sum(0)?;
        let values: Vec<f64> = summed.flatten_all()?.to_vec1()?;
        Self::from_values(width, height, values)
    }

    /// A map from row-major per-pixel values.
    pub fn from_values(width: usize, height: usize, values: Vec<f64>) -> Result<Self> {
        if values.len() != width * height {
            return Err(Error::InvalidParameter {
                name: "relevance",
                value: format!("{} values", values.len()),
                why: format!("a {width}×{height} map needs {}", width * height),
            });
        }
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "relevance",
                value: values[position].to_string(),
                why: format!("pixel ({}, {}) is not finite", position % width, position / width),
            });
        }
        Ok(Self { width, height, values })
    }

    /// The per-pixel values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Total relevance `Σ R` (for LRP, close to the explained logit).
    pub fn sum(&self) -> f64 {
        self.values.iter().sum()
    }

    // ANCHOR: colour_law
    /// The colour bound `b = 10 · (mean |R|³)^{1/3}` of the sheet.
    pub fn color_bound(&self) -> f64 {
        let mean_cube = self.values.iter().map(|v| v.abs().powi(3)).sum::<f64>() / self.values.len() as f64;
        SCALE * mean_cube.cbrt()
    }

    /// The heatmap: each pixel coloured by `seismic_darkened((R + b) / 2b)`. An all-zero map
    /// (b = 0) is white.
    pub fn to_image(&self) -> RgbImage {
        let bound = self.color_bound();
        let lut = darkened_seismic_lut();
        RgbImage::from_fn(self.width as u32, self.height as u32, |x, y| {
            let value = self.values[y as usize * self.width + x as usize];
            let t = if bound > 0.0 { (value + bound) / (2.0 * bound) } else { 0.5 };
            Rgb(lut[lut_index(t)])
        })
    }
    // ANCHOR_END: colour_law
}

/// matplotlib's lookup: `⌊t · 256⌋` clipped to `0..=255` (t = 1 maps to the last entry).
fn lut_index(t: f64) -> usize {
    (t * LUT_SIZE as f64).floor().clamp(0.0, (LUT_SIZE - 1) as f64) as usize
}

/// The 256 colours of `seismic` with RGB × 0.85, as bytes: entry `i` interpolates the
/// anchors at `i / 255`, and bytes are `⌊255 · c⌋` (matplotlib's `bytes=True`).
fn darkened_seismic_lut() -> Vec<[u8; 3]> {
    let segments = (SEISMIC_ANCHORS.len() - 1) as f64;
    (0..LUT_SIZE)
        .map(|i| {
            let position = i as f64 / (LUT_SIZE - 1) as f64 * segments;
            let k = (position.floor() as usize).min(SEISMIC_ANCHORS.len() - 2);
            let f = position - k as f64;
            let channel = |c: usize| {
                let value = SEISMIC_ANCHORS[k][c] * (1.0 - f) + SEISMIC_ANCHORS[k + 1][c] * f;
                (value * DARKENING * 255.0) as u8
            };
            [channel(0), channel(1), channel(2)]
        })
        .collect()
}

/// Images side by side on white, `PANEL_GAP` pixels apart, top-aligned.
pub fn panel(images: &[&RgbImage]) -> RgbImage {
    let width = images.iter().map(|image| image.width()).sum::<u32>()
        + PANEL_GAP * images.len().saturating_sub(1) as u32;
    let height = images.iter().map(|image| image.height()).max().unwrap_or(0);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut left = 0;
    for image in images {
        image::imageops::replace(&mut canvas, *image, i64::from(left), 0);
        left += image.width() + PANEL_GAP;
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_matches_matplotlib_seismic_times_085() {
        // Every 17th entry of matplotlib 3.10's
        // `ListedColormap(seismic(arange(256)) with [:, :3] *= 0.85)(arange(256), bytes=True)`.
        const MATPLOTLIB: [[u8; 3]; 16] = [
            [0, 0, 65],
            [0, 0, 105],
            [0, 0, 145],
            [0, 0, 186],
            [14, 14, 216],
            [72, 72, 216],
            [130, 130, 216],
            [187, 187, 216],
            [216, 187, 187],
            [216, 130, 130],
            [216, 72, 72],
            [216, 14, 14],
            [195, 0, 0],
            [166, 0, 0],
            [137, 0, 0],
            [108, 0, 0],
        ];
        let lut = darkened_seismic_lut();
        for (k, expected) in MATPLOTLIB.iter().enumerate() {
            assert_eq!(&lut[17 * k], expected, "entry {}", 17 * k);
        }
        assert_eq!(lut[127], [215, 215, 216]);
        assert_eq!(lut[128], [216, 215, 215]);
    }

    #[test]
    fn bound_and_clipping_follow_the_sheet() {
        let map = RelevanceMap::from_values(2, 1, vec![1.0, -1.0]).unwrap();
        assert!((map.color_bound() - 10.0).abs() < 1e-12);
        let big = RelevanceMap::from_values(3, 1, vec![1000.0, -1000.0, 0.0]).unwrap();
        let image = big.to_image();
        let lut = darkened_seismic_lut();
        // ±1000 is within ±b = 10·(2·10⁹/3)^{1/3} ≈ 8736: not clipped, but clearly coloured.
        assert!(image.get_pixel(0, 0).0[0] > image.get_pixel(0, 0).0[2]);
        assert_eq!(image.get_pixel(2, 0).0, lut[lut_index(0.5)]);
        assert_eq!(lut_index(-0.5), 0);
        assert_eq!(lut_index(1.0), 255);
        assert_eq!(lut_index(7.0), 255);
    }

    #[test]
    fn zero_relevance_is_white_not_nan() {
        let map = RelevanceMap::from_values(2, 2, vec![0.0; 4]).unwrap();
        assert_eq!(map.color_bound(), 0.0);
        let pixel = map.to_image().get_pixel(0, 0).0;
        assert_eq!(pixel, [216, 215, 215]);
    }

    #[test]
    fn non_finite_relevance_is_rejected() {
        let error = RelevanceMap::from_values(2, 1, vec![0.0, f64::NAN]).unwrap_err();
        assert!(error.to_string().contains("pixel (1, 0)"), "{error}");
    }

    #[test]
    fn channel_sum_of_a_tensor() {
        let tensor = Tensor::from_vec(
            vec![1f32, 2., 3., 4., 10., 20., 30., 40.],
            (1, 2, 2, 2),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let map = RelevanceMap::from_tensor(&tensor, 0).unwrap();
        assert_eq!(map.values(), &[11.0, 22.0, 33.0, 44.0]);
        assert_eq!(map.sum(), 110.0);
        assert!(RelevanceMap::from_tensor(&tensor, 1).is_err());
    }

    #[test]
    fn panel_places_images_side_by_side() {
        let a = RgbImage::from_pixel(3, 2, Rgb([0, 0, 0]));
        let b = RgbImage::from_pixel(4, 5, Rgb([9, 9, 9]));
        let joined = panel(&[&a, &b]);
        assert_eq!(joined.dimensions(), (3 + PANEL_GAP + 4, 5));
        assert_eq!(joined.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(joined.get_pixel(0, 4).0, [255, 255, 255]);
        assert_eq!(joined.get_pixel(3 + PANEL_GAP, 4).0, [9, 9, 9]);
    }
}
