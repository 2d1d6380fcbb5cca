//! Colour scales for heatmaps and a palette for series.

use plotters::style::RGBColor;

/// How a heatmap maps values to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorScale {
    /// Perceptually uniform dark-blue → green → yellow (matplotlib's viridis, piecewise linear).
    Viridis,
    /// Dark blue → white → dark red, white at the middle of the range (matplotlib's seismic).
    Diverging,
}

/// Anchor colours of matplotlib's viridis at t = 0, 0.25, 0.5, 0.75, 1.
const VIRIDIS: [[f64; 3]; 5] = [
    [0.267, 0.005, 0.329],
    [0.229, 0.322, 0.546],
    [0.128, 0.567, 0.551],
    [0.370, 0.789, 0.383],
    [0.993, 0.906, 0.144],
];

/// Anchor colours of matplotlib's `seismic` at t = 0, 0.25, 0.5, 0.75, 1 (its `_seismic_data`):
/// the one definition of the map, which the explainer's heatmaps darken as the sheet does.
pub const SEISMIC: [[f64; 3]; 5] =
    [[0.0, 0.0, 0.3], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]];

impl ColorScale {
    /// The colour at `t ∈ [0, 1]` (clamped; NaN maps to grey).
    pub fn color(self, t: f64) -> RGBColor {
        if t.is_nan() {
            return RGBColor(128, 128, 128);
        }
        let anchors = match self {
            Self::Viridis => &VIRIDIS,
            Self::Diverging => &SEISMIC,
        };
        let t = t.clamp(0.0, 1.0) * (anchors.len() - 1) as f64;
        let i = (t.floor() as usize).min(anchors.len() - 2);
        let f = t - i as f64;
        let channel = |c: usize| {
            let v = anchors[i][c] * (1.0 - f) + anchors[i + 1][c] * f;
            (v * 255.0).round() as u8
        };
        RGBColor(channel(0), channel(1), channel(2))
    }
}

/// Ten distinct colours (Tableau 10) for series; `index` wraps around.
pub fn series_color(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[index % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_is_white_in_the_middle_and_clamps() {
        assert_eq!(ColorScale::Diverging.color(0.5), RGBColor(255, 255, 255));
        assert_eq!(ColorScale::Diverging.color(-3.0), ColorScale::Diverging.color(0.0));
        assert_eq!(ColorScale::Viridis.color(1.0), RGBColor(253, 231, 37));
    }
}
