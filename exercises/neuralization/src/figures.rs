//! The figures of exercise 3 in the book, each a PNG with the CSV of exactly its data. All are
//! drawn from the linfa-svm model of [`crate::fit::book_model`], so every run gives the same files.

use std::path::Path;

use charts::{Axis, FigureFiles, Grid, Heatmap, LineChart, Series, Table, series_color, write_figure};

use crate::data::{OUTLIERS, POINTS_PER_BLOB, SEED, two_blobs};
use crate::error::Result;
use crate::explain::explain;
use crate::fit::book_model;
use crate::model::OneClassSvm;
use crate::softmin::{gap_bound, soft_min_gap};

/// Multiples of the fitted `γ` at which the contour figure re-evaluates `o(x)`, keeping the
/// fitted `u_i` and `α_i` (the sheet's limit `γ → ∞` is taken at fixed support vectors).
pub const CONTOUR_GAMMA_FACTORS: [f64; 3] = [0.5, 1.0, 10.0];
/// Horizontal extent of the contour plots.
pub const PLANE_X: (f64, f64) = (-4.5, 4.5);
/// Vertical extent of the contour plots.
pub const PLANE_Y: (f64, f64) = (-3.5, 3.5);
/// Grid cells per axis of each contour panel.
pub const PLANE_CELLS: usize = 64;
/// Number of colour bands (filled contours) in the contour plots.
pub const CONTOUR_LEVELS: usize = 12;
/// Upper end of the shared colour scale of the contour plots (larger values are clipped, so the
/// structure near the data stays visible).
pub const CONTOUR_CLIP: f64 = 6.0;
/// `log10 γ` range of the gap figure and its number of points.
pub const GAP_LOG10_GAMMA: (f64, f64, usize) = (-2.0, 3.0, 51);
/// Gaps below this are not plotted (the fitted curve falls like `exp(−γ Δ)` past it).
pub const GAP_FLOOR: f64 = 1e-14;
/// The point whose pre-activations `h` the gap figure holds fixed (between the blobs).
pub const GAP_POINT: [f64; 2] = [0.0, 0.1];

/// Writes every figure of exercise 3 into `out_dir`: `ex3_contours`, `ex3_softmin_gap`,
/// `ex3_outlier_relevance`.
pub fn write_all(out_dir: &Path) -> Result<Vec<FigureFiles>> {
    let fitted = book_model()?;
    Ok(vec![
        contours(out_dir, &fitted.model)?,
        softmin_gap(out_dir, &fitted.model)?,
        outlier_relevance(out_dir, &fitted.model)?,
    ])
}

/// The support vectors as `(x₁, x₂)` points.
fn support_points(model: &OneClassSvm) -> Vec<(f64, f64)> {
    model.support_vectors().row_iter().map(|u| (u[0], u[1])).collect()
}

/// `o(x)` over the plane at `γ_fit · {0.5, 1, 10}` and its limit `min_i ‖x − u_i‖²`, one colour
/// scale for all four panels, support vectors overlaid.
fn contours(out_dir: &Path, model: &OneClassSvm) -> Result<FigureFiles> {
    let mut panels: Vec<(String, f64, Grid)> = Vec::new();
    for factor in CONTOUR_GAMMA_FACTORS {
        let scaled = model.with_gamma(model.gamma() * factor)?;
        let grid = Grid::try_sample(PLANE_X, PLANE_Y, PLANE_CELLS, PLANE_CELLS, |x, y| {
            scaled.outlier_score(&[x, y])
        })?;
        panels.push((format!("o(x), γ = {}", scaled.gamma()), scaled.gamma(), grid));
    }
    let limit = Grid::try_sample(PLANE_X, PLANE_Y, PLANE_CELLS, PLANE_CELLS, |x, y| {
        model.nearest_squared_distance(&[x, y])
    })?;
    panels.push(("γ → ∞ (min-pooling, h_i → d_i²): min_i ‖x − u_i‖²".to_string(), f64::INFINITY, limit));

    let (low, high) = panels
        .iter()
        .filter_map(|(_, _, g)| g.finite_range())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (l, h)| (lo.min(l), hi.max(h)));
    let svs = support_points(model);
    let mut table = Table::with_label_column("panel", ["gamma", "x1", "x2", "value"]);
    for (_, gamma, grid) in &panels {
        let label = if gamma.is_finite() { "o" } else { "min_sq_distance" };
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                table.push_labelled(
                    label,
                    vec![*gamma, grid.x_at(i), grid.y_at(j), grid.values[j * grid.nx + i]],
                );
            }
        }
    }
    for (&(u1, u2), alpha) in svs.iter().zip(model.alpha().iter()) {
        table.push_labelled("support_vector_alpha", vec![model.gamma(), u1, u2, *alpha]);
    }
    Ok(write_figure(out_dir, "ex3_contours", &table, (1100, 900), |area| {
        let areas = area.split_evenly((2, 2));
        for ((title, _, grid), panel) in panels.iter().zip(areas.iter()) {
            Heatmap::new(title.as_str(), "x₁", "x₂", grid.clone())
                .with_value_range(low, high.min(CONTOUR_CLIP))
                .with_levels(CONTOUR_LEVELS)
                .with_value_label("o(x)")
                .with_overlay(Series::points("support vectors", svs.clone()).with_color(series_color(3)))
                .draw(panel)?;
        }
        Ok(())
    })?)
}

/// The gap `min_i h_i − smin_γ(h)` against `γ` for fixed `h`, with the bound `(log M)/γ`.
fn softmin_gap(out_dir: &Path, model: &OneClassSvm) -> Result<FigureFiles> {
    let h_fitted = model.hidden(&GAP_POINT)?;
    let m = h_fitted.len();
    let h_equal = vec![1.0; m];
    let (lo, hi, n) = GAP_LOG10_GAMMA;
    let gammas: Vec<f64> = (0..n).map(|k| 10f64.powf(lo + (hi - lo) * k as f64 / (n - 1) as f64)).collect();
    let curve = |h: &[f64]| -> Result<Vec<(f64, f64)>> {
        let mut points = Vec::with_capacity(gammas.len());
        for &g in &gammas {
            let gap = soft_min_gap(h, g)?;
            if gap >= GAP_FLOOR {
                points.push((g, gap));
            }
        }
        Ok(points)
    };
    let fitted_gap = curve(&h_fitted)?;
    let equal_gap = curve(&h_equal)?;
    let bound: Vec<(f64, f64)> = gammas.iter().map(|&g| Ok((g, gap_bound(m, g)?))).collect::<Result<_>>()?;
    let fitted_label = format!("h of the fitted model at x = ({}, {})", GAP_POINT[0], GAP_POINT[1]);
    let equal_label = format!("{m} equal h_i (the bound is attained)");
    let bound_label = format!("bound (log M)/γ, M = {m}");
    let table = Table::from_series(
        "gamma",
        "gap",
        &[(&fitted_label, &fitted_gap), (&equal_label, &equal_gap), (&bound_label, &bound)],
    );
    let chart = LineChart::new("soft-min gap min_i h_i − smin_γ(h) for fixed h", "γ", "gap")
        .with_axes(Axis::Log, Axis::Log)
        .with_y_range(GAP_FLOOR / 2.0, 2.0 * bound[0].1)
        .with_series(Series::line(fitted_label.clone(), fitted_gap.clone()))
        .with_series(Series::points(equal_label.clone(), equal_gap.clone()))
        .with_series(Series::dashed(bound_label.clone(), bound.clone()));
    Ok(write_figure(out_dir, "ex3_softmin_gap", &table, (800, 550), |area| chart.draw(area))?)
}

/// The data, the support vectors and a few outliers (left); each outlier's relevance per feature
/// and the part carried by the biases and the soft-min (right).
fn outlier_relevance(out_dir: &Path, model: &OneClassSvm) -> Result<FigureFiles> {
    let data = two_blobs(POINTS_PER_BLOB, SEED);
    let data_points: Vec<(f64, f64)> = data.row_iter().map(|r| (r[0], r[1])).collect();
    let svs = support_points(model);
    let mut left = LineChart::new("data, support vectors, outliers", "x₁", "x₂")
        .with_x_range(-4.2, 4.8)
        .with_y_range(-3.6, 5.2)
        .with_series(Series::points("training data", data_points.clone()).with_color(series_color(7)))
        .with_series(Series::points("support vectors", svs.clone()).with_color(series_color(3)));
    let mut named: Vec<(String, Vec<(f64, f64)>)> =
        vec![("left: training data".into(), data_points), ("left: support vectors".into(), svs)];

    const OFFSETS: [f64; 3] = [-0.2, 0.0, 0.2];
    const OUTLIER_COLORS: [usize; 4] = [4, 5, 6, 8];
    let names = ["R(x₁)", "R(x₂)", "biases + soft-min"];
    let mut right = LineChart::new("relevance of o(x) per feature", "outlier", "relevance")
        .with_x_range(0.4, OUTLIERS.len() as f64 + 0.6);
    let mut tops: [Vec<(f64, f64)>; 3] = Default::default();
    let mut scores = Vec::new();
    for (k, x) in OUTLIERS.iter().enumerate() {
        let label = format!("outlier {}: ({}, {})", k + 1, x[0], x[1]);
        left = left.with_series(
            Series::squares(label.clone(), vec![(x[0], x[1])])
                .with_color(series_color(OUTLIER_COLORS[k % 4]))
                .with_annotations(vec![(k + 1).to_string()]),
        );
        named.push((format!("left: {label}"), vec![(x[0], x[1])]));
        let e = explain(model, x)?;
        let position = (k + 1) as f64;
        let values = [e.features[0], e.features[1], e.weight_term + e.pooling_term];
        for (c, (&offset, &value)) in OFFSETS.iter().zip(&values).enumerate() {
            let at = position + offset;
            let stem = Series::line(if k == 0 { names[c] } else { "" }, vec![(at, 0.0), (at, value)])
                .with_color(series_color(c));
            right = right.with_series(stem);
            tops[c].push((at, value));
        }
        scores.push((position, e.score));
    }
    for (c, points) in tops.iter().enumerate() {
        right = right.with_series(Series::points("", points.clone()).with_color(series_color(c)));
        named.push((format!("right: {}", names[c]), points.clone()));
    }
    right = right
        .with_series(Series::points("o(x) = sum of the three", scores.clone()).with_color(series_color(9)));
    let (low, high) = tops
        .iter()
        .flatten()
        .chain(&scores)
        .fold((0.0_f64, 0.0_f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    right = right.with_y_range(low - 0.1 * (high - low), high + 0.45 * (high - low));
    named.push(("right: o(x)".into(), scores));
    let refs: Vec<(&str, &[(f64, f64)])> = named.iter().map(|(n, p)| (n.as_str(), p.as_slice())).collect();
    let table = Table::from_series("x", "y", &refs);
    Ok(write_figure(out_dir, "ex3_outlier_relevance", &table, (1200, 500), |area| {
        let panels = area.split_evenly((1, 2));
        left.draw(&panels[0])?;
        right.draw(&panels[1])
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_three_deterministic_figures() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let a = write_all(first.path()).unwrap();
        let b = write_all(second.path()).unwrap();
        assert_eq!(a.len(), 3);
        for (fa, fb) in a.iter().zip(&b) {
            assert!(fa.png.file_name().unwrap().to_str().unwrap().starts_with("ex3_"));
            assert_eq!(std::fs::read(&fa.csv).unwrap(), std::fs::read(&fb.csv).unwrap());
            assert_eq!(std::fs::read(&fa.png).unwrap(), std::fs::read(&fb.png).unwrap());
        }
    }
}
