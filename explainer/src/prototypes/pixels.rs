//! Images as the vectors prototypes live in: pixel values in `[0, 1]`, channel-major
//! (`3 × H × W`, as the network's input tensor is laid out).

use image::RgbImage;
use nalgebra::{DMatrix, DVector};

use crate::scenes::generate_scenes;

/// An RGB image's values in `[0, 1]`, channel-major.
pub fn channel_major(rgb: &RgbImage) -> DVector<f64> {
    let plane = (rgb.width() * rgb.height()) as usize;
    let mut x = DVector::zeros(3 * plane);
    for (i, pixel) in rgb.pixels().enumerate() {
        for c in 0..3 {
            x[c * plane + i] = f64::from(pixel[c]) / 255.0;
        }
    }
    x
}

/// The images as rows of a matrix (all must have the same size).
pub fn rows(images: &[DVector<f64>]) -> DMatrix<f64> {
    let width = images.first().map_or(0, DVector::len);
    DMatrix::from_fn(images.len(), width, |i, j| images[i][j])
}

/// The scenes `first_seed..first_seed + count`, one row of pixel values each.
pub fn scene_pixels(first_seed: u64, count: usize) -> DMatrix<f64> {
    let scenes = generate_scenes(first_seed, count);
    rows(&scenes.iter().map(|s| channel_major(&s.image)).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_come_first() {
        let mut rgb = RgbImage::new(2, 1);
        rgb.put_pixel(0, 0, image::Rgb([255, 0, 51]));
        rgb.put_pixel(1, 0, image::Rgb([0, 102, 0]));
        let x = channel_major(&rgb);
        assert_eq!(x.as_slice(), &[1.0, 0.0, 0.0, 0.4, 0.2, 0.0]);
        let m = rows(&[x.clone(), x]);
        assert_eq!(m.shape(), (2, 6));
    }
}
