//! Small neural networks drawn as graphs: neurons as circles, connections as lines labelled with
//! their weight, and a value per connection (e.g. the relevance sent along it) shown by the
//! line's width, colour and a number.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Area, Error, Result, fonts::FAMILY};

/// Radius of a neuron's circle, in pixels.
const NODE_RADIUS: i32 = 21;
/// Width of the line of the largest `|value|`, in pixels (the smallest non-zero is 1.5).
const MAX_WIDTH: f64 = 9.0;
/// Margin around the drawing, in pixels (below the title).
const MARGIN: i32 = 40;
/// Colours of positive, negative and zero values.
const POSITIVE: RGBColor = RGBColor(214, 39, 40);
const NEGATIVE: RGBColor = RGBColor(31, 119, 180);
const ZERO: RGBColor = RGBColor(170, 170, 170);

/// One neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagramNode {
    /// Written inside the circle (`a1`, `h2`, `y`).
    pub name: String,
    /// Written below the circle (activation and relevance).
    pub note: String,
    /// Position in `[0, 1]²`, `(0, 0)` bottom left.
    pub position: (f64, f64),
}

/// One connection, drawn from `from` to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagramEdge {
    /// Index of the lower neuron in [`NetworkDiagram::nodes`].
    pub from: usize,
    /// Index of the upper neuron.
    pub to: usize,
    /// Written on the line (the weight, the value).
    pub label: String,
    /// The value carried (sets the line's width and colour: red positive, blue negative, grey 0).
    pub value: f64,
    /// Where along the line its label sits, from 0 (at `from`) to 1 (at `to`).
    pub label_at: f64,
}

/// A network as a graph with one title.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkDiagram {
    /// Title above the drawing.
    pub title: String,
    /// The neurons.
    pub nodes: Vec<DiagramNode>,
    /// The connections.
    pub edges: Vec<DiagramEdge>,
}

impl NetworkDiagram {
    /// Draws the diagram onto `area`: lines first, then the neurons over them, then the labels.
    pub fn draw(&self, area: &Area) -> Result<()> {
        if let Some(edge) = self.edges.iter().find(|e| e.from >= self.nodes.len() || e.to >= self.nodes.len())
        {
            return Err(Error::InvalidData(format!(
                "diagram '{}': edge {} → {} names a missing node",
                self.title, edge.from, edge.to
            )));
        }
        if self.edges.iter().any(|e| !e.value.is_finite()) || self.nodes.iter().any(|n| !finite(n.position)) {
            return Err(Error::InvalidData(format!("diagram '{}' has non-finite values", self.title)));
        }
        let (width, height) = area.dim_in_pixel();
        let (width, height) = (width as i32, height as i32);
        let title = TextStyle::from((FAMILY, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw_text(&self.title, &title, (width / 2, 6)).map_err(Error::draw)?;
        let top = MARGIN;
        let pixel = |(x, y): (f64, f64)| {
            let x = NODE_RADIUS * 2 + (x * f64::from(width - 4 * NODE_RADIUS)).round() as i32;
            let y = top + ((1.0 - y) * f64::from(height - top - MARGIN)).round() as i32;
            (x, y)
        };
        let largest = self.edges.iter().map(|e| e.value.abs()).fold(0.0, f64::max);
        for edge in &self.edges {
            let (from, to) = (pixel(self.nodes[edge.from].position), pixel(self.nodes[edge.to].position));
            let (color, stroke) = if edge.value == 0.0 || largest == 0.0 {
                (ZERO, 1)
            } else {
                let color = if edge.value > 0.0 { POSITIVE } else { NEGATIVE };
                (color, (1.5 + (MAX_WIDTH - 1.5) * edge.value.abs() / largest).round() as u32)
            };
            area.draw(&PathElement::new(vec![from, to], color.stroke_width(stroke))).map_err(Error::draw)?;
        }
        let name_style = TextStyle::from((FAMILY, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let note_style = TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for node in &self.nodes {
            let centre = pixel(node.position);
            area.draw(&Circle::new(centre, NODE_RADIUS, WHITE.filled())).map_err(Error::draw)?;
            area.draw(&Circle::new(centre, NODE_RADIUS, BLACK.stroke_width(2))).map_err(Error::draw)?;
            area.draw_text(&node.name, &name_style, centre).map_err(Error::draw)?;
            for (i, line) in node.note.lines().enumerate() {
                let at = (centre.0, centre.1 + NODE_RADIUS + 3 + 14 * i as i32);
                area.draw_text(line, &note_style, at).map_err(Error::draw)?;
            }
        }
        let label_style = TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        for edge in self.edges.iter().filter(|e| !e.label.is_empty()) {
            let (from, to) = (pixel(self.nodes[edge.from].position), pixel(self.nodes[edge.to].position));
            let t = edge.label_at.clamp(0.0, 1.0);
            let x = from.0 + (f64::from(to.0 - from.0) * t).round() as i32;
            let y = from.1 + (f64::from(to.1 - from.1) * t).round() as i32;
            let (w, h) = area.estimate_text_size(&edge.label, &label_style).map_err(Error::draw)?;
            let (w, h) = (w as i32, h as i32);
            let corner = (x - w / 2 - 3, y - h / 2 - 2);
            let box_style = ShapeStyle::from(&WHITE.mix(0.9)).filled();
            area.draw(&Rectangle::new([corner, (x + w / 2 + 3, y + h / 2 + 2)], box_style))
                .map_err(Error::draw)?;
            area.draw_text(&edge.label, &label_style, (x, y)).map_err(Error::draw)?;
        }
        Ok(())
    }
}

fn finite((x, y): (f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Table, write_figure};

    fn two_nodes(value: f64) -> NetworkDiagram {
        let node = |name: &str, position| DiagramNode { name: name.into(), note: "a=1".into(), position };
        NetworkDiagram {
            title: "x → y".into(),
            nodes: vec![node("x", (0.0, 0.5)), node("y", (1.0, 0.5))],
            edges: vec![DiagramEdge { from: 0, to: 1, label: "w 2".into(), value, label_at: 0.5 }],
        }
    }

    #[test]
    fn draws_nodes_and_a_coloured_edge() {
        let dir = tempfile::tempdir().unwrap();
        let files =
            write_figure(dir.path(), "net", &Table::new(["x"]), (300, 160), |a| two_nodes(1.0).draw(a))
                .unwrap();
        let png = image::open(&files.png).unwrap().to_rgb8();
        // Somewhere on the line between the two circles: red for a positive value.
        let red = (60..240).any(|x| (80..120).any(|y| png.get_pixel(x, y).0 == [214, 39, 40]));
        assert!(red, "the edge is not drawn in red");
    }

    #[test]
    fn edges_must_name_existing_nodes() {
        let mut diagram = two_nodes(1.0);
        diagram.edges[0].to = 5;
        let dir = tempfile::tempdir().unwrap();
        let result = write_figure(dir.path(), "bad", &Table::new(["x"]), (100, 100), |a| diagram.draw(a));
        assert!(matches!(result, Err(Error::InvalidData(_))));
    }
}
