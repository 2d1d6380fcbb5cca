//! Draws a sample line chart and heatmap into a directory, to look at the styling.
use charts::*;
fn main() -> Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "preview".into()));
    let pts: Vec<(f64, f64)> = (1..=50).map(|i| (i as f64, (i as f64).sqrt())).collect();
    let chart = LineChart::new("√x and a bound", "x", "y")
        .with_axes(Axis::Log, Axis::Log)
        .with_series(Series::line("√x", pts.clone()))
        .with_series(Series::dashed("bound", pts.iter().map(|&(x, y)| (x, 1.5 * y)).collect()));
    let grid = Grid::sample((-2.0, 2.0), (-2.0, 2.0), 120, 120, |x, y| -(x * x + 2.0 * y * y) + x);
    let map = Heatmap::new("f(x) − Ω(x)", "x₁", "x₂", grid.clone())
        .with_levels(12)
        .with_overlay(Series::path("ascent", vec![(-1.5, 1.5), (-0.5, 0.5), (0.5, 0.0)]))
        .with_overlay(Series::points("x*", vec![(0.5, 0.0)]));
    let table = Table::from_series("x", "y", &[("sqrt", &pts)]);
    write_figure(&dir, "preview", &table, (1100, 450), |area| {
        let panels = area.split_evenly((1, 2));
        chart.draw(&panels[0])?;
        map.draw(&panels[1])
    })?;
    Ok(())
}
