//! Pillow's bilinear resize, reproduced bit for bit, so that our input equals torchvision's.
//!
//! `torchvision.transforms.Resize` on a PIL image calls `Image.resize(size, BILINEAR)`.
//! Pillow (`libImaging/Resample.c`) resizes in two separable passes, horizontal first, each
//! rounded to 8 bits. In a pass from `n` to `m` samples, output `i` is centred at
//! `c = (i + ½)·n/m` in input coordinates; with the filter scale `s = max(n/m, 1)` (the
//! triangle kernel is stretched when shrinking — that is the antialiasing), it reads inputs
//! `j ∈ [⌊c − s + ½⌋, ⌊c + s + ½⌋)` (clipped to the image) with weights
//! `t_j = max(0, 1 − |j − c + ½| / s)`, normalised to sum 1 and turned into 22-bit fixed
//! point `k_j = ⌊2²² t_j + ½⌋`; the output is `clamp((2²¹ + Σ_j u_j k_j) >> 22, 0, 255)`.

use image::RgbImage;

/// Fixed-point precision of Pillow's 8-bit resampling (`PRECISION_BITS = 32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;

/// The input range and fixed-point weights of one output sample.
struct Taps {
    first: usize,
    weights: Vec<i64>,
}

// ANCHOR: pillow_taps
/// Pillow's taps for outputs `outputs` of resampling `input` samples to `output` samples (each
/// output's taps depend on its index only, so a range of them is exact).
fn taps(input: usize, output: usize, outputs: std::ops::Range<usize>) -> Vec<Taps> {
    let scale = input as f64 / output as f64;
    let filter_scale = scale.max(1.0);
    let inverse = 1.0 / filter_scale;
    outputs
        .map(|i| {
            let center = (i as f64 + 0.5) * scale;
            // `as i64` truncates toward zero, as C's `(int)` does.
            let first = ((center - filter_scale + 0.5) as i64).max(0) as usize;
            let end = ((center + filter_scale + 0.5) as i64).min(input as i64) as usize;
            let raw: Vec<f64> =
                (first..end).map(|j| (1.0 - ((j as f64 - center + 0.5) * inverse).abs()).max(0.0)).collect();
            let total: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|t| {
                    let normalised = if total != 0.0 { t / total } else { *t };
                    (normalised * f64::from(1u32 << PRECISION_BITS) + 0.5) as i64
                })
                .collect();
            Taps { first, weights }
        })
        .collect()
}

/// One 8-bit sample from the inputs `sample(j)` and the fixed-point taps.
fn apply(taps: &Taps, sample: impl Fn(usize) -> u8) -> u8 {
    let mut accumulator: i64 = 1 << (PRECISION_BITS - 1);
    for (offset, weight) in taps.weights.iter().enumerate() {
        accumulator += i64::from(sample(taps.first + offset)) * weight;
    }
    (accumulator >> PRECISION_BITS).clamp(0, 255) as u8
}
// ANCHOR_END: pillow_taps

/// `image` resized to `width × height` exactly as Pillow's `Image.resize(.., BILINEAR)`.
/// A pass whose size does not change is skipped, as in Pillow.
pub fn pillow_bilinear(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    pillow_bilinear_region(image, width, height, Region { left: 0, top: 0, width, height })
}

/// A rectangle of an image: its top-left corner and size, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First column.
    pub left: u32,
    /// First row.
    pub top: u32,
    /// Number of columns.
    pub width: u32,
    /// Number of rows.
    pub height: u32,
}

/// `region` of [`pillow_bilinear`]`(image, width, height)`, computed without the rest: only
/// the region's outputs are resampled, from only the input rows they read. Memory and time
/// scale with the region and the input, never with the full resized image (a 1,000,000×32
/// image resized to 8,000,000×256 and cropped to 224×224 takes kilobytes, not gigabytes).
/// The region is clipped to the resized image.
pub fn pillow_bilinear_region(image: &RgbImage, width: u32, height: u32, region: Region) -> RgbImage {
    let (in_width, in_height) = image.dimensions();
    let columns =
        region.left.min(width) as usize..region.left.saturating_add(region.width).min(width) as usize;
    let rows = region.top.min(height) as usize..region.top.saturating_add(region.height).min(height) as usize;
    let (out_width, out_height) = (columns.len() as u32, rows.len() as u32);
    // The vertical taps of the kept rows, and the input rows they read.
    let row_taps = (height != in_height).then(|| taps(in_height as usize, height as usize, rows.clone()));
    let needed = match &row_taps {
        Some(taps) => {
            let first = taps.iter().map(|t| t.first).min().unwrap_or(0);
            let end = taps.iter().map(|t| t.first + t.weights.len()).max().unwrap_or(first);
            first..end
        }
        None => rows.clone(),
    };
    // The horizontal pass, over the needed rows only.
    let first_row = needed.start as u32;
    let horizontal = if width == in_width {
        RgbImage::from_fn(out_width, needed.len() as u32, |x, y| {
            *image.get_pixel(columns.start as u32 + x, first_row + y)
        })
    } else {
        let column_taps = taps(in_width as usize, width as usize, columns.clone());
        RgbImage::from_fn(out_width, needed.len() as u32, |x, y| {
            let taps = &column_taps[x as usize];
            image::Rgb(std::array::from_fn(|c| {
                apply(taps, |j| image.get_pixel(j as u32, first_row + y).0[c])
            }))
        })
    };
    let Some(row_taps) = row_taps else { return horizontal };
    RgbImage::from_fn(out_width, out_height, |x, y| {
        let taps = &row_taps[y as usize];
        image::Rgb(std::array::from_fn(|c| {
            apply(taps, |j| horizontal.get_pixel(x, j as u32 - first_row).0[c])
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_each_output_sum_to_one_in_fixed_point() {
        for (input, output) in [(400, 341), (300, 256), (100, 256), (7, 3)] {
            for tap in taps(input, output, 0..output) {
                let sum: i64 = tap.weights.iter().sum();
                assert!((sum - (1 << PRECISION_BITS)).abs() <= tap.weights.len() as i64, "{input}→{output}");
            }
        }
    }

    #[test]
    fn a_constant_image_stays_constant() {
        let image = RgbImage::from_pixel(50, 30, image::Rgb([17, 200, 255]));
        let resized = pillow_bilinear(&image, 23, 71);
        assert!(resized.pixels().all(|p| p.0 == [17, 200, 255]));
    }

    #[test]
    fn a_region_equals_the_same_pixels_of_the_full_resize() {
        let image =
            RgbImage::from_fn(37, 23, |x, y| image::Rgb([(x * 7) as u8, (y * 11) as u8, (x * y) as u8]));
        for (width, height) in [(80, 50), (20, 11), (37, 60), (90, 23)] {
            let full = pillow_bilinear(&image, width, height);
            for region in [
                Region { left: 3, top: 2, width: 10, height: 7 },
                Region { left: 0, top: 0, width, height },
                Region { left: width - 4, top: height - 3, width: 4, height: 3 },
            ] {
                let part = pillow_bilinear_region(&image, width, height, region);
                let expected =
                    image::imageops::crop_imm(&full, region.left, region.top, region.width, region.height)
                        .to_image();
                assert_eq!(part, expected, "{width}×{height}, {region:?}");
            }
        }
    }

    #[test]
    fn same_size_is_the_identity() {
        let image = RgbImage::from_fn(9, 5, |x, y| image::Rgb([x as u8, y as u8, (x * y) as u8]));
        assert_eq!(pillow_bilinear(&image, 9, 5), image);
    }
}
