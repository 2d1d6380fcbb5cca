//! The figures of exercise 2 in the book, each a PNG with the CSV of exactly its data
//! (written through [`charts::write_figure`], file stems `ex2_…`).
//!
//! - `ex2_relevance_vs_gamma`: `R_1`, `R_2` at `a1 = a2 = 1` against γ for both networks,
//!   closed forms as lines, the engine as points; γ on a linear and on a logarithmic axis.
//! - `ex2_share_network_a`, `ex2_share_network_b`: `R_1 / (R_1 + R_2)` over `(a1, a2) ∈ [0, 2]²`
//!   at γ = 0, 0.25 and [`LARGE_GAMMA`]. Where the share is undefined (`R_1 + R_2 = 0`, i.e.
//!   `y = 0`) the grid holds NaN: the cell is drawn grey and the CSV says `NaN`. Sampling at
//!   cell centres never hits the axes, where `y = 0`, so no grey cell appears in these grids.
//! - `ex2_outside_domain`: `y − min(a1, a2)` of each network over `[−2, 2]²`: zero on the
//!   half-plane where the network computes the minimum, non-zero elsewhere.
//! - `ex2_networks`: both networks drawn as graphs, every connection labelled with its weight and
//!   the relevance LRP-γ sends along it in the book's worked example (`a1 = a2 = 1`, γ = 1).

use std::path::Path;

use charts::{
    Axis, ColorScale, DiagramEdge, DiagramNode, FigureFiles, Grid, Heatmap, LineChart, NetworkDiagram,
    Series, Table, series_color,
};
use nalgebra::DVector;

use crate::closed_form::equal_inputs;
use crate::error::{Error, Result};
use crate::lrp_gamma::LrpGamma;
use crate::min_networks::MinNetwork;
use crate::share::relevance_share;

/// The "large" γ of the share heatmaps, where LRP-γ is close to its γ → ∞ limit.
pub const LARGE_GAMMA: f64 = 100.0;
/// The γ values of the share heatmaps.
pub const SHARE_GAMMAS: [f64; 3] = [0.0, 0.25, LARGE_GAMMA];
/// The input on the diagonal for the γ-sweep, `a1 = a2 = DIAGONAL_INPUT`.
pub const DIAGONAL_INPUT: f64 = 1.0;
/// Extent of the share heatmaps, the same in `a1` and `a2`.
pub const SHARE_EXTENT: (f64, f64) = (0.0, 2.0);
/// Cells per axis of the share heatmaps.
pub const SHARE_CELLS: usize = 80;
/// Extent of the outside-the-domain heatmaps, the same in `a1` and `a2`.
pub const OUTSIDE_EXTENT: (f64, f64) = (-2.0, 2.0);
/// Cells per axis of the outside-the-domain heatmaps.
pub const OUTSIDE_CELLS: usize = 80;

/// γ range of the linear panel of the γ-sweep.
const LINEAR_GAMMA: (f64, f64) = (0.0, 5.0);
/// γ range (decades) of the logarithmic panel of the γ-sweep.
const LOG_GAMMA_DECADES: (f64, f64) = (-3.0, 3.0);
/// Points of each closed-form line.
const LINE_POINTS: usize = 200;
/// Engine points per panel.
const ENGINE_POINTS: usize = 13;

/// Writes every figure of exercise 2 into `out_dir` and returns their files.
pub fn write_all(out_dir: &Path) -> Result<Vec<FigureFiles>> {
    let mut written = vec![relevance_vs_gamma(out_dir)?];
    for network in MinNetwork::ALL {
        written.push(share_heatmaps(out_dir, network)?);
    }
    written.push(outside_domain(out_dir)?);
    written.push(networks(out_dir)?);
    Ok(written)
}

/// γ of the worked example drawn on the networks.
pub const WORKED_GAMMA: f64 = 1.0;

/// Where the neurons of each network are drawn, layer by layer (inputs first), in `[0, 1]²`.
fn layout(network: MinNetwork) -> Vec<Vec<(f64, f64)>> {
    match network {
        MinNetwork::A => {
            vec![vec![(0.0, 0.75), (0.0, 0.25)], vec![(0.5, 0.9), (0.5, 0.5), (0.5, 0.1)], vec![(1.0, 0.5)]]
        }
        MinNetwork::B => vec![
            vec![(0.0, 0.75), (0.0, 0.25)],
            vec![(0.33, 0.95), (0.33, 0.05), (0.33, 0.5)],
            vec![(0.67, 0.75), (0.67, 0.25)],
            vec![(1.0, 0.5)],
        ],
    }
}

/// Names of the neurons of each layer, as in the book.
fn neuron_names(network: MinNetwork) -> Vec<Vec<&'static str>> {
    match network {
        MinNetwork::A => vec![vec!["a1", "a2"], vec!["h1", "h2", "h3"], vec!["y"]],
        MinNetwork::B => vec![vec!["a1", "a2"], vec!["h1", "h2", "h3"], vec!["g1", "g2"], vec!["y"]],
    }
}

/// A number for a diagram label: integers as they are, others to two decimals.
fn short(value: f64) -> String {
    let text = if value == value.round() { format!("{value:.0}") } else { format!("{value:.2}") };
    // No "-0", and a true minus sign.
    if value == 0.0 { "0".to_string() } else { text.replace('-', "−") }
}

/// One network as a graph with the relevance of the worked example on every connection: the
/// message from upper neuron `k` to lower neuron `j` is the rule applied to `R_k` alone,
/// `a_j (w_jk + γ w_jk⁺) / z_k · R_k`, computed by [`LrpGamma::propagate`].
fn network_diagram(network: MinNetwork, table: &mut Table) -> Result<NetworkDiagram> {
    let model = network.network();
    let input = [DIAGONAL_INPUT, DIAGONAL_INPUT];
    let lrp = LrpGamma::new(WORKED_GAMMA)?;
    let explanation = lrp.explain(&model, &input)?;
    let activations = explanation.forward.activations.clone();
    let (positions, names) = (layout(network), neuron_names(network));
    let mut nodes = Vec::new();
    let mut first_of_layer = Vec::new();
    for (l, layer_positions) in positions.iter().enumerate() {
        first_of_layer.push(nodes.len());
        for (i, &position) in layer_positions.iter().enumerate() {
            let (a, r) = (activations[l][i], explanation.relevances[l][i]);
            let note = format!("a={}, R={}", short(a), short(r));
            nodes.push(DiagramNode { name: names[l][i].to_string(), note, position });
        }
    }
    let mut edges = Vec::new();
    for (l, layer) in model.layers().iter().enumerate() {
        let upper = &explanation.relevances[l + 1];
        for k in 0..layer.outputs() {
            let mut only_k = DVector::zeros(layer.outputs());
            only_k[k] = upper[k];
            let messages = lrp.propagate(layer, &activations[l], &only_k)?;
            for j in 0..layer.inputs() {
                let weight = layer.weights()[(k, j)];
                if weight == 0.0 {
                    continue;
                }
                let message = messages[j];
                let (from, to) = (first_of_layer[l] + j, first_of_layer[l + 1] + k);
                table.push_labelled(
                    &format!("{} {}→{}", network.name(), names[l][j], names[l + 1][k]),
                    vec![l as f64 + 1.0, weight, message],
                );
                let sign = if weight > 0.0 { "+" } else { "" };
                edges.push(DiagramEdge {
                    from,
                    to,
                    label: format!("w {sign}{} | R {}", short(weight), short(message)),
                    value: message,
                    label_at: label_position(network, l, j, k),
                });
            }
        }
    }
    let title = format!(
        "network {}: relevance at a1 = a2 = 1, γ = 1 (line width ∝ |R|, red > 0, blue < 0)",
        network.name()
    );
    Ok(NetworkDiagram { title, nodes, edges })
}

/// Where along a connection its label sits, chosen so that no two labels overlap.
fn label_position(network: MinNetwork, layer: usize, from: usize, to: usize) -> f64 {
    match (network, layer, from, to) {
        // Network A: the three connections into each hidden unit fan out from two inputs.
        (MinNetwork::A, 0, 0, _) => 0.62,
        (MinNetwork::A, 0, 1, _) => 0.38,
        (MinNetwork::B, 0, 0, 2) | (MinNetwork::B, 0, 1, 2) => 0.7,
        (MinNetwork::B, 1, 1, 0) => 0.3,
        (MinNetwork::B, 1, 2, 1) => 0.7,
        _ => 0.5,
    }
}

/// Both min-networks as graphs with the relevance of the worked example on every connection.
fn networks(out_dir: &Path) -> Result<FigureFiles> {
    let mut table = Table::with_label_column("connection", ["layer", "weight", "relevance"]);
    let a = network_diagram(MinNetwork::A, &mut table)?;
    let b = network_diagram(MinNetwork::B, &mut table)?;
    Ok(charts::write_figure(out_dir, "ex2_networks", &table, (1000, 820), |area| {
        let (top, bottom) = area.split_vertically(380);
        a.draw(&top)?;
        b.draw(&bottom)
    })?)
}

/// One panel's series of the γ-sweep: for each network and input, the closed form at
/// `line_gammas` as a line and the engine as markers (circles for `R1`, squares for `R2`). `R2`'s
/// engine runs between the points of `engine_gammas` (arithmetic mean next to 0, geometric
/// elsewhere), so that network A's equal `R1` and `R2` markers do not hide each other.
fn sweep_series(line_gammas: &[f64], engine_gammas: &[f64]) -> Result<Vec<(String, Series)>> {
    let between: Vec<f64> = engine_gammas
        .windows(2)
        .map(|w| if w[0] > 0.0 { (w[0] * w[1]).sqrt() } else { 0.5 * (w[0] + w[1]) })
        .collect();
    let mut series = Vec::new();
    for (n, network) in MinNetwork::ALL.into_iter().enumerate() {
        let model = network.network();
        for input in 0..2 {
            let color = series_color(2 * n + input);
            let name = format!("{} R{}", network.name(), input + 1);
            let closed: Vec<(f64, f64)> = line_gammas
                .iter()
                .map(|&gamma| {
                    let r = equal_inputs(network, DIAGONAL_INPUT, gamma)?;
                    Ok((gamma, if input == 0 { r.r1 } else { r.r2 }))
                })
                .collect::<Result<_>>()?;
            let engine_at = if input == 0 { engine_gammas } else { between.as_slice() };
            let engine: Vec<(f64, f64)> = engine_at
                .iter()
                .map(|&gamma| {
                    let r = LrpGamma::new(gamma)?.explain(&model, &[DIAGONAL_INPUT, DIAGONAL_INPUT])?;
                    Ok((gamma, r.input_relevance()[input]))
                })
                .collect::<Result<_>>()?;
            // A's R2 equals its R1: dashed, so the solid R1 line shows through.
            let line = if network == MinNetwork::A && input == 1 {
                Series::dashed(format!("{name} closed form"), closed)
            } else {
                Series::line(format!("{name} closed form"), closed)
            };
            series.push((format!("closed form {name}"), line.with_color(color)));
            let markers = if input == 0 {
                Series::points(format!("{name} engine"), engine)
            } else {
                Series::squares(format!("{name} engine"), engine)
            };
            series.push((format!("engine {name}"), markers.with_color(color)));
        }
    }
    Ok(series)
}

/// `ex2_relevance_vs_gamma`.
fn relevance_vs_gamma(out_dir: &Path) -> Result<FigureFiles> {
    let linear = |n: usize, (low, high): (f64, f64)| -> Vec<f64> {
        (0..n).map(|i| low + (high - low) * i as f64 / (n - 1) as f64).collect()
    };
    let logarithmic =
        |n: usize| -> Vec<f64> { linear(n, LOG_GAMMA_DECADES).into_iter().map(|d| 10f64.powf(d)).collect() };
    let panels = [
        (
            "linear γ",
            Axis::Linear,
            sweep_series(&linear(LINE_POINTS, LINEAR_GAMMA), &linear(ENGINE_POINTS, LINEAR_GAMMA))?,
        ),
        ("log γ", Axis::Log, sweep_series(&logarithmic(LINE_POINTS), &logarithmic(ENGINE_POINTS))?),
    ];
    let mut table = Table::with_label_column("series", ["gamma", "relevance"]);
    let mut charts = Vec::new();
    for (panel, axis, series) in panels {
        let title = format!("R1, R2 at a1 = a2 = {DIAGONAL_INPUT} ({panel})");
        let mut chart =
            LineChart::new(title, "γ", "relevance").with_axes(axis, Axis::Linear).with_y_range(-0.05, 1.15);
        for (name, s) in series {
            for &(gamma, r) in &s.points {
                table.push_labelled(&format!("{panel}: {name}"), vec![gamma, r]);
            }
            chart = chart.with_series(s);
        }
        charts.push(chart);
    }
    Ok(charts::write_figure(out_dir, "ex2_relevance_vs_gamma", &table, (1300, 500), |area| {
        let halves = area.split_evenly((1, 2));
        charts[0].draw(&halves[0])?;
        charts[1].draw(&halves[1])
    })?)
}

/// `ex2_share_network_a` or `ex2_share_network_b`.
fn share_heatmaps(out_dir: &Path, network: MinNetwork) -> Result<FigureFiles> {
    let model = network.network();
    let mut table = Table::new(["gamma", "a1", "a2", "share_r1"]);
    let mut maps = Vec::new();
    for gamma in SHARE_GAMMAS {
        let rule = LrpGamma::new(gamma)?;
        let grid = Grid::try_sample(SHARE_EXTENT, SHARE_EXTENT, SHARE_CELLS, SHARE_CELLS, |a1, a2| {
            // Undefined share (y = 0) becomes NaN on purpose: drawn grey, written as NaN.
            Ok::<f64, Error>(relevance_share(&model, a1, a2, &rule)?.unwrap_or(f64::NAN))
        })?;
        for (a1, a2, share) in cells(&grid) {
            table.push(vec![gamma, a1, a2, share]);
        }
        let title = format!("Network {}: R1/(R1+R2), γ = {gamma}", network.name());
        maps.push(
            Heatmap::new(title, "a1", "a2", grid)
                .with_scale(ColorScale::Diverging)
                .with_value_range(0.0, 1.0)
                .with_value_label("share of a1"),
        );
    }
    let stem = format!("ex2_share_network_{}", network.name().to_lowercase());
    Ok(charts::write_figure(out_dir, &stem, &table, (1500, 470), |area| {
        for (panel, map) in area.split_evenly((1, 3)).iter().zip(&maps) {
            map.draw(panel)?;
        }
        Ok(())
    })?)
}

/// `ex2_outside_domain`.
fn outside_domain(out_dir: &Path) -> Result<FigureFiles> {
    let mut table = Table::with_label_column("network", ["a1", "a2", "y_minus_min"]);
    let mut maps = Vec::new();
    for network in MinNetwork::ALL {
        let model = network.network();
        let grid =
            Grid::try_sample(OUTSIDE_EXTENT, OUTSIDE_EXTENT, OUTSIDE_CELLS, OUTSIDE_CELLS, |a1, a2| {
                Ok::<f64, Error>(model.evaluate(&[a1, a2])?[0] - a1.min(a2))
            })?;
        for (a1, a2, difference) in cells(&grid) {
            table.push_labelled(network.name(), vec![a1, a2, difference]);
        }
        let title = format!("Network {}: y − min(a1, a2)", network.name());
        maps.push(
            Heatmap::new(title, "a1", "a2", grid)
                .with_scale(ColorScale::Diverging)
                .with_value_range(-2.0, 2.0)
                .with_value_label("y − min"),
        );
    }
    Ok(charts::write_figure(out_dir, "ex2_outside_domain", &table, (1100, 470), |area| {
        for (panel, map) in area.split_evenly((1, 2)).iter().zip(&maps) {
            map.draw(panel)?;
        }
        Ok(())
    })?)
}

/// Every cell of `grid` as `(x, y, value)`, in the grid's row-major order.
fn cells(grid: &Grid) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
    (0..grid.ny).flat_map(move |j| {
        (0..grid.nx).map(move |i| (grid.x_at(i), grid.y_at(j), grid.values[j * grid.nx + i]))
    })
}
