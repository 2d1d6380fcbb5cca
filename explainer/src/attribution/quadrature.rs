//! Quadrature rules on `[0, 1]` for path integrals (Integrated Gradients).

use crate::error::{Error, Result};

/// How `∫₀¹ g(α) dα` is approximated from `n` values `g(α_i)`: `Σ_i w_i g(α_i)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Quadrature {
    /// The trapezoid rule on `n ≥ 2` equally spaced nodes `α_i = i/(n−1)`, weights
    /// `1/(n−1)`, halved at both ends (weights sum to 1). Captum's `riemann_trapezoid` uses the
    /// same nodes with weights `1/n` (halved at the ends), i.e. this rule times `(n−1)/n`.
    #[default]
    Trapezoid,
    /// Gauss–Legendre on `n ≥ 1` nodes (exact for polynomials of degree `2n − 1`), the nodes
    /// and weights of `numpy.polynomial.legendre.leggauss(n)` mapped from `[−1, 1]` to `[0, 1]`
    /// (Captum's `gausslegendre`).
    GaussLegendre,
}

impl Quadrature {
    /// The nodes `α_i` (ascending) and weights `w_i` of the rule with `n` nodes.
    pub fn nodes(self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let least = match self {
            Self::Trapezoid => 2,
            Self::GaussLegendre => 1,
        };
        if n < least {
            return Err(Error::InvalidParameter {
                name: "steps",
                value: n.to_string(),
                why: format!("{self:?} needs at least {least} nodes"),
            });
        }
        Ok(match self {
            Self::Trapezoid => {
                let h = 1.0 / (n - 1) as f64;
                let alphas = (0..n).map(|i| i as f64 * h).collect();
                let mut weights = vec![h; n];
                weights[0] /= 2.0;
                weights[n - 1] /= 2.0;
                (alphas, weights)
            }
            Self::GaussLegendre => {
                let (x, w) = gauss_legendre(n);
                (x.iter().map(|x| 0.5 * (1.0 + x)).collect(), w.iter().map(|w| 0.5 * w).collect())
            }
        })
    }
}

/// Gauss–Legendre nodes (ascending) and weights on `[−1, 1]`: the roots of the Legendre
/// polynomial `P_n` by Newton's method from Tricomi's estimate, `w_i = 2 / ((1 − x_i²) P_n'(x_i)²)`.
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 0.0;
        for _ in 0..100 {
            // P_n(z) by the three-term recurrence, and P_n'(z).
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 1..=n {
                let p3 = p2;
                p2 = p1;
                p1 = ((2 * j - 1) as f64 * z * p2 - (j - 1) as f64 * p3) / j as f64;
            }
            derivative = n as f64 * (z * p1 - p2) / (z * z - 1.0);
            let step = p1 / derivative;
            z -= step;
            if step.abs() <= 1e-16 {
                break;
            }
        }
        let w = 2.0 / ((1.0 - z * z) * derivative * derivative);
        nodes[i] = -z;
        nodes[n - 1 - i] = z;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
    (nodes, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrate(rule: Quadrature, n: usize, f: impl Fn(f64) -> f64) -> f64 {
        let (a, w) = rule.nodes(n).unwrap();
        a.iter().zip(&w).map(|(a, w)| w * f(*a)).sum()
    }

    #[test]
    fn gauss_legendre_is_exact_to_degree_2n_minus_1() {
        for n in [1, 2, 3, 5, 8, 32, 128] {
            for degree in 0..2 * n.min(10) {
                let exact = 1.0 / (degree + 1) as f64;
                let got = integrate(Quadrature::GaussLegendre, n, |a| a.powi(degree as i32));
                assert!((got - exact).abs() < 1e-13, "n {n} degree {degree}: {got} vs {exact}");
            }
        }
        // numpy.polynomial.legendre.leggauss(3): nodes ±√(3/5), 0; weights 5/9, 8/9, 5/9.
        let (x, w) = gauss_legendre(3);
        assert!((x[0] + (0.6f64).sqrt()).abs() < 1e-15 && x[1].abs() < 1e-15);
        assert!((w[0] - 5.0 / 9.0).abs() < 1e-15 && (w[1] - 8.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn trapezoid_integrates_lines_exactly_and_converges_on_curves() {
        let line = integrate(Quadrature::Trapezoid, 2, |a| 3.0 * a + 1.0);
        assert!((line - 2.5).abs() < 1e-15);
        // Error of the trapezoid rule for a² with h = 1/(n−1): h²/6.
        let n = 11;
        let got = integrate(Quadrature::Trapezoid, n, |a| a * a);
        assert!((got - (1.0 / 3.0 + 0.01 / 6.0)).abs() < 1e-15, "{got}");
        assert!(Quadrature::Trapezoid.nodes(1).is_err());
        assert!(Quadrature::GaussLegendre.nodes(0).is_err());
    }
}
