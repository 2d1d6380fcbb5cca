//! Heatmaps of a function sampled on a regular 2-D grid, with optional contour bands,
//! overlaid series and a colour bar.

use plotters::prelude::*;

use crate::{Area, ColorScale, Error, Result, Series, Table, fonts::FAMILY, series_color};

/// Values of a function at the centres of an `nx × ny` grid of cells covering
/// `[x.0, x.1] × [y.0, y.1]`; `values[j * nx + i]` belongs to cell column `i`, row `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Horizontal extent.
    pub x: (f64, f64),
    /// Vertical extent.
    pub y: (f64, f64),
    /// Number of cells horizontally.
    pub nx: usize,
    /// Number of cells vertically.
    pub ny: usize,
    /// Row-major values, `nx * ny` of them.
    pub values: Vec<f64>,
}

impl Grid {
    /// Samples `f(x, y)` at every cell centre.
    pub fn sample(x: (f64, f64), y: (f64, f64), nx: usize, ny: usize, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut values = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            for i in 0..nx {
                values.push(f(Self::centre(x, nx, i), Self::centre(y, ny, j)));
            }
        }
        Self { x, y, nx, ny, values }
    }

    /// Like [`Grid::sample`] for a fallible `f`; the first error is returned.
    pub fn try_sample<E>(
        x: (f64, f64),
        y: (f64, f64),
        nx: usize,
        ny: usize,
        f: impl Fn(f64, f64) -> std::result::Result<f64, E>,
    ) -> std::result::Result<Self, E> {
        let mut values = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            for i in 0..nx {
                values.push(f(Self::centre(x, nx, i), Self::centre(y, ny, j))?);
            }
        }
        Ok(Self { x, y, nx, ny, values })
    }

    /// The horizontal coordinate of cell column `i`'s centre.
    pub fn x_at(&self, i: usize) -> f64 {
        Self::centre(self.x, self.nx, i)
    }

    /// The vertical coordinate of cell row `j`'s centre.
    pub fn y_at(&self, j: usize) -> f64 {
        Self::centre(self.y, self.ny, j)
    }

    /// Smallest and largest finite value.
    pub fn finite_range(&self) -> Option<(f64, f64)> {
        let finite = self.values.iter().copied().filter(|v| v.is_finite());
        let (low, high) =
            finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        low.is_finite().then_some((low, high))
    }

    /// Appends the grid to a table with columns `x, y, value` (see [`Grid::to_table`]).
    pub fn append_to(&self, table: &mut Table) {
        for j in 0..self.ny {
            for i in 0..self.nx {
                table.push(vec![self.x_at(i), self.y_at(j), self.values[j * self.nx + i]]);
            }
        }
    }

    /// The grid in long format: one row `x, y, value_name` per cell.
    pub fn to_table(&self, x_name: &str, y_name: &str, value_name: &str) -> Table {
        let mut table = Table::new([x_name, y_name, value_name]);
        self.append_to(&mut table);
        table
    }

    /// The line segments of the level set `value = level`, by marching squares over the cells
    /// whose corners are four neighbouring cell centres (linear interpolation along each side;
    /// a saddle is split by the mean of its corners). Non-finite corners end the line.
    pub fn contour_segments(&self, level: f64) -> Vec<((f64, f64), (f64, f64))> {
        let mut segments = Vec::new();
        if self.nx < 2 || self.ny < 2 {
            return segments;
        }
        let at = |i: usize, j: usize| self.values[j * self.nx + i];
        for j in 0..self.ny - 1 {
            for i in 0..self.nx - 1 {
                // Corners counter-clockwise from the lower left: (i, j), (i+1, j), (i+1, j+1), (i, j+1).
                let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let values = corners.map(|(ci, cj)| at(ci, cj));
                if values.iter().any(|v| !v.is_finite()) {
                    continue;
                }
                let points = corners.map(|(ci, cj)| (self.x_at(ci), self.y_at(cj)));
                // Where the level crosses side k (from corner k to corner k+1).
                let crossing = |k: usize| {
                    let (a, b) = (values[k], values[(k + 1) % 4]);
                    if (a < level) == (b < level) {
                        return None;
                    }
                    let t = (level - a) / (b - a);
                    let (p, q) = (points[k], points[(k + 1) % 4]);
                    Some((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)))
                };
                let crossings: Vec<(usize, (f64, f64))> =
                    (0..4).filter_map(|k| crossing(k).map(|p| (k, p))).collect();
                match crossings.as_slice() {
                    [(_, a), (_, b)] => segments.push((*a, *b)),
                    [(_, a), (_, b), (_, c), (_, d)] => {
                        // Saddle: corner 0's side of the level joins the crossings around it
                        // when the centre is on the other side.
                        let centre_below = values.iter().sum::<f64>() / 4.0 < level;
                        if (values[0] < level) == centre_below {
                            segments.push((*a, *b));
                            segments.push((*c, *d));
                        } else {
                            segments.push((*a, *d));
                            segments.push((*b, *c));
                        }
                    }
                    _ => {}
                }
            }
        }
        segments
    }

    fn centre((low, high): (f64, f64), n: usize, i: usize) -> f64 {
        low + (i as f64 + 0.5) * (high - low) / n as f64
    }

    fn cell_width(&self) -> (f64, f64) {
        ((self.x.1 - self.x.0) / self.nx as f64, (self.y.1 - self.y.0) / self.ny as f64)
    }
}

/// A heatmap panel: the grid in colour, optional contour bands, overlays and a colour bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Title above the panel.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// The sampled values.
    pub grid: Grid,
    /// Colour scale.
    pub scale: ColorScale,
    /// Values mapped to the ends of the scale; `None` uses the grid's finite range
    /// (for [`ColorScale::Diverging`], symmetric around 0).
    pub value_range: Option<(f64, f64)>,
    /// Quantise into this many equal bands, and draw a contour line at every band edge.
    pub levels: Option<usize>,
    /// What the colours mean, written above the colour bar (e.g. `g(x)`).
    pub value_label: String,
    /// Lines or points drawn over the map (prototypes, optimiser paths, support vectors).
    pub overlays: Vec<Series>,
}

impl Heatmap {
    /// A viridis heatmap of `grid` without bands or overlays.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        grid: Grid,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            grid,
            scale: ColorScale::Viridis,
            value_range: None,
            levels: None,
            value_label: String::new(),
            overlays: Vec::new(),
        }
    }

    /// Names the quantity the colours show (written above the colour bar).
    pub fn with_value_label(mut self, label: impl Into<String>) -> Self {
        self.value_label = label.into();
        self
    }

    /// Sets the colour scale.
    pub fn with_scale(mut self, scale: ColorScale) -> Self {
        self.scale = scale;
        self
    }

    /// Fixes the value range mapped to the colour scale.
    pub fn with_value_range(mut self, low: f64, high: f64) -> Self {
        self.value_range = Some((low, high));
        self
    }

    /// Quantises the colours into `levels` bands (filled contours).
    pub fn with_levels(mut self, levels: usize) -> Self {
        self.levels = Some(levels);
        self
    }

    /// Adds an overlay.
    pub fn with_overlay(mut self, series: Series) -> Self {
        self.overlays.push(series);
        self
    }

    /// The position of `value` on the colour scale, in `[0, 1]`.
    fn normalise(&self, value: f64, (low, high): (f64, f64)) -> f64 {
        let t = if high > low { (value - low) / (high - low) } else { 0.5 };
        match self.levels {
            Some(levels) if levels > 1 => {
                let band = (t.clamp(0.0, 1.0) * levels as f64).floor().min(levels as f64 - 1.0);
                (band + 0.5) / levels as f64
            }
            _ => t,
        }
    }

    fn resolved_range(&self) -> Result<(f64, f64)> {
        if let Some(range) = self.value_range {
            return Ok(range);
        }
        let (low, high) = self
            .grid
            .finite_range()
            .ok_or_else(|| Error::InvalidData(format!("heatmap '{}' has no finite value", self.title)))?;
        Ok(match self.scale {
            ColorScale::Diverging => {
                let bound = low.abs().max(high.abs());
                (-bound, bound)
            }
            ColorScale::Viridis => (low, high),
        })
    }

    /// Draws the heatmap with a colour bar on its right onto `area`.
    pub fn draw(&self, area: &Area) -> Result<()> {
        let grid = &self.grid;
        if grid.values.len() != grid.nx * grid.ny || grid.nx == 0 || grid.ny == 0 {
            return Err(Error::InvalidData(format!("heatmap '{}' needs nx·ny values", self.title)));
        }
        let range = self.resolved_range()?;
        let (width, _) = area.dim_in_pixel();
        let (map_area, bar_area) = area.split_horizontally(width.saturating_sub(90));

        let mut chart = ChartBuilder::on(&map_area)
            .caption(&self.title, (FAMILY, 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(grid.x.0..grid.x.1, grid.y.0..grid.y.1)
            .map_err(Error::draw)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FAMILY, 13))
            .x_label_formatter(&|v| crate::line_chart::tick_label(*v))
            .y_label_formatter(&|v| crate::line_chart::tick_label(*v))
            .draw()
            .map_err(Error::draw)?;
        let (dx, dy) = grid.cell_width();
        let cells = (0..grid.ny).flat_map(|j| (0..grid.nx).map(move |i| (i, j))).map(|(i, j)| {
            let (x, y) = (grid.x.0 + i as f64 * dx, grid.y.0 + j as f64 * dy);
            let color = self.scale.color(self.normalise(grid.values[j * grid.nx + i], range));
            Rectangle::new([(x, y), (x + dx, y + dy)], color.filled())
        });
        chart.draw_series(cells).map_err(Error::draw)?;
        if let Some(levels) = self.levels.filter(|&l| l > 1) {
            let lines = (1..levels).flat_map(|k| {
                let level = range.0 + (range.1 - range.0) * k as f64 / levels as f64;
                grid.contour_segments(level)
            });
            let style = RGBColor(20, 20, 20).mix(0.55).stroke_width(1);
            chart
                .draw_series(lines.map(|(a, b)| PathElement::new(vec![a, b], style)))
                .map_err(Error::draw)?;
        }
        for (k, overlay) in self.overlays.iter().enumerate() {
            let color = overlay.color.unwrap_or_else(|| series_color(k + 3));
            overlay.draw_on(&mut chart, color)?;
        }
        if self.overlays.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(Error::draw)?;
        }
        self.draw_color_bar(&bar_area, range)
    }

    fn draw_color_bar(&self, area: &Area, (low, high): (f64, f64)) -> Result<()> {
        const STEPS: usize = 100;
        if !self.value_label.is_empty() {
            let style =
                TextStyle::from((FAMILY, 13).into_font()).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Top,
                ));
            area.draw_text(&self.value_label, &style, (2, 14)).map_err(Error::draw)?;
        }
        // The strip, in pixels: 38 below the top (the value label), 50 above the bottom (level
        // with the map's x axis), 18 wide; tick labels to its right.
        let (width, height) = area.dim_in_pixel();
        let (left, right) = (4, 22);
        let (top, bottom) = (38, height as i32 - 50);
        if bottom <= top || width < 40 {
            return Err(Error::InvalidData(format!("heatmap '{}': no room for the colour bar", self.title)));
        }
        let to_y = |v: f64| bottom - ((v - low) / (high - low) * f64::from(bottom - top)).round() as i32;
        let step = (high - low) / STEPS as f64;
        for k in 0..STEPS {
            let v = low + k as f64 * step;
            let color = self.scale.color(self.normalise(v + 0.5 * step, (low, high)));
            area.draw(&Rectangle::new([(left, to_y(v + step)), (right, to_y(v))], color.filled()))
                .map_err(Error::draw)?;
        }
        area.draw(&Rectangle::new([(left, top), (right, bottom)], BLACK.stroke_width(1)))
            .map_err(Error::draw)?;
        let label = TextStyle::from((FAMILY, 12).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        for tick in ticks(low, high) {
            let y = to_y(tick);
            area.draw(&PathElement::new(vec![(right, y), (right + 4, y)], BLACK.stroke_width(1)))
                .map_err(Error::draw)?;
            area.draw_text(&crate::line_chart::tick_label(tick), &label, (right + 7, y))
                .map_err(Error::draw)?;
        }
        Ok(())
    }
}

/// Round tick values inside `[low, high]`: multiples of 1, 2 or 5 times a power of ten, about
/// eight of them.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    if high <= low || !low.is_finite() || !high.is_finite() {
        return vec![low];
    }
    let rough = (high - low) / 8.0;
    let power = 10f64.powf(rough.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write_figure;

    #[test]
    fn colour_bar_ticks_are_round_and_inside_the_range() {
        assert_eq!(ticks(-0.74, 6.0), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(ticks(0.0, 1.0), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(ticks(-9.3, -1.3), (-9..=-2).map(f64::from).collect::<Vec<_>>());
        assert_eq!(ticks(1.0, 1.0), vec![1.0]);
    }

    #[test]
    fn grid_samples_cell_centres_row_major() {
        let grid = Grid::sample((0.0, 2.0), (0.0, 1.0), 2, 1, |x, y| 10.0 * x + y);
        assert_eq!(grid.values, vec![10.0 * 0.5 + 0.5, 10.0 * 1.5 + 0.5]);
        assert_eq!(grid.to_table("x", "y", "f").len(), 2);
    }

    #[test]
    fn draws_banded_diverging_heatmap_with_overlay() {
        let dir = tempfile::tempdir().unwrap();
        let grid = Grid::sample((-1.0, 1.0), (-1.0, 1.0), 40, 40, |x, y| x * y);
        let map = Heatmap::new("xy", "x", "y", grid.clone())
            .with_scale(ColorScale::Diverging)
            .with_levels(8)
            .with_overlay(Series::points("origin", vec![(0.0, 0.0)]));
        let files =
            write_figure(dir.path(), "xy", &grid.to_table("x", "y", "xy"), (500, 400), |a| map.draw(a))
                .unwrap();
        assert!(files.png.exists());
    }

    #[test]
    fn contour_segments_lie_on_the_level_set() {
        // f = x + y: the level set 1 is the line x + y = 1, crossed by the diagonal cells.
        let grid = Grid::sample((0.0, 1.0), (0.0, 1.0), 10, 10, |x, y| x + y);
        let segments = grid.contour_segments(1.0);
        assert!(!segments.is_empty());
        for (a, b) in &segments {
            assert!((a.0 + a.1 - 1.0).abs() < 1e-12 && (b.0 + b.1 - 1.0).abs() < 1e-12);
        }
        // Above the range: no line.
        assert!(grid.contour_segments(5.0).is_empty());
    }

    #[test]
    fn banding_maps_to_band_centres() {
        let map =
            Heatmap::new("", "", "", Grid::sample((0.0, 1.0), (0.0, 1.0), 1, 1, |_, _| 0.0)).with_levels(4);
        assert_eq!(map.normalise(0.1, (0.0, 1.0)), 0.125);
        assert_eq!(map.normalise(1.0, (0.0, 1.0)), 0.875);
    }
}
