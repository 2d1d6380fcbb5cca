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

use std::io::{Cursor, Read};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::resample::{Region, pillow_bilinear_region};
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

/// Largest image file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Largest decoded image, in bytes of its pixels (the decoder's memory limit).
pub const MAX_DECODED_BYTES: u64 = 512 << 20;

/// An image file's format and size, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// JPEG or PNG.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Checks an image file without decoding its pixels: a regular file of at most
/// [`MAX_FILE_BYTES`], a JPEG or PNG by its content, complete (a JPEG ends its last scan with the
/// end-of-image marker, a PNG has its `IEND` chunk), at least [`MIN_SIDE`] pixels on each side,
/// and at most [`MAX_DECODED_BYTES`] once decoded. Cheap: what a batch checks before any
/// weights are loaded.
pub fn check_image_file(path: &Path) -> Result<ImageHeader> {
    read_checked(path).map(|(_, header)| header)
}

/// Decodes an image file (format from its content) into 8-bit RGB, after the checks of
/// [`check_image_file`].
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let (bytes, header) = read_checked(path)?;
    let bad = |why: String| Error::Image { path: path.to_path_buf(), why };
    let decoder = decoder(&bytes, header.format).map_err(|e| bad(decode_failure(&header, &e)))?;
    let decoded = DynamicImage::from_decoder(decoder).map_err(|e| bad(decode_failure(&header, &e)))?;
    Ok(decoded.into_rgb8())
}

/// The file's bytes and header, after every check of [`check_image_file`].
fn read_checked(path: &Path) -> Result<(Vec<u8>, ImageHeader)> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let bad = |why: String| Error::Image { path: path.to_path_buf(), why };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(bad("it is not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file has {} bytes, more than the limit of {MAX_FILE_BYTES}",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    let format = match image::guess_format(&bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png)) => format,
        _ => {
            return Err(bad(format!(
                "cannot decode it as JPEG or PNG: its content is neither ({} bytes, starting with {:02x?})",
                bytes.len(),
                &bytes[..bytes.len().min(8)]
            )));
        }
    };
    let complete = match format {
        ImageFormat::Jpeg => jpeg_is_complete(&bytes),
        _ => png_is_complete(&bytes),
    };
    if !complete {
        let (name, end) = if format == ImageFormat::Jpeg {
            ("JPEG", "its last scan has no end-of-image marker")
        } else {
            ("PNG", "it has no IEND chunk")
        };
        return Err(bad(format!("the {name} is truncated or corrupt: {end} ({} bytes)", bytes.len())));
    }
    let probe = decoder(&bytes, format).map_err(|e| bad(format!("cannot decode it as {format:?}: {e}")))?;
    let (width, height) = probe.dimensions();
    let decoded_bytes = probe.total_bytes();
    drop(probe);
    let header = ImageHeader { format, width, height };
    if decoded_bytes > MAX_DECODED_BYTES {
        return Err(bad(format!(
            "it is {width}×{height} pixels, {decoded_bytes} bytes decoded, more than the limit of \
             {MAX_DECODED_BYTES} bytes"
        )));
    }
    if width.min(height) < MIN_SIDE {
        return Err(bad(format!("it is {width}×{height} pixels; at least {MIN_SIDE}×{MIN_SIDE} are needed")));
    }
    Ok((bytes, header))
}

/// A decoder of `bytes` in `format`, with [`MAX_DECODED_BYTES`] as its memory limit.
fn decoder(bytes: &[u8], format: ImageFormat) -> image::ImageResult<impl ImageDecoder + '_> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    reader.into_decoder()
}

/// Why decoding failed, with the image's size and the limit when the decoder's limit refused it.
fn decode_failure(header: &ImageHeader, error: &image::ImageError) -> String {
    match error {
        image::ImageError::Limits(_) => format!(
            "it is {}×{} pixels, more than the decoder's limit of {MAX_DECODED_BYTES} bytes allows ({error})",
            header.width, header.height
        ),
        _ => format!("cannot decode it as {:?}: {error}", header.format),
    }
}

/// Whether a JPEG's last scan is followed by its end-of-image marker `FF D9` (a truncated file
/// is not; decoders fill the missing part with grey instead of failing). Inside a scan `FF` is
/// always stuffed as `FF 00`, so the markers are found by their bytes.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, end), (Some(scan), Some(end)) if end > scan)
}

/// Whether a PNG holds its closing `IEND` chunk.
fn png_is_complete(bytes: &[u8]) -> bool {
    bytes.windows(4).rev().any(|w| w == b"IEND")
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
    // Only the kept centre is resampled (the same pixels as resizing all, then cropping).
    let region = Region {
        left: crop_offset(new_width, CROP_SIZE),
        top: crop_offset(new_height, CROP_SIZE),
        width: CROP_SIZE,
        height: CROP_SIZE,
    };
    pillow_bilinear_region(image, new_width, new_height, region)
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
