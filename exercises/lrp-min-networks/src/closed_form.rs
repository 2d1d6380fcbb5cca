//! Closed forms of the LRP-γ input relevance of both min-networks on the diagonal
//! `a1 = a2 = a` (exercise sheet 11, exercise 2(b)), their limits in γ, and (beyond the sheet)
//! the closed forms anywhere on the domain `a1, a2 ≥ 0`.

use crate::error::{Result, require_finite, require_non_negative};
use crate::min_networks::MinNetwork;

/// The relevance of the two inputs, `R_1` and `R_2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputRelevance {
    /// Relevance of `a1`.
    pub r1: f64,
    /// Relevance of `a2`.
    pub r2: f64,
}

impl InputRelevance {
    /// `R_1 + R_2`, which equals `y` wherever relevance is conserved.
    pub fn total(&self) -> f64 {
        self.r1 + self.r2
    }
}

// ANCHOR: closed_form_a
/// Network A at `a1 = a2 = a ≥ 0`, any `γ ≥ 0` (exercise sheet 11, exercise 2(b)):
///
/// $$R_1 = R_2 = \frac{a}{2}.$$
///
/// Only `h1 = 2a` is active; it takes all of `y = a` and splits it evenly, because its two
/// weights are equal. γ scales numerator and denominator alike and drops out.
pub fn network_a_equal_inputs(a: f64, gamma: f64) -> Result<InputRelevance> {
    let a = require_non_negative("a", a)?;
    require_non_negative("gamma", gamma)?;
    Ok(InputRelevance { r1: a / 2.0, r2: a / 2.0 })
}
// ANCHOR_END: closed_form_a

// ANCHOR: closed_form_b
/// Network B at `a1 = a2 = a ≥ 0`, any `γ ≥ 0` (exercise sheet 11, exercise 2(b)):
///
/// $$R_1 = a\,\frac{1 + \gamma}{1 + 2\gamma}, \qquad R_2 = a\,\frac{\gamma}{1 + 2\gamma}.$$
///
/// The output splits `y = a` into `R_{g1} = 2a(1+γ)/(1+2γ)` and `R_{g2} = −a/(1+2γ)`; `g1`
/// halves its share between `h1` and `h2`, `g2` gives all of its negative share to `h2`
/// (`h3 = 0`), and `h1 = a1`, `h2 = a2` pass theirs to the inputs.
pub fn network_b_equal_inputs(a: f64, gamma: f64) -> Result<InputRelevance> {
    let a = require_non_negative("a", a)?;
    let gamma = require_non_negative("gamma", gamma)?;
    if gamma <= *LITERAL_RANGE.end() {
        let denominator = 1.0 + 2.0 * gamma;
        return Ok(InputRelevance { r1: a * (1.0 + gamma) / denominator, r2: a * gamma / denominator });
    }
    // γ/(1 + 2γ) = 1/(2 + 1/γ) and R_1 = a − R_2, where the literal quotient is ∞/∞.
    let r2 = a / (2.0 + 1.0 / gamma);
    Ok(InputRelevance { r1: a - r2, r2 })
}
// ANCHOR_END: closed_form_b

/// The closed form for either network at `a1 = a2 = a`.
pub fn equal_inputs(network: MinNetwork, a: f64, gamma: f64) -> Result<InputRelevance> {
    match network {
        MinNetwork::A => network_a_equal_inputs(a, gamma),
        MinNetwork::B => network_b_equal_inputs(a, gamma),
    }
}

/// The limit γ → 0 of [`equal_inputs`] (LRP-0): A gives `(a/2, a/2)`, B gives `(a, 0)`.
pub fn equal_inputs_gamma_to_zero(network: MinNetwork, a: f64) -> Result<InputRelevance> {
    let a = require_non_negative("a", a)?;
    Ok(match network {
        MinNetwork::A => InputRelevance { r1: a / 2.0, r2: a / 2.0 },
        MinNetwork::B => InputRelevance { r1: a, r2: 0.0 },
    })
}

/// The limit γ → ∞ of [`equal_inputs`]: `(a/2, a/2)` for both networks.
pub fn equal_inputs_gamma_to_infinity(a: f64) -> Result<InputRelevance> {
    let a = require_non_negative("a", a)?;
    Ok(InputRelevance { r1: a / 2.0, r2: a / 2.0 })
}

// ANCHOR: closed_form_domain
/// Network A anywhere on the domain `a1, a2 ≥ 0`, any `γ ≥ 0` (beyond the sheet). For
/// `a1 > a2 > 0`, with `y = a2`,
///
/// $$R_1 = \frac{\gamma(1+\gamma)\,a_1^2 a_2}{((1+\gamma)a_1 - a_2)(\gamma(a_1+a_2) + 2a_2)},\quad
/// R_2 = \frac{a_2^2\,(\gamma^2 a_1 + \gamma(2a_1 - a_2) + 2(a_1 - a_2))}{((1+\gamma)a_1 - a_2)(\gamma(a_1+a_2) + 2a_2)};$$
///
/// `a1 < a2` follows by symmetry (swap the inputs), `a1 = a2` is [`network_a_equal_inputs`],
/// and where `min(a1, a2) = 0` everything is 0.
pub fn network_a_on_domain(a1: f64, a2: f64, gamma: f64) -> Result<InputRelevance> {
    let (a1, a2) = (require_non_negative("a1", a1)?, require_non_negative("a2", a2)?);
    let gamma = require_non_negative("gamma", gamma)?;
    if a1 == a2 {
        return network_a_equal_inputs(a1, gamma);
    }
    if a1.min(a2) == 0.0 {
        return Ok(InputRelevance { r1: 0.0, r2: 0.0 });
    }
    if a1 < a2 {
        let swapped = network_a_on_domain(a2, a1, gamma)?;
        return Ok(InputRelevance { r1: swapped.r2, r2: swapped.r1 });
    }
    if literal_is_safe(a1, a2, gamma) {
        let denominator = ((1.0 + gamma) * a1 - a2) * (gamma * (a1 + a2) + 2.0 * a2);
        let r1 = gamma * (1.0 + gamma) * a1 * a1 * a2 / denominator;
        let r2 = a2 * a2 * (gamma * gamma * a1 + gamma * (2.0 * a1 - a2) + 2.0 * (a1 - a2)) / denominator;
        return Ok(InputRelevance { r1, r2 });
    }
    // Beyond: numerator and denominator divided by (1 + γ)² and the inputs by a1 (R is
    // homogeneous of degree 1 in a), which neither overflows nor underflows.
    let Stable { scale, x2, t, u } = Stable::new(a1, a2, gamma);
    let x2_over_denominator = x2 / ((1.0 - u * x2) * (t * (1.0 + x2) + 2.0 * u * x2));
    let r1 = scale * t * x2_over_denominator;
    let r2 = scale * x2 * x2_over_denominator * (t * t + t * u * (2.0 - x2) + 2.0 * u * u * (1.0 - x2));
    finite(InputRelevance { r1, r2 })
}

/// Where γ and the inputs lie, the literal closed forms (products of degree ≤ 4) neither overflow
/// nor underflow; beyond, the rescaled forms of [`Stable`] are used.
const LITERAL_RANGE: std::ops::RangeInclusive<f64> = 1e-50..=1e50;

/// Whether the literal closed forms are safe at `(a1, a2, γ)` (see [`LITERAL_RANGE`]).
fn literal_is_safe(a1: f64, a2: f64, gamma: f64) -> bool {
    LITERAL_RANGE.contains(&a1) && LITERAL_RANGE.contains(&a2) && gamma <= *LITERAL_RANGE.end()
}

/// The closed forms on the domain, rescaled: `scale = max(a1, a2)`, the other input
/// `x2 = min/max ∈ (0, 1]`, `t = γ/(1 + γ)` and `u = 1/(1 + γ)`, all in `[0, 1]`.
struct Stable {
    scale: f64,
    x2: f64,
    t: f64,
    u: f64,
}

impl Stable {
    fn new(larger: f64, smaller: f64, gamma: f64) -> Self {
        let u = 1.0 / (1.0 + gamma);
        Self { scale: larger, x2: smaller / larger, t: gamma * u, u }
    }
}

/// The relevance, or [`crate::Error::NonFinite`] if the true value is not representable.
fn finite(relevance: InputRelevance) -> Result<InputRelevance> {
    require_finite(relevance.r1, || "the closed-form relevance R_1".into())?;
    require_finite(relevance.r2, || "the closed-form relevance R_2".into())?;
    Ok(relevance)
}

/// Network B anywhere on the domain `a1, a2 ≥ 0`, any `γ ≥ 0` (beyond the sheet). B is not
/// symmetric, so there are two cases. For `a1 > a2 > 0` (`y = a2`)
///
/// $$R_1 = \frac{\gamma(1+\gamma)\,a_1^2 a_2}{((1+\gamma)a_1 - a_2)(\gamma(a_1+a_2) + a_2)},\quad
/// R_2 = \frac{a_2^2\,(\gamma^2 a_1 + (1+\gamma)(a_1 - a_2))}{((1+\gamma)a_1 - a_2)(\gamma(a_1+a_2) + a_2)},$$
///
/// and for `0 < a1 ≤ a2` (`y = a1`, the unit `h3 = relu(a1 − a2)` is off)
///
/// $$R_1 = \frac{(1+\gamma)\,a_1^2}{\gamma(a_1+a_2) + a_1},\qquad R_2 = \frac{\gamma\,a_1 a_2}{\gamma(a_1+a_2) + a_1};$$
///
/// where `min(a1, a2) = 0` everything is 0.
pub fn network_b_on_domain(a1: f64, a2: f64, gamma: f64) -> Result<InputRelevance> {
    let (a1, a2) = (require_non_negative("a1", a1)?, require_non_negative("a2", a2)?);
    let gamma = require_non_negative("gamma", gamma)?;
    if a1.min(a2) == 0.0 {
        return Ok(InputRelevance { r1: 0.0, r2: 0.0 });
    }
    if literal_is_safe(a1, a2, gamma) {
        if a1 <= a2 {
            let denominator = gamma * (a1 + a2) + a1;
            return Ok(InputRelevance {
                r1: (1.0 + gamma) * a1 * a1 / denominator,
                r2: gamma * a1 * a2 / denominator,
            });
        }
        let denominator = ((1.0 + gamma) * a1 - a2) * (gamma * (a1 + a2) + a2);
        let r1 = gamma * (1.0 + gamma) * a1 * a1 * a2 / denominator;
        let r2 = a2 * a2 * (gamma * gamma * a1 + (1.0 + gamma) * (a1 - a2)) / denominator;
        return Ok(InputRelevance { r1, r2 });
    }
    // Beyond: as for network A, divided by (1 + γ) (or (1 + γ)²) and by the larger input.
    if a1 <= a2 {
        let Stable { scale, x2: x1, t, u } = Stable::new(a2, a1, gamma);
        let x1_over_denominator = x1 / (t * (x1 + 1.0) + u * x1);
        return finite(InputRelevance {
            r1: scale * x1 * x1_over_denominator,
            r2: scale * t * x1_over_denominator,
        });
    }
    let Stable { scale, x2, t, u } = Stable::new(a1, a2, gamma);
    let x2_over_denominator = x2 / ((1.0 - u * x2) * (t * (1.0 + x2) + u * x2));
    let r1 = scale * t * x2_over_denominator;
    let r2 = scale * x2 * x2_over_denominator * (t * t + u * (1.0 - x2));
    finite(InputRelevance { r1, r2 })
}
// ANCHOR_END: closed_form_domain

/// The closed form for either network anywhere on the domain `a1, a2 ≥ 0`.
pub fn on_domain(network: MinNetwork, a1: f64, a2: f64, gamma: f64) -> Result<InputRelevance> {
    match network {
        MinNetwork::A => network_a_on_domain(a1, a2, gamma),
        MinNetwork::B => network_b_on_domain(a1, a2, gamma),
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;
    use crate::error::Error;

    const EXACT: f64 = 1e-12;

    #[test]
    fn network_b_at_gamma_one_gives_two_thirds_and_one_third() {
        let r = network_b_equal_inputs(3.0, 1.0).unwrap();
        assert_relative_eq!(r.r1, 2.0, epsilon = EXACT, max_relative = EXACT);
        assert_relative_eq!(r.r2, 1.0, epsilon = EXACT, max_relative = EXACT);
    }

    #[test]
    fn limits_match_the_formulas() {
        let a = 1.7;
        let at_zero = network_b_equal_inputs(a, 0.0).unwrap();
        assert_eq!(at_zero, equal_inputs_gamma_to_zero(MinNetwork::B, a).unwrap());
        let large = network_b_equal_inputs(a, 1e12).unwrap();
        let limit = equal_inputs_gamma_to_infinity(a).unwrap();
        assert_relative_eq!(large.r1, limit.r1, epsilon = 1e-9, max_relative = 1e-9);
    }

    #[test]
    fn negative_input_and_bad_gamma_are_rejected() {
        assert!(matches!(network_a_equal_inputs(-1.0, 0.0), Err(Error::InvalidParameter { name: "a", .. })));
        assert!(matches!(
            network_b_equal_inputs(1.0, f64::NAN),
            Err(Error::InvalidParameter { name: "gamma", .. })
        ));
    }
}
