//! The γ of LRP-γ per VGG block (exercise 4; the schedule is our
//! reconstruction, see the book's appendix "The sheet, and what we reconstructed").

use crate::error::{Error, Result};

/// γ for the convolutions of each of VGG-16's five blocks (convolution 2 is in block 1;
/// convolution 1 uses zB). Default, as in the book's appendix on the sheet: `[0.25, 0.25, 0.1, 0.05, 0.01]` — high
/// near the pixels, close to zero near the output. Every γ is finite and non-negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaSchedule([f64; 5]);

impl GammaSchedule {
    /// Number of blocks (VGG-16's five).
    pub const BLOCKS: usize = 5;
    // ANCHOR: default_schedule
    /// The reconstructed default schedule (high near the pixels, near zero at the top).
    pub const DEFAULT: [f64; 5] = [0.25, 0.25, 0.1, 0.05, 0.01];
    // ANCHOR_END: default_schedule

    /// A schedule from one γ per block; each must be finite and ≥ 0.
    pub fn new(gammas: [f64; 5]) -> Result<Self> {
        for (block, &g) in gammas.iter().enumerate() {
            if !g.is_finite() || g < 0.0 {
                return Err(Error::InvalidParameter {
                    name: "gamma",
                    value: format!("{g} (block {})", block + 1),
                    why: "γ must be finite and non-negative".into(),
                });
            }
        }
        Ok(Self(gammas))
    }

    /// A schedule from a slice of exactly five γ.
    pub fn from_slice(gammas: &[f64]) -> Result<Self> {
        let array: [f64; 5] = gammas.try_into().map_err(|_| Error::InvalidParameter {
            name: "gamma schedule",
            value: format!("{gammas:?}"),
            why: format!("needs one γ per VGG block: {} values, got {}", Self::BLOCKS, gammas.len()),
        })?;
        Self::new(array)
    }

    /// The same γ in every block.
    pub fn uniform(gamma: f64) -> Result<Self> {
        Self::new([gamma; 5])
    }

    /// The γ of each block.
    pub fn gammas(&self) -> [f64; 5] {
        self.0
    }

    /// γ of block `block` (0-based), if the schedule has one.
    pub fn get(&self, block: usize) -> Option<f64> {
        self.0.get(block).copied()
    }
}

impl Default for GammaSchedule {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_validated() {
        assert_eq!(GammaSchedule::default().gammas(), [0.25, 0.25, 0.1, 0.05, 0.01]);
        assert!(GammaSchedule::from_slice(&[0.1; 5]).is_ok());
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            let err = GammaSchedule::new([0.1, 0.1, bad, 0.1, 0.1]).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter { name: "gamma", .. }), "{err}");
            assert!(err.to_string().contains("block 3"), "{err}");
        }
        let err = GammaSchedule::from_slice(&[0.1; 4]).unwrap_err();
        assert!(err.to_string().contains("5 values, got 4"), "{err}");
    }
}
