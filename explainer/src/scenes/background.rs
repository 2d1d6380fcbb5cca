//! The clutter behind the object: a smooth colour gradient with soft colour blobs, thin
//! distractor strokes (lines and arcs, never objects) and per-pixel noise.
//!
//! Colours are in `[0, 255]` as `f32` until the scene is quantised to 8 bits.

use std::f32::consts::TAU;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// An RGB image under construction: `size²` pixels, row-major, channels in `[0, 255]`.
pub(crate) type Canvas = Vec<[f32; 3]>;

/// Range of the channels of the gradient's first colour.
const BASE_CHANNEL: (f32, f32) = (25.0, 230.0);
/// Largest change of a channel across the gradient.
const GRADIENT_SPREAD: f32 = 70.0;
/// At most this many soft blobs.
const MAX_BLOBS: usize = 2;
/// Largest change of a channel a blob makes at its centre.
const BLOB_STRENGTH: f32 = 50.0;
/// Range of a blob's standard deviation, in pixels.
const BLOB_SIGMA: (f32, f32) = (5.0, 14.0);
/// Number of distractor strokes: `MIN..=MAX`.
const STROKES: (usize, usize) = (1, 4);
/// Range of a stroke's width in pixels (the thinnest object part is about 3.6 pixels wide).
const STROKE_WIDTH: (f32, f32) = (0.8, 1.6);
/// Probability that a stroke takes the object's colour (so colour alone does not find it).
const STROKE_IN_OBJECT_COLOUR: f64 = 0.3;
/// Range of an arc's radius, in pixels.
const ARC_RADIUS: (f32, f32) = (6.0, 24.0);
/// Range of an arc's angular span, in radians (never a closed circle).
const ARC_SPAN: (f32, f32) = (1.0, 4.2);
/// Range of the half-width of the uniform per-pixel noise, per channel.
const NOISE: (f32, f32) = (3.0, 12.0);

/// The smooth part of the background: a linear gradient between two colours and a few
/// Gaussian colour blobs.
#[derive(Debug, Clone)]
pub(crate) struct Backdrop {
    base: [f32; 3],
    delta: [f32; 3],
    direction: (f32, f32),
    blobs: Vec<Blob>,
}

/// A Gaussian bump of colour.
#[derive(Debug, Clone)]
struct Blob {
    centre: (f32, f32),
    sigma: f32,
    colour: [f32; 3],
}

impl Backdrop {
    /// A random backdrop for a `size`² image.
    pub(crate) fn random(rng: &mut ChaCha8Rng, size: u32) -> Self {
        let size = size as f32;
        let base = [(); 3].map(|_| rng.random_range(BASE_CHANNEL.0..BASE_CHANNEL.1));
        let delta = [(); 3].map(|_| rng.random_range(-GRADIENT_SPREAD..GRADIENT_SPREAD));
        let angle = rng.random::<f32>() * TAU;
        let blobs = (0..rng.random_range(0..=MAX_BLOBS))
            .map(|_| Blob {
                centre: (rng.random::<f32>() * size, rng.random::<f32>() * size),
                sigma: rng.random_range(BLOB_SIGMA.0..BLOB_SIGMA.1),
                colour: [(); 3].map(|_| rng.random_range(-BLOB_STRENGTH..BLOB_STRENGTH)),
            })
            .collect();
        Self { base, delta, direction: (angle.cos(), angle.sin()), blobs }
    }

    /// The backdrop's colour at image point `(x, y)` of a `size`² image (not clamped).
    pub(crate) fn colour_at(&self, x: f32, y: f32, size: u32) -> [f32; 3] {
        let half = size as f32 / 2.0;
        // Position along the gradient, in [0, 1] on the image's inscribed circle.
        let t = (0.5 + ((x - half) * self.direction.0 + (y - half) * self.direction.1) / size as f32)
            .clamp(0.0, 1.0);
        let mut c: [f32; 3] = std::array::from_fn(|k| self.base[k] + t * self.delta[k]);
        for blob in &self.blobs {
            let d2 = (x - blob.centre.0).powi(2) + (y - blob.centre.1).powi(2);
            let weight = (-d2 / (2.0 * blob.sigma * blob.sigma)).exp();
            for (channel, change) in c.iter_mut().zip(blob.colour) {
                *channel += weight * change;
            }
        }
        c
    }

    /// The backdrop painted at every pixel centre.
    pub(crate) fn render(&self, size: u32) -> Canvas {
        (0..size * size)
            .map(|i| self.colour_at((i % size) as f32 + 0.5, (i / size) as f32 + 0.5, size))
            .collect()
    }
}

/// A thin distractor: a straight segment or a circular arc.
#[derive(Debug, Clone)]
pub(crate) struct Stroke {
    path: Path,
    width: f32,
    colour: [f32; 3],
}

/// The centre line of a stroke.
#[derive(Debug, Clone)]
enum Path {
    Segment { from: (f32, f32), to: (f32, f32) },
    Arc { centre: (f32, f32), radius: f32, start: f32, span: f32 },
}

/// Distance between two points.
fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

impl Path {
    /// Distance from `p` to the path.
    fn distance(&self, p: (f32, f32)) -> f32 {
        match *self {
            Path::Segment { from, to } => {
                let (dx, dy) = (to.0 - from.0, to.1 - from.1);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (((p.0 - from.0) * dx + (p.1 - from.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                distance(p, (from.0 + t * dx, from.1 + t * dy))
            }
            Path::Arc { centre, radius, start, span } => {
                let angle = (p.1 - centre.1).atan2(p.0 - centre.0);
                if (angle - start).rem_euclid(TAU) <= span {
                    (distance(p, centre) - radius).abs()
                } else {
                    let end = |a: f32| (centre.0 + radius * a.cos(), centre.1 + radius * a.sin());
                    distance(p, end(start)).min(distance(p, end(start + span)))
                }
            }
        }
    }
}

impl Stroke {
    /// A random stroke in a `size`² image; with some probability in `object_colour`.
    pub(crate) fn random(rng: &mut ChaCha8Rng, size: u32, object_colour: [f32; 3]) -> Self {
        let size = size as f32;
        let point = |rng: &mut ChaCha8Rng| (rng.random::<f32>() * size, rng.random::<f32>() * size);
        let path = if rng.random_bool(0.5) {
            Path::Segment { from: point(rng), to: point(rng) }
        } else {
            Path::Arc {
                centre: point(rng),
                radius: rng.random_range(ARC_RADIUS.0..ARC_RADIUS.1),
                start: rng.random::<f32>() * TAU,
                span: rng.random_range(ARC_SPAN.0..ARC_SPAN.1),
            }
        };
        let width = rng.random_range(STROKE_WIDTH.0..STROKE_WIDTH.1);
        let colour = if rng.random_bool(STROKE_IN_OBJECT_COLOUR) {
            object_colour.map(|c| c + rng.random_range(-20.0..20.0))
        } else {
            [(); 3].map(|_| rng.random_range(0.0..255.0))
        };
        Self { path, width, colour }
    }

    /// Random strokes, `STROKES.0..=STROKES.1` of them.
    pub(crate) fn random_many(rng: &mut ChaCha8Rng, size: u32, object_colour: [f32; 3]) -> Vec<Self> {
        let n = rng.random_range(STROKES.0..=STROKES.1);
        (0..n).map(|_| Self::random(rng, size, object_colour)).collect()
    }

    /// Blends the stroke into `canvas`, anti-aliased: a pixel whose centre lies at distance
    /// `d` from the centre line gets opacity `clamp(width/2 + 1/2 − d, 0, 1)`.
    pub(crate) fn paint(&self, canvas: &mut Canvas, size: u32) {
        for (i, pixel) in canvas.iter_mut().enumerate() {
            let p = ((i as u32 % size) as f32 + 0.5, (i as u32 / size) as f32 + 0.5);
            let alpha = (self.width / 2.0 + 0.5 - self.path.distance(p)).clamp(0.0, 1.0);
            if alpha > 0.0 {
                for (channel, target) in pixel.iter_mut().zip(self.colour) {
                    *channel += alpha * (target - *channel);
                }
            }
        }
    }
}

/// Per-pixel noise: a half-width drawn per scene, then `U(−a, a)` per pixel and channel.
pub(crate) fn noise(rng: &mut ChaCha8Rng, size: u32) -> Canvas {
    let a = rng.random_range(NOISE.0..NOISE.1);
    (0..size * size).map(|_| [(); 3].map(|_| rng.random_range(-a..a))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn segment_and_arc_distances() {
        let segment = Path::Segment { from: (0.0, 0.0), to: (10.0, 0.0) };
        assert_eq!(segment.distance((5.0, 3.0)), 3.0);
        assert_eq!(segment.distance((13.0, 4.0)), 5.0);
        let arc = Path::Arc { centre: (0.0, 0.0), radius: 5.0, start: 0.0, span: 1.5 };
        // Outside the arc's angles: the distance to the nearer end, (5, 0).
        assert!((arc.distance((0.0, -7.0)) - 74f32.sqrt()).abs() < 1e-5);
        assert_eq!(arc.distance((7.0, 0.0)), 2.0);
        assert!((arc.distance((0.0, 0.0)) - 5.0).abs() < 1e-5);
    }

    #[test]
    fn strokes_are_thin() {
        const SIZE: u32 = 64;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..50 {
            let stroke = Stroke::random(&mut rng, SIZE, [0.0; 3]);
            assert!(stroke.width < 2.0);
        }
    }
}
