//! The six object classes as point sets in the plane, and how much of a pixel an object covers.
//!
//! Each shape is defined in its own unit frame (`(u, v)`, circumradius at most
//! [`Shape::EXTENT`]); a [`Placement`] scales, rotates and moves it into the image.

/// The class of the object in a scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A filled disk.
    Disk,
    /// A filled square.
    Square,
    /// A filled equilateral triangle.
    Triangle,
    /// A plus sign: two perpendicular bars of equal length.
    Cross,
    /// An annulus: a disk with a concentric hole.
    Ring,
    /// A thick straight bar (a rectangle about 3.7 times as long as wide).
    Bar,
}

/// Radius of the disk in the unit frame.
const DISK_RADIUS: f32 = 0.9;
/// Half the side of the square.
const SQUARE_HALF_SIDE: f32 = 0.75;
/// Circumradius of the triangle; its inradius is half of it.
const TRIANGLE_CIRCUMRADIUS: f32 = 1.15;
/// Half the length and half the width of each arm of the cross.
const CROSS_HALF_LENGTH: f32 = 1.0;
/// Half the width of each arm of the cross.
const CROSS_HALF_WIDTH: f32 = 0.28;
/// Outer and inner radius of the ring.
const RING_OUTER: f32 = 0.95;
/// Inner radius of the ring (of its hole).
const RING_INNER: f32 = 0.55;
/// Half the length of the bar.
const BAR_HALF_LENGTH: f32 = 1.1;
/// Half the width of the bar.
const BAR_HALF_WIDTH: f32 = 0.3;

impl Shape {
    /// Every class, in class-index order.
    pub const ALL: [Shape; 6] =
        [Shape::Disk, Shape::Square, Shape::Triangle, Shape::Cross, Shape::Ring, Shape::Bar];

    /// Radius of a circle around the origin that contains every shape in its unit frame.
    pub const EXTENT: f32 = 1.15;

    /// The class name (`"disk"`, `"square"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Shape::Disk => "disk",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Cross => "cross",
            Shape::Ring => "ring",
            Shape::Bar => "bar",
        }
    }

    /// The class index: the position in [`Shape::ALL`].
    pub fn index(&self) -> usize {
        *self as usize
    }

    /// The shape of class `index`, if there is one.
    pub fn from_index(index: usize) -> Option<Shape> {
        Shape::ALL.get(index).copied()
    }

    /// Area of the shape in its unit frame (multiply by the squared scale for pixels).
    pub fn unit_area(&self) -> f32 {
        match self {
            Shape::Disk => std::f32::consts::PI * DISK_RADIUS * DISK_RADIUS,
            Shape::Square => 4.0 * SQUARE_HALF_SIDE * SQUARE_HALF_SIDE,
            // An equilateral triangle of circumradius R has area (3√3/4)·R².
            Shape::Triangle => 0.75 * 3f32.sqrt() * TRIANGLE_CIRCUMRADIUS * TRIANGLE_CIRCUMRADIUS,
            Shape::Cross => {
                let (l, w) = (2.0 * CROSS_HALF_LENGTH, 2.0 * CROSS_HALF_WIDTH);
                2.0 * l * w - w * w
            }
            Shape::Ring => std::f32::consts::PI * (RING_OUTER * RING_OUTER - RING_INNER * RING_INNER),
            Shape::Bar => 4.0 * BAR_HALF_LENGTH * BAR_HALF_WIDTH,
        }
    }

    /// Whether the point `(u, v)` of the unit frame lies in the shape.
    pub fn contains(&self, u: f32, v: f32) -> bool {
        match self {
            Shape::Disk => u * u + v * v <= DISK_RADIUS * DISK_RADIUS,
            Shape::Square => u.abs() <= SQUARE_HALF_SIDE && v.abs() <= SQUARE_HALF_SIDE,
            Shape::Triangle => {
                // Vertices at angles −90°, 30°, 150°; the edge opposite a vertex at angle φ has
                // its outward normal at φ + 180° and lies at the inradius R/2 from the centre.
                let inradius = 0.5 * TRIANGLE_CIRCUMRADIUS;
                [-90f32, 30.0, 150.0].iter().all(|deg| {
                    let (sin, cos) = deg.to_radians().sin_cos();
                    -(u * cos + v * sin) <= inradius
                })
            }
            Shape::Cross => {
                let (a, b) = (u.abs(), v.abs());
                (a <= CROSS_HALF_LENGTH && b <= CROSS_HALF_WIDTH)
                    || (a <= CROSS_HALF_WIDTH && b <= CROSS_HALF_LENGTH)
            }
            Shape::Ring => {
                let r2 = u * u + v * v;
                (RING_INNER * RING_INNER..=RING_OUTER * RING_OUTER).contains(&r2)
            }
            Shape::Bar => u.abs() <= BAR_HALF_LENGTH && v.abs() <= BAR_HALF_WIDTH,
        }
    }
}

/// Where and how large an object is drawn: its centre and scale in pixels and its rotation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Centre, in pixel coordinates (pixel `(x, y)` spans `[x, x+1) × [y, y+1)`).
    pub centre: (f32, f32),
    /// Pixels per unit of the shape's frame.
    pub scale: f32,
    /// Rotation in radians, counter-clockwise in the unit frame.
    pub rotation: f32,
}

/// Sub-samples per pixel side when measuring coverage (4 × 4 = 16 per pixel).
pub const SUBSAMPLES: usize = 4;

impl Placement {
    /// The point of the shape's unit frame that lands at image point `(x, y)`.
    fn unit_point(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let (sin, cos) = self.rotation.sin_cos();
        ((dx * cos + dy * sin) / self.scale, (-dx * sin + dy * cos) / self.scale)
    }

    /// The fraction of pixel `(x, y)` that `shape` covers, from a regular
    /// [`SUBSAMPLES`]² grid of points: a multiple of 1/16.
    pub fn coverage(&self, shape: Shape, x: u32, y: u32) -> f32 {
        let step = 1.0 / SUBSAMPLES as f32;
        let mut inside = 0;
        for i in 0..SUBSAMPLES {
            for j in 0..SUBSAMPLES {
                let px = x as f32 + (i as f32 + 0.5) * step;
                let py = y as f32 + (j as f32 + 0.5) * step;
                let (u, v) = self.unit_point(px, py);
                if shape.contains(u, v) {
                    inside += 1;
                }
            }
        }
        inside as f32 / (SUBSAMPLES * SUBSAMPLES) as f32
    }

    /// The pixels `(x0..x1, y0..y1)` that the shape can touch, clipped to a `size`² image.
    pub fn bounding_box(&self, size: u32) -> (u32, u32, u32, u32) {
        let r = Shape::EXTENT * self.scale;
        let lo = |c: f32| (c - r).floor().max(0.0) as u32;
        let hi = |c: f32| ((c + r).ceil().max(0.0) as u32 + 1).min(size);
        (lo(self.centre.0), hi(self.centre.0), lo(self.centre.1), hi(self.centre.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices_follow_all() {
        for (i, shape) in Shape::ALL.iter().enumerate() {
            assert_eq!(shape.index(), i);
            assert_eq!(Shape::from_index(i), Some(*shape));
        }
        assert_eq!(Shape::from_index(6), None);
        let names: Vec<_> = Shape::ALL.iter().map(Shape::name).collect();
        assert_eq!(names, ["disk", "square", "triangle", "cross", "ring", "bar"]);
    }

    /// A fine grid over the unit frame measures each shape's area, and every shape stays
    /// inside its extent.
    #[test]
    fn unit_areas_match_a_grid_count_and_shapes_fit_their_extent() {
        const GRID: usize = 600;
        const AREA_TOLERANCE: f32 = 0.02;
        let side = 2.0 * Shape::EXTENT;
        let cell = side / GRID as f32;
        for shape in Shape::ALL {
            let mut count = 0;
            for i in 0..GRID {
                for j in 0..GRID {
                    let u = -Shape::EXTENT + (i as f32 + 0.5) * cell;
                    let v = -Shape::EXTENT + (j as f32 + 0.5) * cell;
                    if shape.contains(u, v) {
                        count += 1;
                        assert!(u * u + v * v <= Shape::EXTENT * Shape::EXTENT, "{shape:?}");
                    }
                }
            }
            let area = count as f32 * cell * cell;
            let rel = (area - shape.unit_area()).abs() / shape.unit_area();
            assert!(rel < AREA_TOLERANCE, "{shape:?}: grid {area}, formula {}", shape.unit_area());
        }
    }
}
