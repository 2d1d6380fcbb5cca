//! Figures for the book, drawn with [plotters] into PNG files without system fonts.
//!
//! Every figure is written together with a CSV of exactly the data it plots, under the same
//! file stem, so a reader can re-plot it with any other tool:
//!
//! ```no_run
//! use charts::{LineChart, Series, Table};
//!
//! let points: Vec<(f64, f64)> = (0..=10).map(|i| (i as f64, (i * i) as f64)).collect();
//! let table = Table::from_series("x", "y", &[("square", points.as_slice())]);
//! let chart = LineChart::new("x²", "x", "y").with_series(Series::line("square", points.clone()));
//! let files = charts::write_figure(std::path::Path::new("figures"), "square", &table, (640, 480), |area| {
//!     chart.draw(area)
//! })?;
//! println!("{} and {}", files.png.display(), files.csv.display());
//! # Ok::<(), charts::Error>(())
//! ```
//!
//! Text is rendered by `ab_glyph` from DejaVu Sans embedded in the binary (the `dejavu` crate):
//! plotters' default `ttf` feature needs fontconfig at build and run time, which a fresh
//! machine does not have.

pub mod colors;
mod error;
mod figure;
mod fonts;
mod heatmap;
mod line_chart;
mod network_diagram;
mod table;

pub use colors::{ColorScale, series_color};
pub use error::{Error, Result};
pub use figure::{Area, FigureFiles, write_figure};
pub use fonts::register_fonts;
pub use heatmap::{Grid, Heatmap};
pub use line_chart::{Axis, LegendPosition, LineChart, Series, SeriesStyle};
pub use network_diagram::{DiagramEdge, DiagramNode, NetworkDiagram};
pub use table::Table;
