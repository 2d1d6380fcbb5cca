//! Means with 95 % confidence intervals, for the evaluation's table.

use crate::error::{Error, Result};

/// The 97.5 % quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// A sample mean with the half-width of its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanInterval {
    /// The sample mean `x̄`.
    pub mean: f64,
    /// `1.96 · s / √n`, `s` the sample standard deviation (divisor `n − 1`).
    pub half_width: f64,
    /// The number of values.
    pub n: usize,
}

impl MeanInterval {
    // ANCHOR: normal_interval
    /// The normal-approximation interval `x̄ ± 1.96 · s / √n` (central limit theorem; for
    /// 0/1 values such as pointing-game hits it is the Wald interval of a proportion).
    ///
    /// Fails with [`Error::UndefinedMetric`] for fewer than two values and
    /// [`Error::NonFinite`] for NaN or ±∞.
    pub fn normal_95(values: &[f64]) -> Result<Self> {
        let n = values.len();
        if n < 2 {
            return Err(Error::UndefinedMetric {
                metric: "95 % interval",
                why: format!("{n} value(s); a standard deviation needs at least 2"),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "interval input", index, value: values[index] });
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        Ok(Self { mean, half_width: Z_975 * (variance / n as f64).sqrt(), n })
    }
    // ANCHOR_END: normal_interval

    /// The lower end, `mean − half_width`.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// The upper end, `mean + half_width`.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

impl std::fmt::Display for MeanInterval {
    /// `0.812 ± 0.021`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let precision = f.precision().unwrap_or(3);
        write!(f, "{:.*} ± {:.*}", precision, self.mean, precision, self.half_width)
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    const EXACT: f64 = 1e-12;

    #[test]
    fn hand_computed_interval() {
        // Mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3, half-width 1.96·√(5/12).
        let i = MeanInterval::normal_95(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_relative_eq!(i.mean, 2.5, epsilon = EXACT);
        assert_relative_eq!(i.half_width, Z_975 * (5.0f64 / 12.0).sqrt(), epsilon = EXACT);
        assert_relative_eq!(i.high() - i.low(), 2.0 * i.half_width, epsilon = EXACT);
        assert_eq!(format!("{i:.2}"), "2.50 ± 1.27");
    }

    #[test]
    fn constant_values_have_zero_width() {
        let i = MeanInterval::normal_95(&[0.5; 10]).unwrap();
        assert_eq!((i.mean, i.half_width, i.n), (0.5, 0.0, 10));
    }

    #[test]
    fn too_few_or_non_finite_values_are_errors() {
        assert!(matches!(MeanInterval::normal_95(&[1.0]), Err(Error::UndefinedMetric { .. })));
        assert!(matches!(MeanInterval::normal_95(&[1.0, f64::INFINITY]), Err(Error::NonFinite { .. })));
    }
}
