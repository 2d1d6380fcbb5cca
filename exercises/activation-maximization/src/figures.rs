//! The book's figures of exercise 1 (exercise sheet 11): contours of `f − Ω` with the closed-form
//! prototype and the gradient-ascent path for (a), (b) and (c), and the prototype's norm as a
//! function of `λ`.
//!
//! Every figure is a PNG written by [`charts::write_figure`] next to the CSV of exactly the
//! points it draws. The inputs are fixed, so the files are the same on every run.

use std::path::Path;

use charts::{Axis, FigureFiles, Grid, Heatmap, LineChart, Series, Table, series_color};
use nalgebra::{DVector, dmatrix, dvector};

use crate::{
    Gaussian, GaussianObjective, GeneratorObjective, GradientAscent, L2Objective, LinearGenerator,
    LinearModel, Objective, Result, closed_form,
};

/// Extent of both axes of the contour plots.
const PLANE: (f64, f64) = (-2.0, 2.5);
/// Cells per axis of the sampled objective.
const CELLS: usize = 80;
/// Number of filled contour bands.
const LEVELS: usize = 16;
/// The colour scale spans `[g(x*) − VALUE_SPAN, g(x*)]`; lower values share the darkest band.
const VALUE_SPAN: f64 = 8.0;
/// Where every ascent in the contour plots starts (away from the origin, to show the path).
const START: [f64; 2] = [-1.5, 1.5];
/// Penalty weight of the 2-D examples (a) and (c).
const LAMBDA: f64 = 0.4;
/// `log₁₀ λ` range of the norm figure.
const LOG10_LAMBDA: (f64, f64) = (-1.3, 1.3);
/// Points of the closed-form curves in the norm figure.
const CURVE_POINTS: usize = 61;
/// Points at which the norm figure runs gradient ascent.
const SOLVER_POINTS: usize = 9;
/// Size of a one-panel contour figure in pixels.
const CONTOUR_SIZE: (u32, u32) = (640, 540);

// ANCHOR: examples
/// The 2-D model of all figures: `w = (1, 0.5)`, `b = 0`.
fn example_model() -> Result<LinearModel> {
    LinearModel::new(dvector![1.0, 0.5], 0.0)
}

/// The data distribution of (b): `μ = (−0.5, −0.5)`, `Σ` with correlation 0.8.
fn example_gaussian() -> Result<Gaussian> {
    Gaussian::new(dvector![-0.5, -0.5], dmatrix![1.0, 0.8; 0.8, 1.0])
}

/// The generator of (c): a rotation-and-scaling `A` and an offset `c`.
fn example_generator() -> Result<LinearGenerator> {
    LinearGenerator::new(dmatrix![1.0, 0.5; -0.5, 1.0], dvector![0.5, -0.5])
}
// ANCHOR_END: examples

/// Writes every figure of exercise 1 into `out_dir`; returns the files written.
pub fn write_all(out_dir: &Path) -> Result<Vec<FigureFiles>> {
    Ok(vec![
        l2_contours(out_dir)?,
        gaussian_contours(out_dir)?,
        generator_contours(out_dir)?,
        prototype_norms(out_dir)?,
    ])
}

/// `(v₁, v₂)` of a 2-D vector.
fn pair(v: &DVector<f64>) -> (f64, f64) {
    (v[0], v[1])
}

/// The start of the ascents in the contour plots.
fn start() -> DVector<f64> {
    DVector::from_row_slice(&START)
}

/// A labelled series and its rows `label, v₁, v₂, g(v)` in `table`.
fn tabulated(
    table: &mut Table,
    objective: &impl Objective,
    label: &str,
    points: &[DVector<f64>],
) -> Result<Vec<(f64, f64)>> {
    for point in points {
        table.push_labelled(label, vec![point[0], point[1], objective.value(point)?]);
    }
    Ok(points.iter().map(pair).collect())
}

/// The objective sampled over [`PLANE`], also appended to `table` as `label` rows.
fn sampled(table: &mut Table, objective: &impl Objective, label: &str) -> Result<Grid> {
    let grid = Grid::try_sample(PLANE, PLANE, CELLS, CELLS, |x, y| objective.value(&dvector![x, y]))?;
    for j in 0..grid.ny {
        for i in 0..grid.nx {
            table.push_labelled(label, vec![grid.x_at(i), grid.y_at(j), grid.values[j * grid.nx + i]]);
        }
    }
    Ok(grid)
}

/// A contour plot of `objective` over the plane with the ascent path, the closed-form
/// prototype and a dashed segment `from → prototype` showing the direction it lies in.
fn contour_map(
    table: &mut Table,
    objective: &impl Objective,
    titles: (&str, &str, &str),
    prototype: &DVector<f64>,
    (from, direction_label): (&DVector<f64>, &str),
) -> Result<Heatmap> {
    let (title, x_label, y_label) = titles;
    let ascent = GradientAscent::default().keeping_path().maximize(objective, &start())?;
    let grid = sampled(table, objective, "objective")?;
    let direction = tabulated(table, objective, direction_label, &[from.clone(), prototype.clone()])?;
    let path_label = format!("gradient ascent ({} steps)", ascent.iterations);
    let path = tabulated(table, objective, &path_label, &ascent.path)?;
    let exact = tabulated(table, objective, "closed form", std::slice::from_ref(prototype))?;
    let peak = objective.value(prototype)?;
    Ok(Heatmap::new(title, x_label, y_label, grid)
        .with_levels(LEVELS)
        .with_value_label("g (contours)")
        .with_value_range(peak - VALUE_SPAN, peak)
        .with_overlay(Series::dashed(direction_label, direction).with_color(series_color(1)))
        .with_overlay(Series::path(path_label, path).with_color(series_color(3)))
        .with_overlay(Series::points("closed form", exact).with_color(series_color(9))))
}

/// An empty table for a contour figure: `series, v1, v2, value`.
fn contour_table() -> Table {
    Table::with_label_column("series", ["v1", "v2", "value"])
}

/// (a): `g(x) = wᵀx + b − λ‖x‖²` with `x* = w / (2λ)` on the segment from 0 along `w`.
fn l2_contours(out_dir: &Path) -> Result<FigureFiles> {
    let objective = L2Objective::new(example_model()?, LAMBDA)?;
    let prototype = closed_form::l2_prototype(&objective)?;
    let mut table = contour_table();
    let map = contour_map(
        &mut table,
        &objective,
        ("(a) wᵀx + b − λ‖x‖², λ = 0.4", "x₁", "x₂"),
        &prototype,
        (&DVector::zeros(2), "0 → w/(2λ)"),
    )?;
    Ok(charts::write_figure(out_dir, "ex1_l2_contours", &table, CONTOUR_SIZE, |area| map.draw(area))?)
}

/// (b): `g(x) = wᵀx + b + log p(x)` with `x* = μ + Σw` on the segment from `μ` along `Σw`.
fn gaussian_contours(out_dir: &Path) -> Result<FigureFiles> {
    let prior = example_gaussian()?;
    let mean = prior.mean().clone();
    let objective = GaussianObjective::new(example_model()?, prior)?;
    let prototype = closed_form::gaussian_prototype(&objective)?;
    let mut table = contour_table();
    let map = contour_map(
        &mut table,
        &objective,
        ("(b) wᵀx + b + log N(x; μ, Σ)", "x₁", "x₂"),
        &prototype,
        (&mean, "μ → μ + Σw"),
    )?;
    Ok(charts::write_figure(out_dir, "ex1_gaussian_contours", &table, CONTOUR_SIZE, |area| map.draw(area))?)
}

/// (c): contours of `g(z) = wᵀ(Az + c) + b − λ‖z‖²` over the code, and the same ascent mapped to
/// the input plane by `x = Az + c`, with `x* = c + AAᵀw / (2λ)`.
fn generator_contours(out_dir: &Path) -> Result<FigureFiles> {
    let generator = example_generator()?;
    let objective = GeneratorObjective::new(example_model()?, generator.clone(), LAMBDA)?;
    let prototype = closed_form::generator_prototype(&objective)?;
    let mut table = contour_table();
    let map = contour_map(
        &mut table,
        &objective,
        ("(c) code plane: wᵀ(Az + c) + b − λ‖z‖²", "z₁", "z₂"),
        &prototype.code,
        (&DVector::zeros(2), "0 → Aᵀw/(2λ)"),
    )?;

    let ascent = GradientAscent::default().keeping_path().maximize(&objective, &start())?;
    let inputs = ascent.path.iter().map(|z| generator.generate(z)).collect::<Result<Vec<_>>>()?;
    let mut input_row = |label: &str, points: &[DVector<f64>], codes: &[DVector<f64>]| -> Result<_> {
        for (x, z) in points.iter().zip(codes) {
            table.push_labelled(label, vec![x[0], x[1], objective.value(z)?]);
        }
        Ok(points.iter().map(pair).collect::<Vec<_>>())
    };
    let offset = generator.offset().clone();
    let path_label = "input path Az + c";
    let path = input_row(path_label, &inputs, &ascent.path)?;
    let direction = input_row(
        "c → c + AAᵀw/(2λ)",
        &[offset.clone(), prototype.input.clone()],
        &[DVector::zeros(2), prototype.code.clone()],
    )?;
    let exact = input_row(
        "closed form x*",
        std::slice::from_ref(&prototype.input),
        std::slice::from_ref(&prototype.code),
    )?;
    let input_plane = LineChart::new("(c) input plane: x = Az + c", "x₁", "x₂")
        .with_x_range(PLANE.0, PLANE.1)
        .with_y_range(PLANE.0, PLANE.1)
        .with_series(Series::dashed("c → c + AAᵀw/(2λ)", direction).with_color(series_color(1)))
        .with_series(Series::path(path_label, path).with_color(series_color(3)))
        .with_series(Series::points("closed form x*", exact).with_color(series_color(0)));
    Ok(charts::write_figure(out_dir, "ex1_generator_contours", &table, (1240, 540), |area| {
        let panels = area.split_evenly((1, 2));
        map.draw(&panels[0])?;
        input_plane.draw(&panels[1])
    })?)
}

/// `‖x*‖` of (a) and (c) as a function of `λ`: closed forms as lines, gradient ascent as
/// markers (circles for (a), squares for (c)).
fn prototype_norms(out_dir: &Path) -> Result<FigureFiles> {
    let model = example_model()?;
    let generator = example_generator()?;
    let lambdas = |count: usize| {
        (0..count).map(move |i| {
            let t = i as f64 / (count - 1) as f64;
            10f64.powf(LOG10_LAMBDA.0 + t * (LOG10_LAMBDA.1 - LOG10_LAMBDA.0))
        })
    };
    let l2 = |lambda: f64| L2Objective::new(model.clone(), lambda);
    let code = |lambda: f64| GeneratorObjective::new(model.clone(), generator.clone(), lambda);
    let mut l2_exact = Vec::new();
    let mut code_exact = Vec::new();
    for lambda in lambdas(CURVE_POINTS) {
        l2_exact.push((lambda, closed_form::l2_prototype(&l2(lambda)?)?.norm()));
        code_exact.push((lambda, closed_form::generator_prototype(&code(lambda)?)?.input.norm()));
    }
    let ascent = GradientAscent::default();
    let mut l2_numeric = Vec::new();
    let mut code_numeric = Vec::new();
    for lambda in lambdas(SOLVER_POINTS) {
        let objective = l2(lambda)?;
        l2_numeric.push((lambda, ascent.maximize(&objective, &DVector::zeros(2))?.argmax.norm()));
        let objective = code(lambda)?;
        let z = ascent.maximize(&objective, &DVector::zeros(2))?.argmax;
        code_numeric.push((lambda, generator.generate(&z)?.norm()));
    }
    let labels = [
        "(a) ‖w‖/(2λ), closed form",
        "(a) gradient ascent",
        "(c) ‖c + AAᵀw/(2λ)‖, closed form",
        "(c) gradient ascent",
    ];
    let table = Table::from_series(
        "lambda",
        "prototype_norm",
        &[
            (labels[0], &l2_exact),
            (labels[1], &l2_numeric),
            (labels[2], &code_exact),
            (labels[3], &code_numeric),
        ],
    );
    let chart = LineChart::new("Prototype norm ‖x*‖ against the penalty weight λ", "λ", "‖x*‖")
        .with_axes(Axis::Log, Axis::Log)
        .with_series(Series::line(labels[0], l2_exact).with_color(series_color(0)))
        .with_series(Series::points(labels[1], l2_numeric).with_color(series_color(0)))
        .with_series(Series::line(labels[2], code_exact).with_color(series_color(1)))
        .with_series(Series::squares(labels[3], code_numeric).with_color(series_color(1)));
    Ok(charts::write_figure(out_dir, "ex1_prototype_norm", &table, (700, 500), |area| chart.draw(area))?)
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;

    #[test]
    fn writes_four_figures_with_their_data() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_all(dir.path()).unwrap();
        assert_eq!(files.len(), 4);
        for file in &files {
            assert!(file.png.exists() && file.csv.exists());
            let stem = file.png.file_stem().unwrap().to_str().unwrap();
            assert!(stem.starts_with("ex1_"), "{stem}");
            let csv = std::fs::read_to_string(&file.csv).unwrap();
            assert!(!csv.contains("NaN") && !csv.contains("inf"), "{stem} has non-finite data");
        }
    }

    #[test]
    fn examples_are_valid() {
        assert_eq!(example_model().unwrap().dimension(), 2);
        assert_eq!(example_gaussian().unwrap().dimension(), 2);
        assert_eq!(
            example_generator().unwrap().matrix(),
            &DMatrix::from_row_slice(2, 2, &[1.0, 0.5, -0.5, 1.0])
        );
    }
}
