//! Line and scatter charts with linear or logarithmic axes.

use plotters::prelude::*;

use crate::{Area, Error, Result, fonts::FAMILY, series_color};

/// Scale of one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Axis {
    /// Evenly spaced values.
    #[default]
    Linear,
    /// Evenly spaced powers of ten; every plotted value on this axis must be positive.
    Log,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A solid polyline through the points in order.
    Line,
    /// A dashed polyline (e.g. a bound next to the measured curve).
    Dashed,
    /// A filled circle with a dark outline per point (shows on top of a line of its colour).
    Points,
    /// A filled square with a dark outline per point (a second marker shape).
    Squares,
    /// Small hollow circles joined by a line (an optimiser's path).
    Path,
}

/// One named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend; an empty label keeps the series out of the legend.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Line, dashes, points or path.
    pub style: SeriesStyle,
    /// Explicit colour; `None` takes the next palette colour.
    pub color: Option<RGBColor>,
    /// Text written next to each point, in order (fewer texts than points: the rest unlabelled).
    pub annotations: Vec<String>,
}

/// Where a chart's legend sits, inside the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendPosition {
    /// Top right corner.
    #[default]
    UpperRight,
    /// Top left corner.
    UpperLeft,
    /// Bottom right corner.
    LowerRight,
    /// Bottom left corner.
    LowerLeft,
}

impl LegendPosition {
    fn plotters(self) -> SeriesLabelPosition {
        match self {
            Self::UpperRight => SeriesLabelPosition::UpperRight,
            Self::UpperLeft => SeriesLabelPosition::UpperLeft,
            Self::LowerRight => SeriesLabelPosition::LowerRight,
            Self::LowerLeft => SeriesLabelPosition::LowerLeft,
        }
    }
}

/// Radius of a point marker, in pixels.
const MARKER: i32 = 4;
/// Outline of point markers.
const OUTLINE: RGBColor = RGBColor(40, 40, 40);

impl Series {
    /// A solid line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::styled(label, points, SeriesStyle::Line)
    }

    /// A dashed line.
    pub fn dashed(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::styled(label, points, SeriesStyle::Dashed)
    }

    /// Points without lines.
    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::styled(label, points, SeriesStyle::Points)
    }

    /// Points joined by a thin line.
    pub fn path(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::styled(label, points, SeriesStyle::Path)
    }

    /// Squares without lines.
    pub fn squares(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::styled(label, points, SeriesStyle::Squares)
    }

    fn styled(label: impl Into<String>, points: Vec<(f64, f64)>, style: SeriesStyle) -> Self {
        Self { label: label.into(), points, style, color: None, annotations: Vec::new() }
    }

    /// The same series with a text next to each point (e.g. its number).
    pub fn with_annotations(mut self, annotations: Vec<String>) -> Self {
        self.annotations = annotations;
        self
    }

    /// The same series in `color`.
    pub fn with_color(mut self, color: RGBColor) -> Self {
        self.color = Some(color);
        self
    }

    /// Draws this series on any 2-D cartesian chart whose coordinates are `f64`.
    pub(crate) fn draw_on<'a, DB, X, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
        color: RGBColor,
    ) -> Result<()>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        let points = self.points.iter().copied();
        let square = |(x, y): (i32, i32), fill: ShapeStyle, border: ShapeStyle| {
            let corners = [(x - MARKER, y - MARKER), (x + MARKER, y + MARKER)];
            EmptyElement::at((0, 0)) + Rectangle::new(corners, fill) + Rectangle::new(corners, border)
        };
        let annotation = match self.style {
            SeriesStyle::Line => chart.draw_series(LineSeries::new(points, color.stroke_width(2))),
            SeriesStyle::Dashed => {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, color.stroke_width(2)))
            }
            SeriesStyle::Points => chart.draw_series(points.map(|p| {
                EmptyElement::at(p)
                    + Circle::new((0, 0), MARKER, color.filled())
                    + Circle::new((0, 0), MARKER, OUTLINE.stroke_width(1))
            })),
            SeriesStyle::Squares => chart.draw_series(
                points.map(|p| EmptyElement::at(p) + square((0, 0), color.filled(), OUTLINE.stroke_width(1))),
            ),
            SeriesStyle::Path => {
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(1)))
                    .map_err(Error::draw)?;
                chart.draw_series(points.map(|p| Circle::new(p, 2, color.stroke_width(1))))
            }
        }
        .map_err(Error::draw)?;
        if !self.label.is_empty() {
            let style = self.style;
            annotation.label(self.label.clone()).legend(move |(x, y)| {
                // The same parts for every style, the unused ones invisible: a line in two
                // pieces (a gap for dashes), a circle and a square, each filled and outlined.
                let invisible = TRANSPARENT.stroke_width(0);
                let (line, gap) = match style {
                    SeriesStyle::Line => (color.stroke_width(2), color.stroke_width(2)),
                    SeriesStyle::Dashed => (color.stroke_width(2), invisible),
                    SeriesStyle::Path => (color.stroke_width(1), color.stroke_width(1)),
                    SeriesStyle::Points | SeriesStyle::Squares => (invisible, invisible),
                };
                let (circle, circle_border, radius) = match style {
                    SeriesStyle::Points => (color.filled(), OUTLINE.stroke_width(1), MARKER),
                    SeriesStyle::Path => (WHITE.filled(), color.stroke_width(1), 2),
                    _ => (invisible, invisible, 0),
                };
                let (square_fill, square_border) = match style {
                    SeriesStyle::Squares => (color.filled(), OUTLINE.stroke_width(1)),
                    _ => (invisible, invisible),
                };
                let corners = [(8 - MARKER, -MARKER), (8 + MARKER, MARKER)];
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (6, 0)], line)
                    + PathElement::new(vec![(6, 0), (10, 0)], gap)
                    + PathElement::new(vec![(10, 0), (16, 0)], line)
                    + Circle::new((8, 0), radius, circle)
                    + Circle::new((8, 0), radius, circle_border)
                    + Rectangle::new(corners, square_fill)
                    + Rectangle::new(corners, square_border)
            });
        }
        if !self.annotations.is_empty() {
            let style = TextStyle::from((FAMILY, 14).into_font()).color(&OUTLINE);
            let labelled = self.points.iter().zip(&self.annotations).map(|(&p, text)| {
                EmptyElement::at(p) + Text::new(text.clone(), (MARKER + 3, -MARKER - 14), style.clone())
            });
            chart.draw_series(labelled).map_err(Error::draw)?;
        }
        Ok(())
    }
}

/// A chart of several series over shared axes, with title, axis labels and legend.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Scale of the horizontal axis.
    pub x_axis: Axis,
    /// Scale of the vertical axis.
    pub y_axis: Axis,
    /// Fixed horizontal range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed vertical range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// The series, drawn in order.
    pub series: Vec<Series>,
    /// Where the legend sits.
    pub legend: LegendPosition,
}

impl LineChart {
    /// An empty chart with linear axes.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Self { title: title.into(), x_label: x_label.into(), y_label: y_label.into(), ..Self::default() }
    }

    /// Adds a series.
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Sets the axis scales.
    pub fn with_axes(mut self, x_axis: Axis, y_axis: Axis) -> Self {
        self.x_axis = x_axis;
        self.y_axis = y_axis;
        self
    }

    /// Moves the legend.
    pub fn with_legend(mut self, position: LegendPosition) -> Self {
        self.legend = position;
        self
    }

    /// Fixes the horizontal range.
    pub fn with_x_range(mut self, low: f64, high: f64) -> Self {
        self.x_range = Some((low, high));
        self
    }

    /// Fixes the vertical range.
    pub fn with_y_range(mut self, low: f64, high: f64) -> Self {
        self.y_range = Some((low, high));
        self
    }

    /// Draws the chart onto `area` (the whole figure or one panel of it).
    pub fn draw(&self, area: &Area) -> Result<()> {
        let x = self.range(|p| p.0, self.x_range, self.x_axis)?;
        let y = self.range(|p| p.1, self.y_range, self.y_axis)?;
        macro_rules! draw_with {
            ($x:expr, $y:expr) => {{
                let mut chart = ChartBuilder::on(area)
                    .caption(&self.title, (FAMILY, 18))
                    .margin(10)
                    .x_label_area_size(40)
                    .y_label_area_size(60)
                    .build_cartesian_2d($x, $y)
                    .map_err(Error::draw)?;
                chart
                    .configure_mesh()
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .label_style((FAMILY, 13))
                    .x_labels(8)
                    .y_labels(8)
                    .x_label_formatter(&|v| tick_label(*v))
                    .y_label_formatter(&|v| tick_label(*v))
                    .light_line_style(RGBColor(240, 240, 240))
                    .draw()
                    .map_err(Error::draw)?;
                for (i, series) in self.series.iter().enumerate() {
                    series.draw_on(&mut chart, series.color.unwrap_or_else(|| series_color(i)))?;
                }
                if self.series.iter().any(|s| !s.label.is_empty()) {
                    chart
                        .configure_series_labels()
                        .label_font((FAMILY, 13))
                        .background_style(WHITE.mix(0.85))
                        .border_style(BLACK)
                        .position(self.legend.plotters())
                        .draw()
                        .map_err(Error::draw)?;
                }
                Ok(())
            }};
        }
        match (self.x_axis, self.y_axis) {
            (Axis::Linear, Axis::Linear) => draw_with!(x.0..x.1, y.0..y.1),
            (Axis::Log, Axis::Linear) => draw_with!((x.0..x.1).log_scale(), y.0..y.1),
            (Axis::Linear, Axis::Log) => draw_with!(x.0..x.1, (y.0..y.1).log_scale()),
            (Axis::Log, Axis::Log) => draw_with!((x.0..x.1).log_scale(), (y.0..y.1).log_scale()),
        }
    }

    /// The range of one coordinate: the fixed one, or the data's with 5 % padding.
    fn range(
        &self,
        coordinate: impl Fn(&(f64, f64)) -> f64,
        fixed: Option<(f64, f64)>,
        axis: Axis,
    ) -> Result<(f64, f64)> {
        if let Some(range) = fixed {
            return Ok(range);
        }
        let values =
            self.series.iter().flat_map(|s| s.points.iter().map(&coordinate)).filter(|v| v.is_finite());
        let (low, high) =
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !low.is_finite() {
            return Err(Error::InvalidData(format!("chart '{}' has no finite points", self.title)));
        }
        match axis {
            Axis::Linear => {
                let pad = if high > low { 0.05 * (high - low) } else { 0.5 * low.abs().max(1.0) };
                Ok((low - pad, high + pad))
            }
            Axis::Log => {
                if low <= 0.0 {
                    return Err(Error::InvalidData(format!(
                        "chart '{}' has values ≤ 0 on a log axis",
                        self.title
                    )));
                }
                Ok((low / 1.2, high * 1.2))
            }
        }
    }
}

/// A short tick label: plain for moderate magnitudes, scientific (`1e-6`) otherwise.
pub(crate) fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e5).contains(&magnitude) {
        let text = format!("{value:.1e}");
        text.replace(".0e", "e")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Table, write_figure};

    #[test]
    fn draws_linear_and_log_charts() {
        let dir = tempfile::tempdir().unwrap();
        let points: Vec<(f64, f64)> = (1..=20).map(|i| (i as f64, 1.0 / i as f64)).collect();
        for axes in [(Axis::Linear, Axis::Linear), (Axis::Log, Axis::Log)] {
            let chart = LineChart::new("1/x", "x", "y")
                .with_axes(axes.0, axes.1)
                .with_series(Series::line("1/x", points.clone()))
                .with_series(Series::points("", points.clone()));
            let table = Table::from_series("x", "y", &[("1/x", &points)]);
            write_figure(dir.path(), "inverse", &table, (400, 300), |area| chart.draw(area)).unwrap();
        }
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(2.0), "2");
        assert_eq!(tick_label(1e-6), "1e-6");
        assert_eq!(tick_label(3.5e8), "3.5e8");
    }

    #[test]
    fn log_axis_rejects_non_positive_values() {
        let chart = LineChart::new("bad", "x", "y")
            .with_axes(Axis::Log, Axis::Linear)
            .with_series(Series::line("", vec![(0.0, 1.0), (1.0, 2.0)]));
        let dir = tempfile::tempdir().unwrap();
        let result = write_figure(dir.path(), "bad", &Table::new(["x"]), (100, 100), |a| chart.draw(a));
        assert!(matches!(result, Err(Error::InvalidData(_))));
    }
}
