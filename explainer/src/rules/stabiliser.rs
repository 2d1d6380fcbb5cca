//! The stabiliser of a rule's denominator: `stab(p) = p + ε·sign(p)` with `sign(0) = 1`
//! (zennit's `Stabilizer`).

use super::invalid;
use crate::error::Result;

/// `ε ≥ 0`, finite. With `ε = 0` the denominator is used as it is and `R/0` is read as 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stabiliser(f64);

impl Stabiliser {
    /// zennit's default, `ε = 10⁻⁶`.
    pub const DEFAULT: Stabiliser = Stabiliser(1e-6);
    /// No stabiliser (the sheet's rules).
    pub const NONE: Stabiliser = Stabiliser(0.0);

    /// A stabiliser `ε`: finite and `≥ 0`.
    pub fn new(epsilon: f64) -> Result<Self> {
        if !epsilon.is_finite() || epsilon < 0.0 {
            return Err(invalid("stabiliser", epsilon, "ε must be finite and ≥ 0"));
        }
        Ok(Self(epsilon))
    }

    /// `ε`.
    pub fn epsilon(self) -> f64 {
        self.0
    }
}

impl Default for Stabiliser {
    fn default() -> Self {
        Self::DEFAULT
    }
}
