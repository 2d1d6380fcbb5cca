//! The prototypes as one figure: a row per class, a column per penalty, each image titled with
//! the class probability the network gives it; and the CSV of what every prototype scores.

use std::path::Path;

use charts::{Area, FigureFiles, Table};
use plotters::prelude::*;

use super::prototype::{PenaltyKind, Prototype};
use crate::error::{Error, Result};

/// Space above the images for the column titles, in pixels.
const HEADER: u32 = 40;
/// Space left of the images for the row titles.
const ROW_LABELS: u32 = 110;
/// Space below each image for its caption.
const CAPTION: u32 = 26;
/// Gap between images.
const GAP: u32 = 10;
/// Font size of titles and captions.
const FONT_SIZE: u32 = 17;

/// The CSV's columns after the label `prototype` (`class name/penalty`).
pub const COLUMNS: [&str; 9] = [
    "class",
    "lambda",
    "probability",
    "logit",
    "penalty",
    "log_density",
    "iterations",
    "converged",
    "stationarity",
];

/// One row per prototype: [`COLUMNS`], `NaN` for the log-density without a prior.
pub fn table(prototypes: &[Prototype], class_names: &[&str]) -> Table {
    let mut table = Table::with_label_column("prototype", COLUMNS);
    for p in prototypes {
        let name = class_names.get(p.class).copied().unwrap_or("?");
        table.push_labelled(
            &format!("{name}/{}", p.penalty.name()),
            vec![
                p.class as f64,
                p.lambda,
                p.probability(),
                p.logit(),
                p.penalty_value,
                p.log_density.unwrap_or(f64::NAN),
                p.ascent.iterations as f64,
                if p.ascent.converged { 1.0 } else { 0.0 },
                p.ascent.stationarity,
            ],
        );
    }
    table
}

/// Writes `dir/stem.png` (rows = classes, columns = penalties, in the order they first appear
/// in `prototypes`; each `side × side` image enlarged `zoom` times) and `dir/stem.csv`
/// ([`table`]).
pub fn write_grid(
    dir: &Path,
    stem: &str,
    prototypes: &[Prototype],
    class_names: &[&str],
    side: usize,
    zoom: u32,
) -> Result<FigureFiles> {
    let mut classes: Vec<usize> = Vec::new();
    let mut penalties: Vec<PenaltyKind> = Vec::new();
    for p in prototypes {
        if !classes.contains(&p.class) {
            classes.push(p.class);
        }
        if !penalties.contains(&p.penalty) {
            penalties.push(p.penalty);
        }
    }
    if let Some(p) = prototypes.iter().find(|p| p.input.len() != 3 * side * side) {
        return Err(Error::ShapeMismatch {
            what: "a prototype image",
            expected: format!("3 × {side} × {side}"),
            found: p.input.len().to_string(),
        });
    }
    let cell = side as u32 * zoom;
    let width = ROW_LABELS + penalties.len() as u32 * (cell + GAP) + GAP;
    let height = HEADER + classes.len() as u32 * (cell + CAPTION + GAP) + GAP;
    let name = |class: usize| class_names.get(class).copied().unwrap_or("?").to_string();
    let draw = |area: &Area| -> charts::Result<()> {
        let style = TextStyle::from(("sans-serif", FONT_SIZE).into_font()).color(&BLACK);
        for (column, penalty) in penalties.iter().enumerate() {
            let x = ROW_LABELS + column as u32 * (cell + GAP);
            area.draw_text(penalty.formula(), &style, (x as i32, 12)).map_err(drawing)?;
        }
        for (row, &class) in classes.iter().enumerate() {
            let y = HEADER + row as u32 * (cell + CAPTION + GAP);
            area.draw_text(&name(class), &style, (8, (y + cell / 2) as i32)).map_err(drawing)?;
            for (column, &penalty) in penalties.iter().enumerate() {
                let Some(p) = prototypes.iter().find(|p| p.class == class && p.penalty == penalty) else {
                    continue;
                };
                let x = ROW_LABELS + column as u32 * (cell + GAP);
                draw_image(area, &p.input, side, zoom, (x, y))?;
                let caption = format!("p({}) = {:.3}", name(class), p.probability());
                area.draw_text(&caption, &style, (x as i32, (y + cell + 4) as i32)).map_err(drawing)?;
            }
        }
        Ok(())
    };
    Ok(charts::write_figure(dir, stem, &table(prototypes, class_names), (width, height), draw)?)
}

/// Draws the channel-major pixel values `x` (`3 × side × side`, in `[0, 1]`, clamped) at
/// `origin`, each pixel a `zoom × zoom` square.
fn draw_image(
    area: &Area,
    x: &nalgebra::DVector<f64>,
    side: usize,
    zoom: u32,
    origin: (u32, u32),
) -> charts::Result<()> {
    let plane = side * side;
    let byte = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for row in 0..side {
        for column in 0..side {
            let i = row * side + column;
            let color = RGBColor(byte(x[i]), byte(x[plane + i]), byte(x[2 * plane + i]));
            let top_left = (origin.0 + column as u32 * zoom, origin.1 + row as u32 * zoom);
            let bottom_right = (top_left.0 + zoom, top_left.1 + zoom);
            area.draw(&Rectangle::new(
                [(top_left.0 as i32, top_left.1 as i32), (bottom_right.0 as i32, bottom_right.1 as i32)],
                color.filled(),
            ))
            .map_err(drawing)?;
        }
    }
    Ok(())
}

/// A plotters error as a figure error.
fn drawing(error: impl std::fmt::Display) -> charts::Error {
    charts::Error::Draw(error.to_string())
}
