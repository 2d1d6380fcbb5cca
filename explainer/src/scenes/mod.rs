//! Synthetic scenes with known object masks: a ground truth for explanations.
//!
//! Each scene is a 64×64 RGB image holding one object of one of six classes ([`Shape`]: disk,
//! square, triangle, cross, ring, bar) at a random position, scale, rotation and colour, on a
//! cluttered background ([`background`]: a colour gradient with soft blobs, thin distractor
//! lines and arcs, per-pixel noise). The object's colour is drawn independently of its class,
//! always contrasts with the background behind it, and some distractors share it, so only the
//! object's form tells its class. The scene comes with the object's pixel mask: the pixels it
//! covers at least half (coverage measured on a 4×4 grid per pixel, which also anti-aliases
//! the edge).
//!
//! A scene is a pure function of its seed ([`ChaCha8Rng`]): the same seed gives the same bytes.
//! Training uses seeds from [`TRAIN_SEEDS`], evaluation from [`TEST_SEEDS`].
//!
//! ```
//! use candle_core::{DType, Device};
//! use explainer::scenes::{SCENE_SIZE, Shape, generate_scene, generate_scenes, scenes_to_input};
//!
//! let scene = generate_scene(42);
//! assert_eq!(scene.image.dimensions(), (SCENE_SIZE, SCENE_SIZE));
//! assert!(scene.mask.iter().any(|&m| m));
//! println!("a {}", Shape::ALL[scene.class].name());
//!
//! let batch = generate_scenes(1_000, 8);
//! let x = scenes_to_input(&batch, &Device::Cpu, DType::F32)?;
//! assert_eq!(x.dims(), &[8, 3, 64, 64]);
//! # Ok::<(), explainer::Error>(())
//! ```

pub mod background;
pub mod shapes;

pub use shapes::{Placement, Shape};

use std::f32::consts::TAU;
use std::ops::Range;

use candle_core::{DType, Device, Tensor};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use background::{Backdrop, Canvas, Stroke};

/// Side of every scene, in pixels.
pub const SCENE_SIZE: u32 = 64;

// ANCHOR: seeds
/// Seeds of the scenes a model may be trained on.
pub const TRAIN_SEEDS: Range<u64> = 0..1_000_000_000;
/// Seeds of the scenes models are evaluated on: disjoint from [`TRAIN_SEEDS`].
pub const TEST_SEEDS: Range<u64> = 1_000_000_000..2_000_000_000;
// ANCHOR_END: seeds

/// Range of the object's scale: pixels per unit of its frame (about its radius). The widest
/// object is `2·1.15·20 = 46` pixels across, the thinnest part (ring, scale 12) 4.8 pixels.
const SCALE: (f32, f32) = (12.0, 20.0);
/// Smallest Euclidean RGB distance (0–255 per channel) between the object's colour and the
/// background (gradient and blobs) anywhere under the object.
const MIN_CONTRAST: f32 = 90.0;
/// Colour draws before the most contrasting one so far is taken.
const COLOUR_TRIES: usize = 64;

// ANCHOR: scene
/// One scene: the picture, the object's class and its pixel mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    /// The 64×64 RGB picture.
    pub image: RgbImage,
    /// The object's class: an index into [`Shape::ALL`].
    pub class: usize,
    /// `SCENE_SIZE²` entries, row-major (`y · 64 + x`): `true` on the object's pixels.
    pub mask: Vec<bool>,
}
// ANCHOR_END: scene

impl Scene {
    /// The object's class as a [`Shape`].
    pub fn shape(&self) -> Shape {
        Shape::ALL[self.class]
    }
}

/// Everything a scene is drawn from (before noise), for tests that redraw parts of it.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code, reason = "only the tests read the layout"))]
struct Layout {
    shape: Shape,
    placement: Placement,
    colour: [f32; 3],
}

/// The object's colour: uniform in RGB, redrawn until it differs from the backdrop by at
/// least [`MIN_CONTRAST`] at the object's centre and at eight points on a circle of
/// `0.7·scale` around it (the most contrasting of [`COLOUR_TRIES`] draws otherwise).
fn object_colour(rng: &mut ChaCha8Rng, backdrop: &Backdrop, placement: &Placement) -> [f32; 3] {
    let (cx, cy) = placement.centre;
    let probes: Vec<[f32; 3]> = std::iter::once((cx, cy))
        .chain((0..8).map(|k| {
            let a = k as f32 * TAU / 8.0;
            (cx + 0.7 * placement.scale * a.cos(), cy + 0.7 * placement.scale * a.sin())
        }))
        .map(|(x, y)| backdrop.colour_at(x, y, SCENE_SIZE).map(|c| c.clamp(0.0, 255.0)))
        .collect();
    let contrast = |c: &[f32; 3]| {
        probes
            .iter()
            .map(|p| ((c[0] - p[0]).powi(2) + (c[1] - p[1]).powi(2) + (c[2] - p[2]).powi(2)).sqrt())
            .fold(f32::INFINITY, f32::min)
    };
    let mut best = ([0.0; 3], f32::NEG_INFINITY);
    for _ in 0..COLOUR_TRIES {
        let c = [(); 3].map(|_| rng.random_range(0.0..255.0));
        let score = contrast(&c);
        if score >= MIN_CONTRAST {
            return c;
        }
        if score > best.1 {
            best = (c, score);
        }
    }
    best.0
}

// ANCHOR: render
/// Draws the scene of `seed` with `clutter` in `[0, 1]` (see [`generate_scene_with_clutter`]);
/// without the object if `with_object` is false (same background, strokes and noise; the mask
/// is then empty).
fn render(seed: u64, with_object: bool, clutter: f32) -> (Scene, Layout) {
    let clutter = clutter.clamp(0.0, 1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shape = Shape::ALL[rng.random_range(0..Shape::ALL.len())];
    let scale = rng.random_range(SCALE.0..SCALE.1);
    let margin = Shape::EXTENT * scale + 1.0;
    let size = SCENE_SIZE as f32;
    let centre = (rng.random_range(margin..size - margin), rng.random_range(margin..size - margin));
    let rotation = rng.random::<f32>() * TAU;
    let placement = Placement { centre, scale, rotation };

    let backdrop = Backdrop::random(&mut rng, SCENE_SIZE);
    let colour = object_colour(&mut rng, &backdrop, &placement);
    let mut strokes = Stroke::random_many(&mut rng, SCENE_SIZE, colour);
    let noise = background::noise(&mut rng, SCENE_SIZE);
    // Less clutter keeps the first strokes only and scales the noise; at 1 nothing changes.
    strokes.truncate((clutter * strokes.len() as f32).round() as usize);

    let mut canvas: Canvas = backdrop.render(SCENE_SIZE);
    for stroke in &strokes {
        stroke.paint(&mut canvas, SCENE_SIZE);
    }
    let mut mask = vec![false; (SCENE_SIZE * SCENE_SIZE) as usize];
    if with_object {
        let (x0, x1, y0, y1) = placement.bounding_box(SCENE_SIZE);
        for y in y0..y1 {
            for x in x0..x1 {
                let coverage = placement.coverage(shape, x, y);
                let i = (y * SCENE_SIZE + x) as usize;
                for k in 0..3 {
                    canvas[i][k] += coverage * (colour[k] - canvas[i][k]);
                }
                mask[i] = coverage >= 0.5;
            }
        }
    }
    let image = RgbImage::from_fn(SCENE_SIZE, SCENE_SIZE, |x, y| {
        let i = (y * SCENE_SIZE + x) as usize;
        image::Rgb([0, 1, 2].map(|k| (canvas[i][k] + clutter * noise[i][k]).round().clamp(0.0, 255.0) as u8))
    });
    let scene = Scene { image, class: shape.index(), mask };
    (scene, Layout { shape, placement, colour })
}
// ANCHOR_END: render

// ANCHOR: generate_scene
/// The scene of `seed`: one object of a random class on a cluttered background, with its mask.
/// The same seed always gives the same bytes.
pub fn generate_scene(seed: u64) -> Scene {
    render(seed, true, 1.0).0
}
// ANCHOR_END: generate_scene

// ANCHOR: generate_scene_with_clutter
/// The scene of `seed` with less clutter, for a training curriculum: `clutter` in `[0, 1]`
/// keeps that fraction of the distractor strokes (the first ones, rounded) and scales the
/// per-pixel noise; object, backdrop and mask stay the same. At `1.0` this is
/// [`generate_scene`] byte for byte; at `0.0` the object lies on a clean colour gradient.
pub fn generate_scene_with_clutter(seed: u64, clutter: f32) -> Scene {
    render(seed, true, clutter).0
}
// ANCHOR_END: generate_scene_with_clutter

/// The scenes of seeds `first_seed..first_seed + count`, in order.
pub fn generate_scenes(first_seed: u64, count: usize) -> Vec<Scene> {
    (first_seed..first_seed + count as u64).map(generate_scene).collect()
}

/// A batch of scenes as the network's input `(N, 3, 64, 64)`, each normalised exactly as
/// [`crate::image::to_input_tensor`] does (`(pixel/255 − mean_c) / std_c` in `f32`, ImageNet's
/// mean and standard deviation), so LRP's zB bounds apply unchanged.
pub fn scenes_to_input(scenes: &[Scene], device: &Device, dtype: DType) -> Result<Tensor> {
    if scenes.is_empty() {
        return Err(Error::InvalidParameter {
            name: "scenes",
            value: "[]".into(),
            why: "a batch needs at least one scene".into(),
        });
    }
    let tensors = scenes
        .iter()
        .map(|s| crate::image::to_input_tensor(&s.image, device, DType::F32))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::cat(&tensors, 0)?.to_dtype(dtype)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenes per statistical test.
    const SCENES: u64 = 300;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        for seed in [0, 1, 17, 123_456_789, TEST_SEEDS.start] {
            let (a, b) = (generate_scene(seed), generate_scene(seed));
            assert_eq!(a.image.as_raw(), b.image.as_raw());
            assert_eq!(a, b);
            assert_ne!(a.image.as_raw(), generate_scene(seed + 1).image.as_raw());
        }
        assert_eq!(generate_scenes(5, 3), vec![generate_scene(5), generate_scene(6), generate_scene(7)]);
    }

    #[test]
    fn less_clutter_keeps_object_and_mask() {
        for seed in 0..20 {
            let full = generate_scene(seed);
            assert_eq!(generate_scene_with_clutter(seed, 1.0), full);
            let clean = generate_scene_with_clutter(seed, 0.0);
            assert_eq!((clean.class, &clean.mask), (full.class, &full.mask));
            assert_ne!(clean.image.as_raw(), full.image.as_raw());
        }
    }

    #[test]
    fn every_class_appears_about_equally_often() {
        let mut counts = [0usize; 6];
        for scene in generate_scenes(0, SCENES as usize) {
            counts[scene.class] += 1;
        }
        let expected = SCENES as usize / 6;
        for (class, &n) in counts.iter().enumerate() {
            assert!(n > expected / 2 && n < expected * 2, "class {class}: {n} of {SCENES} ({counts:?})");
        }
    }

    /// Mask sizes follow the shapes' areas: `|mask| ≈ area · scale²`, up to the pixels along
    /// the boundary (a band of about one pixel around a perimeter of at most ~12·scale).
    #[test]
    fn masks_are_non_empty_and_as_large_as_the_shape() {
        for seed in 0..SCENES {
            let (scene, layout) = render(seed, true, 1.0);
            let count = scene.mask.iter().filter(|&&m| m).count() as f32;
            let s = layout.placement.scale;
            let area = layout.shape.unit_area() * s * s;
            assert!(count > 0.0, "seed {seed}: empty mask");
            assert!((count - area).abs() <= 0.1 * area + 2.0 * s, "seed {seed}: {count} vs {area}");
            let fraction = count / (SCENE_SIZE * SCENE_SIZE) as f32;
            assert!((0.02..0.3).contains(&fraction), "seed {seed}: {fraction}");
        }
    }

    /// The object is drawn exactly where the mask says: redrawn without the object, the scene
    /// changes only at pixels the object touches, and fully covered pixels show its colour
    /// (plus the noise). Every mask pixel changes.
    #[test]
    fn mask_matches_where_the_object_was_drawn() {
        for seed in 0..SCENES / 3 {
            let (scene, layout) = render(seed, true, 1.0);
            let (empty, _) = render(seed, false, 1.0);
            assert!(empty.mask.iter().all(|&m| !m));
            let mut inside = Vec::new();
            for y in 0..SCENE_SIZE {
                for x in 0..SCENE_SIZE {
                    let i = (y * SCENE_SIZE + x) as usize;
                    let coverage = layout.placement.coverage(layout.shape, x, y);
                    assert_eq!(scene.mask[i], coverage >= 0.5, "seed {seed} ({x}, {y})");
                    let (with, without) = (scene.image.get_pixel(x, y).0, empty.image.get_pixel(x, y).0);
                    if coverage == 0.0 {
                        assert_eq!(with, without, "seed {seed}: ({x}, {y}) changed outside the object");
                    }
                    if scene.mask[i] {
                        assert_ne!(with, without, "seed {seed}: mask pixel ({x}, {y}) unchanged");
                    }
                    if coverage == 1.0 {
                        inside.push(with);
                    }
                }
            }
            // Noise averages out: the mean colour of the object's interior is its colour.
            for k in 0..3 {
                let mean = inside.iter().map(|p| f32::from(p[k])).sum::<f32>() / inside.len() as f32;
                let want = layout.colour[k].round().clamp(0.0, 255.0);
                // Clamping at 0 and 255 biases the mean of noisy values near the ends.
                let tolerance = if (16.0..240.0).contains(&want) { 3.0 } else { 9.0 };
                assert!((mean - want).abs() < tolerance, "seed {seed} channel {k}: {mean} vs {want}");
            }
        }
    }

    /// The object contrasts with the background right behind it.
    #[test]
    fn objects_are_clearly_visible() {
        for seed in 0..SCENES {
            let (scene, _) = render(seed, true, 1.0);
            let (empty, _) = render(seed, false, 1.0);
            let (mut diff, mut n) = (0.0, 0.0);
            for (i, &m) in scene.mask.iter().enumerate() {
                if m {
                    let (x, y) = (i as u32 % SCENE_SIZE, i as u32 / SCENE_SIZE);
                    let (a, b) = (scene.image.get_pixel(x, y).0, empty.image.get_pixel(x, y).0);
                    diff += (0..3).map(|k| (f32::from(a[k]) - f32::from(b[k])).powi(2)).sum::<f32>().sqrt();
                    n += 1.0;
                }
            }
            assert!(diff / n > 40.0, "seed {seed}: mean contrast {}", diff / n);
        }
    }

    /// Colour does not give the class away: every class comes in dark and bright, reddish and
    /// bluish objects.
    #[test]
    fn colour_is_independent_of_class() {
        let mut mean_brightness = [(0.0f32, 0usize); 6];
        for seed in 0..SCENES * 2 {
            let (scene, layout) = render(seed, true, 1.0);
            let b = layout.colour.iter().sum::<f32>() / 3.0;
            mean_brightness[scene.class].0 += b;
            mean_brightness[scene.class].1 += 1;
        }
        for (class, (sum, n)) in mean_brightness.iter().enumerate() {
            let mean = sum / *n as f32;
            assert!((95.0..160.0).contains(&mean), "class {class}: mean brightness {mean}");
        }
    }

    #[test]
    fn input_is_normalised_like_a_photo() {
        let scenes = generate_scenes(TEST_SEEDS.start, 3);
        let batch = scenes_to_input(&scenes, &Device::Cpu, DType::F32).unwrap();
        assert_eq!(batch.dims(), &[3, 3, 64, 64]);
        for (i, scene) in scenes.iter().enumerate() {
            let one = crate::image::to_input_tensor(&scene.image, &Device::Cpu, DType::F32).unwrap();
            let a: Vec<f32> = batch.get(i).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f32> = one.flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(a, b);
        }
        let f64_batch = scenes_to_input(&scenes, &Device::Cpu, DType::F64).unwrap();
        assert_eq!(f64_batch.dtype(), DType::F64);
        assert!(matches!(
            scenes_to_input(&[], &Device::Cpu, DType::F32),
            Err(Error::InvalidParameter { name: "scenes", .. })
        ));
    }
}
