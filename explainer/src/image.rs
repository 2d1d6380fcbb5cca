//! Loading images and turning them into the network's input, the torchvision way.
//!
//! 1. Decode JPEG or PNG; grayscale, palette and RGBA images are converted to RGB (alpha is
//!    dropped, as PIL's `convert("RGB")` does).
//! 2. Resize so that the shorter side is 256 pixels (the longer side `⌊256 · long / short⌋`)
//!    with Pillow's antialiased bilinear filter, bit for bit ([`crate::resample`]), as
//!    `torchvision.transforms.Resize(256)` does; then cut the centre 224×224 pixels
//!    (`CenterCrop(224)`, offsets rounded half to even as Python's `round`).
//!    An image that already is 224×224 is used as it is: that is what the sheet does with its
//!    `castle.jpg`.
//! 3. Scale to `[0, 1]` (`/255`), normalise per channel with ImageNet's mean and standard
//!    deviation in `f32` (as `ToTensor` + `Normalize`), and lay out as a `1 × 3 × 224 × 224`
//!    tensor in RGB order (the sheet's `X`).
//!
//! The result equals torchvision's preprocessing exactly (tested on `fixtures/scene.png`).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use image::{ImageReader, RgbImage};

use crate::resample::pillow_bilinear;
use crate::{Error, Result};

/// ImageNet channel means (RGB) used by torchvision's classifiers and the sheet.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];
/// Side of the square the network sees.
pub const CROP_SIZE: u32 = 224;
/// Length the shorter side is resized to before the centre crop.
pub const RESIZE_SHORTER: u32 = 256;
/// Images with a side shorter than this are rejected: upscaling them would explain
/// interpolation artefacts, not the picture.
pub const MIN_SIDE: u32 = 32;

/// Decodes an image file (format guessed from its content) into 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let reader = ImageReader::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let reader =
        reader.with_guessed_format().map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let decoded = reader.decode().map_err(|error| Error::Image {
        path: path.to_path_buf(),
        why: format!("cannot decode it as JPEG or PNG ({error})"),
    })?;
    let rgb = decoded.to_rgb8();
    let (width, height) = rgb.dimensions();
    if width.min(height) < MIN_SIDE {
        return Err(Error::Image {
            path: path.to_path_buf(),
            why: format!("it is {width}×{height} pixels; at least {MIN_SIDE}×{MIN_SIDE} are needed"),
        });
    }
    Ok(rgb)
}

// ANCHOR: resize_and_crop
/// The `CROP_SIZE × CROP_SIZE` picture the network sees: resize the shorter side to
/// [`RESIZE_SHORTER`], then centre-crop; an image of exactly the crop size is returned as is.
pub fn resize_and_center_crop(image: &RgbImage) -> RgbImage {
    let (width, height) = image.dimensions();
    if (width, height) == (CROP_SIZE, CROP_SIZE) {
        return image.clone();
    }
    let (new_width, new_height) = resized_dimensions(width, height, RESIZE_SHORTER);
    let resized = pillow_bilinear(image, new_width, new_height);
    let left = crop_offset(new_width, CROP_SIZE);
    let top = crop_offset(new_height, CROP_SIZE);
    image::imageops::crop_imm(&resized, left, top, CROP_SIZE, CROP_SIZE).to_image()
}

/// torchvision's `Resize(shorter)` size rule: the shorter side becomes `shorter`, the longer
/// side `⌊shorter · long / short⌋` (truncated, as torchvision's `int(...)`).
pub fn resized_dimensions(width: u32, height: u32, shorter: u32) -> (u32, u32) {
    let scaled = |long: u32, short: u32| (u64::from(shorter) * u64::from(long) / u64::from(short)) as u32;
    if width <= height { (shorter, scaled(height, width)) } else { (scaled(width, height), shorter) }
}

/// torchvision's `CenterCrop` offset `round((size − crop) / 2)`, with Python's round half to
/// even.
fn crop_offset(size: u32, crop: u32) -> u32 {
    let excess = size.saturating_sub(crop);
    let half = excess / 2;
    if excess % 2 == 1 && half % 2 == 1 { half + 1 } else { half }
}
// ANCHOR_END: resize_and_crop

// ANCHOR: normalise
/// The normalised `1 × 3 × H × W` tensor of an RGB image: `(pixel/255 − mean_c) / std_c`,
/// computed in `f32` as torchvision does, then converted to `dtype`.
pub fn to_input_tensor(image: &RgbImage, device: &Device, dtype: DType) -> Result<Tensor> {
    let (width, height) = image.dimensions();
    let plane = (width * height) as usize;
    let mut values = vec![0f32; 3 * plane];
    for (index, pixel) in image.pixels().enumerate() {
        for channel in 0..3 {
            let scaled = f32::from(pixel.0[channel]) / 255.0;
            values[channel * plane + index] =
                (scaled - IMAGENET_MEAN[channel] as f32) / IMAGENET_STD[channel] as f32;
        }
    }
    let tensor = Tensor::from_vec(values, (1, 3, height as usize, width as usize), device)?;
    Ok(tensor.to_dtype(dtype)?)
}
// ANCHOR_END: normalise

/// An image file as the network's input: the normalised tensor and the cropped picture
/// (to show beside its explanation).
pub fn load_input(path: &Path, device: &Device, dtype: DType) -> Result<(Tensor, RgbImage)> {
    let picture = resize_and_center_crop(&load_rgb(path)?);
    let tensor = to_input_tensor(&picture, device, dtype)?;
    Ok((tensor, picture))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_aspect_and_truncates_like_torchvision() {
        assert_eq!(resized_dimensions(320, 256, 256), (320, 256));
        assert_eq!(resized_dimensions(500, 375, 256), (341, 256)); // 256·500/375 = 341.33
        assert_eq!(resized_dimensions(375, 500, 256), (256, 341));
        assert_eq!(resized_dimensions(100, 100, 256), (256, 256));
    }

    #[test]
    fn crop_offset_rounds_half_to_even() {
        assert_eq!(crop_offset(256, 224), 16);
        assert_eq!(crop_offset(227, 224), 2); // round(1.5) = 2
        assert_eq!(crop_offset(225, 224), 0); // round(0.5) = 0
        assert_eq!(crop_offset(229, 224), 2); // round(2.5) = 2
    }

    #[test]
    fn a_224_image_is_fed_unchanged() {
        let image = RgbImage::from_fn(224, 224, |x, y| image::Rgb([x as u8, y as u8, 7]));
        assert_eq!(resize_and_center_crop(&image), image);
    }

    #[test]
    fn normalisation_matches_the_sheet() {
        let image = RgbImage::from_pixel(2, 1, image::Rgb([0, 255, 128]));
        let tensor = to_input_tensor(&image, &Device::Cpu, DType::F32).unwrap();
        assert_eq!(tensor.dims(), &[1, 3, 1, 2]);
        let values: Vec<f32> = tensor.flatten_all().unwrap().to_vec1().unwrap();
        let expected: [f32; 3] =
            [(0.0 - 0.485) / 0.229, (1.0 - 0.456) / 0.224, (128.0 / 255.0 - 0.406) / 0.225];
        for (channel, want) in expected.iter().enumerate() {
            assert_eq!(values[2 * channel], *want);
            assert_eq!(values[2 * channel + 1], *want);
        }
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.png");
        assert!(matches!(load_rgb(&missing), Err(Error::Io { .. })));

        let garbage = dir.path().join("garbage.jpg");
        std::fs::write(&garbage, b"this is not an image").unwrap();
        assert!(matches!(load_rgb(&garbage), Err(Error::Image { .. })));

        let tiny = dir.path().join("tiny.png");
        RgbImage::new(8, 64).save(&tiny).unwrap();
        let error = load_rgb(&tiny).unwrap_err();
        assert!(error.to_string().contains("8×64"), "{error}");
    }

    #[test]
    fn grayscale_and_rgba_become_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let gray = dir.path().join("gray.png");
        image::GrayImage::from_pixel(40, 40, image::Luma([90])).save(&gray).unwrap();
        assert_eq!(load_rgb(&gray).unwrap().get_pixel(3, 3).0, [90, 90, 90]);
        let rgba = dir.path().join("rgba.png");
        image::RgbaImage::from_pixel(40, 40, image::Rgba([1, 2, 3, 0])).save(&rgba).unwrap();
        assert_eq!(load_rgb(&rgba).unwrap().get_pixel(3, 3).0, [1, 2, 3]);
    }
}
