//! Object masks: which pixels of an image belong to the object its class stands for.

use crate::error::{Error, Result};
use crate::heatmap::RelevanceMap;

/// A non-empty boolean mask over the pixels of a `width × height` image, row-major
/// (`inside[y · width + x]`), as the ground truth of the localisation metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    width: usize,
    height: usize,
    inside: Vec<bool>,
    count: usize,
}

impl Mask {
    /// A mask from row-major flags. Fails with [`Error::ShapeMismatch`] unless there are
    /// `width · height` flags, and with [`Error::EmptyMask`] if none is set.
    pub fn new(width: usize, height: usize, inside: Vec<bool>) -> Result<Self> {
        if inside.len() != width * height || inside.is_empty() {
            return Err(Error::ShapeMismatch {
                what: "mask",
                expected: format!("{} flags ({width}×{height}, not empty)", width * height),
                found: format!("{} flags", inside.len()),
            });
        }
        let count = inside.iter().filter(|&&b| b).count();
        if count == 0 {
            return Err(Error::EmptyMask { what: format!("a {width}×{height} image") });
        }
        Ok(Self { width, height, inside, count })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of pixels, `width · height`.
    pub fn pixels(&self) -> usize {
        self.inside.len()
    }

    /// Number of pixels inside the object (at least 1).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The row-major flags.
    pub fn inside(&self) -> &[bool] {
        &self.inside
    }

    /// Whether pixel `index` (row-major) is inside the object.
    pub fn contains(&self, index: usize) -> bool {
        self.inside.get(index).copied().unwrap_or(false)
    }

    /// Checks that `map` has one value per pixel of this mask.
    pub(crate) fn check(&self, map: &RelevanceMap) -> Result<()> {
        if map.values().len() != self.pixels() {
            return Err(Error::ShapeMismatch {
                what: "relevance map",
                expected: format!("{} pixels ({}×{}, the mask)", self.pixels(), self.width, self.height),
                found: format!("{} pixels", map.values().len()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_looks_up_pixels() {
        let mask = Mask::new(3, 2, vec![false, true, false, true, true, false]).unwrap();
        assert_eq!((mask.width(), mask.height(), mask.pixels(), mask.count()), (3, 2, 6, 3));
        assert!(mask.contains(1) && !mask.contains(0) && !mask.contains(99));
    }

    #[test]
    fn empty_and_mis_sized_masks_are_typed_errors() {
        assert!(matches!(Mask::new(2, 2, vec![false; 4]), Err(Error::EmptyMask { .. })));
        assert!(matches!(Mask::new(2, 2, vec![true; 3]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(Mask::new(0, 0, vec![]), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn a_map_of_another_size_is_rejected() {
        let mask = Mask::new(2, 2, vec![true; 4]).unwrap();
        let map = RelevanceMap::from_values(3, 1, vec![0.0; 3]).unwrap();
        assert!(matches!(mask.check(&map), Err(Error::ShapeMismatch { .. })));
    }
}
