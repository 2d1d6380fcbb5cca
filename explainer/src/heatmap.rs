//! Relevance heatmaps with the sheet's colour law, and side-by-side panels.
//!
//! As `utils.visualize` of the sheet (from the LRP tutorial): relevance is summed over the
//! colour channels, the colour range is symmetric, `[−b, b]` with
//! `b = 10 · (mean |R|³)^{1/3}`, the colours are matplotlib's `seismic` map (256 entries,
//! dark blue at −b, white at 0, dark red at +b) with its RGB scaled by 0.85, values beyond ±b
//! take the end colours, and pixels stay pixels (nearest neighbour, no smoothing). The middle
//! of the scale, relevance 0, is therefore not white but grey (216, 215, 215).
//!
//! [`titled_panel`] lays [`Tile`]s side by side, each with its title above it (method, class,
//! sum of relevance) and, for a heatmap, a colour bar below it that gives the scale `±b`.

use candle_core::{DType, Tensor};
use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Error, Result};

/// Number of entries of matplotlib's colour lookup tables.
const LUT_SIZE: usize = 256;
/// `seismic`'s anchor colours, evenly spaced from 0 to 1 (matplotlib's `_seismic_data`).
const SEISMIC_ANCHORS: [[f64; 3]; 5] = charts::colors::SEISMIC;
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
    /// Non-finite relevance is an error: a NaN would make the bound `b` NaN and silently paint
    /// the whole map in one colour.
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
    /// (b = 0) is the middle colour, grey (216, 215, 215).
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

/// Height of one line of a tile's title, in pixels.
const TITLE_LINE: u32 = 16;
/// Font size of titles and colour-bar labels, in pixels.
const FONT_SIZE: f64 = 13.0;
/// Height of a colour bar's strip, and of the space for its labels, in pixels.
const BAR_STRIP: u32 = 10;
const BAR_LABELS: u32 = 18;

/// One tile of a [`titled_panel`]: an image, its title, and for a heatmap the bound of its
/// colour scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// The picture, already at its display size.
    pub image: RgbImage,
    /// The title, one entry per line (keep each line to about 30 characters for a 224-pixel tile).
    pub title: Vec<String>,
    /// For a heatmap: its colour bound `b`, drawn as a colour bar from `−b` to `+b`.
    pub color_bound: Option<f64>,
}

impl Tile {
    /// A picture (the input, a mask) with its title.
    pub fn picture(image: RgbImage, title: &[&str]) -> Self {
        Self { image, title: title.iter().map(|line| (*line).to_string()).collect(), color_bound: None }
    }

    /// The heatmap of `map`, enlarged `zoom` times with nearest-neighbour pixels, with its title
    /// and colour bar.
    pub fn heatmap(map: &RelevanceMap, title: &[&str], zoom: u32) -> Self {
        let image = map.to_image();
        let zoom = zoom.max(1);
        let image = image::imageops::resize(
            &image,
            image.width() * zoom,
            image.height() * zoom,
            image::imageops::FilterType::Nearest,
        );
        Self {
            image,
            title: title.iter().map(|line| (*line).to_string()).collect(),
            color_bound: Some(map.color_bound()),
        }
    }
}

/// How a method is named in titles: `gradient_x_input` → `Gradient×Input`, `lrp` → `LRP`,
/// `lrp_epsilon_plus` → `LRP epsilon_plus`.
pub fn method_title(name: &str) -> String {
    match name {
        "gradient_x_input" => "Gradient×Input".to_string(),
        "lrp" => "LRP".to_string(),
        "gradient" => "Gradient".to_string(),
        other => match other.strip_prefix("lrp_") {
            Some(composite) => format!("LRP {composite}"),
            None => other.to_string(),
        },
    }
}

/// A number for a colour-bar label: short, with its sign.
fn bar_label(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_string()
    } else if (1e-2..1e3).contains(&magnitude) {
        format!("{value:+.3}")
    } else {
        format!("{value:+.1e}")
    }
}

/// The tiles side by side on white, `PANEL_GAP` pixels apart: each with its title above it
/// and, if it is a heatmap, a colour bar below it labelled `−b`, `0`, `+b` (the clipping bound
/// of [`RelevanceMap::color_bound`]).
pub fn titled_panel(tiles: &[Tile]) -> Result<RgbImage> {
    charts::register_fonts()?;
    let title_lines = tiles.iter().map(|t| t.title.len()).max().unwrap_or(0) as u32;
    let title_height = title_lines * TITLE_LINE + if title_lines > 0 { 6 } else { 0 };
    let has_bar = tiles.iter().any(|t| t.color_bound.is_some());
    let bar_height = if has_bar { 6 + BAR_STRIP + BAR_LABELS } else { 0 };
    let images: Vec<&RgbImage> = tiles.iter().map(|t| &t.image).collect();
    let pictures = panel(&images);
    let image_height = pictures.height();
    let (width, height) = (pictures.width(), title_height + image_height + bar_height);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    image::imageops::replace(&mut canvas, &pictures, 0, i64::from(title_height));

    let lut = darkened_seismic_lut();
    let mut left = 0u32;
    for tile in tiles {
        let tile_width = tile.image.width();
        if tile.color_bound.is_some() {
            let top = title_height + image_height + 6;
            for x in 0..tile_width {
                let t = (f64::from(x) + 0.5) / f64::from(tile_width);
                for y in top..top + BAR_STRIP {
                    canvas.put_pixel(left + x, y, Rgb(lut[lut_index(t)]));
                }
            }
        }
        left += tile_width + PANEL_GAP;
    }

    let mut buffer = canvas.into_raw();
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        let style = TextStyle::from(("sans-serif", FONT_SIZE).into_font()).color(&BLACK);
        let mut left = 0i32;
        for tile in tiles {
            let tile_width = tile.image.width() as i32;
            let centre = left + tile_width / 2;
            let centred = style.pos(Pos::new(HPos::Center, VPos::Top));
            for (i, line) in tile.title.iter().enumerate() {
                let y = 3 + i as i32 * TITLE_LINE as i32;
                root.draw_text(line, &centred, (centre, y)).map_err(charts::Error::draw_error)?;
            }
            if let Some(bound) = tile.color_bound {
                let y = (title_height + image_height + 6 + BAR_STRIP + 3) as i32;
                let labels = [
                    (HPos::Left, left, bar_label(-bound)),
                    (HPos::Center, centre, "0".to_string()),
                    (HPos::Right, left + tile_width - 1, bar_label(bound)),
                ];
                for (anchor, x, text) in labels {
                    root.draw_text(&text, &style.pos(Pos::new(anchor, VPos::Top)), (x, y))
                        .map_err(charts::Error::draw_error)?;
                }
            }
            left += tile_width + PANEL_GAP as i32;
        }
        root.present().map_err(charts::Error::draw_error)?;
    }
    RgbImage::from_raw(width, height, buffer).ok_or_else(|| Error::InvalidParameter {
        name: "panel",
        value: format!("{width}×{height}"),
        why: "the drawn buffer has the wrong size".into(),
    })
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
    fn zero_relevance_is_grey_not_white_nor_nan() {
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

    /// Whether any pixel of the rectangle is dark (text was drawn there).
    fn has_ink(image: &RgbImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> bool {
        x.flat_map(|x| y.clone().map(move |y| (x, y)))
            .any(|(x, y)| image.get_pixel(x, y).0.iter().all(|&c| c < 128))
    }

    #[test]
    fn titled_panel_has_a_title_per_tile_and_a_colour_bar_per_heatmap() {
        let map = RelevanceMap::from_values(2, 2, vec![1.0, -1.0, 0.5, 0.0]).unwrap();
        let picture = Tile::picture(RgbImage::from_pixel(100, 100, Rgb([0, 200, 0])), &["image"]);
        let heatmap = Tile::heatmap(&map, &["LRP, class 483", "ΣR = 0.5"], 50);
        let joined = titled_panel(&[picture, heatmap]).unwrap();
        let title_height = 2 * TITLE_LINE + 6;
        let bar_height = 6 + BAR_STRIP + BAR_LABELS;
        assert_eq!(joined.dimensions(), (100 + PANEL_GAP + 100, title_height + 100 + bar_height));
        // Both titles are drawn, centred above their tiles.
        assert!(has_ink(&joined, 30..70, 0..TITLE_LINE));
        assert!(has_ink(&joined, 100 + PANEL_GAP..200 + PANEL_GAP, 0..TITLE_LINE));
        assert!(has_ink(&joined, 100 + PANEL_GAP..200 + PANEL_GAP, TITLE_LINE..2 * TITLE_LINE));
        // The images sit below the titles.
        assert_eq!(joined.get_pixel(50, title_height + 50).0, [0, 200, 0]);
        // The heatmap's bar runs from −b (dark blue) through grey to +b (dark red), with its labels.
        let bar_y = title_height + 100 + 6 + BAR_STRIP / 2;
        let lut = darkened_seismic_lut();
        let heat_left = 100 + PANEL_GAP;
        // Bar pixel x shows the colour at t = (x + ½) / width.
        assert_eq!(joined.get_pixel(heat_left, bar_y).0, lut[lut_index(0.5 / 100.0)]);
        assert_eq!(lut_index(0.5 / 100.0), 1, "dark blue at −b");
        let middle = joined.get_pixel(heat_left + 50, bar_y).0;
        assert_eq!(middle, lut[lut_index(50.5 / 100.0)]);
        assert!(
            middle.iter().zip([216u8, 215, 215]).all(|(&c, g)| c.abs_diff(g) <= 5),
            "grey at 0: {middle:?}"
        );
        assert_eq!(joined.get_pixel(heat_left + 99, bar_y).0, lut[lut_index(99.5 / 100.0)]);
        assert_eq!(lut_index(99.5 / 100.0), 254, "dark red at +b");
        let labels = title_height + 100 + 6 + BAR_STRIP..joined.height();
        assert!(has_ink(&joined, heat_left..heat_left + 30, labels.clone()));
        assert!(has_ink(&joined, heat_left + 70..heat_left + 100, labels.clone()));
        // The picture has no bar.
        assert!(!has_ink(&joined, 0..100, title_height + 100..joined.height()));
        assert_eq!(bar_label(map.color_bound()), format!("+{:.3}", map.color_bound()));
        assert_eq!(bar_label(-2.5e-5), "-2.5e-5");
    }
}
