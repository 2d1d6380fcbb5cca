//! Explanations of synthetic scenes, shown beside the object's true mask:
//! `scene | mask | Gradient×Input | LRP`, each enlarged with nearest-neighbour pixels, each with
//! a title (true and predicted class, method and sum of relevance) and each heatmap with its
//! colour bar.
//!
//! This is the explainer's default run: the scenes have a known answer (the object's pixels),
//! so a reader sees at a glance which explanation points at the object.

use candle_core::{DType, Device};
use image::{Rgb, RgbImage};

use crate::attribution::AnyAttributor;
use crate::heatmap::{RelevanceMap, Tile, method_title, titled_panel};
use crate::prediction::{Prediction, top_predictions};
use crate::scenes::{SCENE_SIZE, Scene, Shape, generate_scene, scenes_to_input};
use crate::{Result, Vgg};

/// How much the 64×64 scenes are enlarged in panels.
pub const ZOOM: u32 = 4;

/// One scene explained by several attributors.
#[derive(Debug, Clone)]
pub struct ScenePanel {
    /// The scene's seed (regenerate it with [`generate_scene`]).
    pub seed: u64,
    /// The scene.
    pub scene: Scene,
    /// The model's best guess.
    pub prediction: Prediction,
    /// For each attributor: its name and the total relevance `Σ R` for the true class.
    pub relevance_sums: Vec<(String, f64)>,
    /// `scene | mask | heatmap …`, enlarged [`ZOOM`] times, with titles and colour bars.
    pub image: RgbImage,
}

/// The first scene of each class from `first_seed` on (seeds tried in order), so that every
/// class is shown once.
pub fn one_scene_per_class(first_seed: u64) -> Vec<(u64, Scene)> {
    let mut found: Vec<Option<(u64, Scene)>> = vec![None; Shape::ALL.len()];
    let mut seed = first_seed;
    while found.iter().any(Option::is_none) {
        let scene = generate_scene(seed);
        let slot = &mut found[scene.class];
        if slot.is_none() {
            *slot = Some((seed, scene));
        }
        seed += 1;
    }
    found.into_iter().flatten().collect()
}

/// Explains the true class of `scene` with each named attributor and draws the panel.
pub fn explain_scene(
    model: &Vgg,
    seed: u64,
    scene: Scene,
    attributors: &[(&str, &dyn AnyAttributor)],
) -> Result<ScenePanel> {
    let input = scenes_to_input(std::slice::from_ref(&scene), &Device::Cpu, model.dtype())?;
    let mut maps = Vec::new();
    let mut logits = None;
    for (name, attributor) in attributors {
        let attribution = attributor.prepare_any(model)?.attribute(&input, scene.class)?;
        maps.push(((*name).to_string(), RelevanceMap::from_tensor(&attribution.relevance, 0)?));
        logits = Some(attribution.logits);
    }
    let logits = match logits {
        Some(logits) => logits,
        None => model.forward(&input)?,
    };
    let names: Vec<&str> = Shape::ALL.iter().map(Shape::name).collect();
    let prediction = top_predictions(&logits.to_dtype(DType::F64)?, 0, &names, 1)?.remove(0);
    let true_class = names[scene.class];
    let inside = scene.mask.iter().filter(|&&m| m).count();
    let mut tiles = vec![
        Tile::picture(
            zoom(&scene.image),
            &[
                &format!("scene {seed}: {true_class}"),
                &format!("predicted {} (p {:.2})", prediction.name, prediction.probability),
            ],
        ),
        Tile::picture(zoom(&mask_image(&scene.mask)), &["true mask", &format!("{inside} pixels")]),
    ];
    let mut relevance_sums = Vec::new();
    for (name, map) in &maps {
        let title = format!("{} for {true_class}", method_title(name));
        tiles.push(Tile::heatmap(map, &[&title, &format!("ΣR = {:.3}", map.sum())], ZOOM));
        relevance_sums.push((name.clone(), map.sum()));
    }
    let image = titled_panel(&tiles)?;
    Ok(ScenePanel { seed, scene, prediction, relevance_sums, image })
}

/// The mask as a picture: the object white on black.
fn mask_image(mask: &[bool]) -> RgbImage {
    RgbImage::from_fn(SCENE_SIZE, SCENE_SIZE, |x, y| {
        let inside = mask[(y * SCENE_SIZE + x) as usize];
        if inside { Rgb([255, 255, 255]) } else { Rgb([0, 0, 0]) }
    })
}

/// `image` enlarged [`ZOOM`] times, each pixel a square (no smoothing, as the sheet's
/// `interpolation='nearest'`).
fn zoom(image: &RgbImage) -> RgbImage {
    image::imageops::resize(
        image,
        image.width() * ZOOM,
        image.height() * ZOOM,
        image::imageops::FilterType::Nearest,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipped::shapes_model;
    use crate::{GradientTimesInput, Lrp};

    #[test]
    fn one_scene_of_every_class() {
        let scenes = one_scene_per_class(1_000_000_000);
        let classes: Vec<usize> = scenes.iter().map(|(_, s)| s.class).collect();
        assert_eq!(classes, (0..Shape::ALL.len()).collect::<Vec<_>>());
        for (seed, scene) in &scenes {
            assert_eq!(&generate_scene(*seed), scene);
        }
    }

    #[test]
    fn panel_has_scene_mask_and_one_tile_per_attributor() {
        let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
        let (seed, scene) = one_scene_per_class(1_000_000_000).remove(0);
        let lrp = Lrp::default();
        let attributors: [(&str, &dyn AnyAttributor); 2] =
            [("gradient_x_input", &GradientTimesInput), ("lrp", &lrp)];
        let explained = explain_scene(&model, seed, scene.clone(), &attributors).unwrap();
        let tile = SCENE_SIZE * ZOOM;
        // Titles of two lines above, a colour bar below the heatmaps.
        let (title, bar) = (2 * 16 + 6, 6 + 10 + 18);
        assert_eq!(explained.image.dimensions(), (4 * tile + 3 * 8, title + tile + bar));
        // The mask tile is white exactly on the object.
        let inside = scene.mask.iter().position(|&m| m).unwrap() as u32;
        let (x, y) = (inside % SCENE_SIZE, inside / SCENE_SIZE);
        assert_eq!(explained.image.get_pixel(tile + 8 + x * ZOOM, title + y * ZOOM).0, [255, 255, 255]);
        // Every tile has ink in its title row.
        for k in 0..4 {
            let left = k * (tile + 8);
            let ink = (left..left + tile)
                .flat_map(|x| (0..16).map(move |y| (x, y)))
                .any(|(x, y)| explained.image.get_pixel(x, y).0.iter().all(|&c| c < 128));
            assert!(ink, "tile {k} has no title");
        }
        assert_eq!(explained.relevance_sums.len(), 2);
        assert!(explained.relevance_sums.iter().all(|(_, sum)| sum.is_finite()));
    }
}
