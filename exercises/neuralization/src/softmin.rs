//! Layer 2 of the neuralized one-class SVM: the soft-min `−γ⁻¹ log Σ_i exp(−γ h_i)`, its weights
//! and its limit, the hard min-pooling `min_i h_i` (exercise sheet 11, exercise 3b).

use crate::error::{Error, Result, check_gamma};

/// Checks that `h` is non-empty and finite, and returns its minimum.
fn checked_min(h: &[f64]) -> Result<f64> {
    if h.is_empty() {
        return Err(Error::NoSupportVectors);
    }
    if let Some(i) = h.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!("h[{i}]"), h[i], "pre-activations must be finite"));
    }
    Ok(h.iter().copied().fold(f64::INFINITY, f64::min))
}

// ANCHOR: min_pooling
/// Hard min-pooling `min_i h_i`, the `γ → ∞` limit of [`soft_min`] (exercise sheet 11, 3b).
pub fn min_pooling(h: &[f64]) -> Result<f64> {
    checked_min(h)
}
// ANCHOR_END: min_pooling

// ANCHOR: soft_min
/// The soft-min `smin_γ(h) = −γ⁻¹ log Σ_i exp(−γ h_i)` (exercise sheet 11, exercise 3, layer 2),
/// evaluated stably as
///
/// `smin_γ(h) = m − γ⁻¹ log Σ_i exp(−γ (h_i − m))`, with `m = min_i h_i`.
///
/// Every exponent is `≤ 0` and the minimising term is `exp(0) = 1`, so the sum lies in `[1, M]`:
/// nothing overflows (an infinite `γ (h_i − m)` just gives `exp(−∞) = 0`) and nothing underflows
/// to `log 0`. The correction is [`soft_min_gap`] `∈ [0, (log M)/γ]`, the bound of 3b.
/// Errors with [`Error::Overflow`] where the true value lies beyond `f64` (e.g. `γ = 1e-308`:
/// the gap `(log M)/γ` exceeds `f64::MAX`).
pub fn soft_min(h: &[f64], gamma: f64) -> Result<f64> {
    let m = checked_min(h)?;
    let value = m - soft_min_gap(h, gamma)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::Overflow { what: "the soft-min min_i h_i − gap" })
    }
}

/// The gap `min_i h_i − smin_γ(h) = γ⁻¹ log Σ_i exp(−γ (h_i − m))`, computed without the
/// cancellation of the subtraction: the arg-min's term `1` is split off and the rest goes through
/// `ln_1p`, so gaps far below `ε · m` (down to `1e-300`) keep full relative accuracy.
/// Errors with [`Error::Overflow`] when the gap exceeds `f64::MAX` (tiny γ).
pub fn soft_min_gap(h: &[f64], gamma: f64) -> Result<f64> {
    check_gamma(gamma)?;
    let m = checked_min(h)?;
    let k = h.iter().position(|&hi| hi == m).unwrap_or(0);
    let rest: f64 =
        h.iter().enumerate().filter(|(i, _)| *i != k).map(|(_, &hi)| (-gamma * (hi - m)).exp()).sum();
    let gap = rest.ln_1p() / gamma;
    if gap.is_finite() {
        Ok(gap)
    } else {
        Err(Error::Overflow { what: "the soft-min gap log(Σ_i exp(−γ(h_i − m)))/γ" })
    }
}
// ANCHOR_END: soft_min

/// The textbook soft-min `−γ⁻¹ log Σ_i exp(−γ h_i)`, evaluated literally: the slow, obviously
/// correct twin of [`soft_min`] for tests. It returns `∞` once every `exp(−γ h_i)` underflows
/// (e.g. `γ h_i > 745`) and `−∞` once one overflows; use it only where neither happens.
pub fn soft_min_naive(h: &[f64], gamma: f64) -> f64 {
    -(h.iter().map(|&hi| (-gamma * hi).exp()).sum::<f64>()).ln() / gamma
}

// ANCHOR: soft_min_weights
/// The soft-min weights `p_i = exp(−γ h_i) / Σ_j exp(−γ h_j)` (a softmax of `−γ h`), computed with
/// the same shift `m = min_i h_i` as [`soft_min`]. They are the gradient `∂ smin_γ / ∂h_i`, sum
/// to 1, and tend to the indicator of the arg-min as `γ → ∞`.
pub fn soft_min_weights(h: &[f64], gamma: f64) -> Result<Vec<f64>> {
    check_gamma(gamma)?;
    let m = checked_min(h)?;
    let unnormalised: Vec<f64> = h.iter().map(|&hi| (-gamma * (hi - m)).exp()).collect();
    let sum: f64 = unnormalised.iter().sum();
    Ok(unnormalised.into_iter().map(|e| e / sum).collect())
}
// ANCHOR_END: soft_min_weights

/// `log p_i` of [`soft_min_weights`], computed without forming `p_i`: `−γ (h_i − m) − log Σ`.
/// Entries whose weight underflows are `−∞` (never NaN).
pub fn soft_min_log_weights(h: &[f64], gamma: f64) -> Result<Vec<f64>> {
    check_gamma(gamma)?;
    let m = checked_min(h)?;
    let shifted: Vec<f64> = h.iter().map(|&hi| -gamma * (hi - m)).collect();
    let log_sum = shifted.iter().map(|s| s.exp()).sum::<f64>().ln();
    Ok(shifted.into_iter().map(|s| s - log_sum).collect())
}

// ANCHOR: gap_bound
/// The bound of exercise 3b on the soft-min gap: `0 ≤ min_i h_i − smin_γ(h) ≤ (log M)/γ`.
pub fn gap_bound(count: usize, gamma: f64) -> Result<f64> {
    check_gamma(gamma)?;
    if count == 0 {
        return Err(Error::NoSupportVectors);
    }
    Ok((count as f64).ln() / gamma)
}
// ANCHOR_END: gap_bound

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const EXACT: f64 = 1e-12;

    #[test]
    fn matches_naive_formula_where_it_is_representable() {
        let h = [0.3, 1.2, -0.4, 2.0];
        for gamma in [0.1, 1.0, 10.0] {
            assert_relative_eq!(
                soft_min(&h, gamma).unwrap(),
                soft_min_naive(&h, gamma),
                max_relative = EXACT
            );
        }
    }

    #[test]
    fn equal_entries_give_the_full_bound() {
        let h = [2.0; 8];
        let gamma = 3.0;
        let gap = min_pooling(&h).unwrap() - soft_min(&h, gamma).unwrap();
        assert_relative_eq!(gap, gap_bound(8, gamma).unwrap(), max_relative = EXACT);
    }

    #[test]
    fn weights_sum_to_one_and_log_weights_agree() {
        let h = [0.0, 1.0, 5.0];
        let p = soft_min_weights(&h, 2.0).unwrap();
        let log_p = soft_min_log_weights(&h, 2.0).unwrap();
        assert_relative_eq!(p.iter().sum::<f64>(), 1.0, epsilon = EXACT);
        for (pi, lpi) in p.iter().zip(&log_p) {
            assert_relative_eq!(pi.ln(), *lpi, max_relative = EXACT);
        }
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(matches!(soft_min(&[], 1.0), Err(Error::NoSupportVectors)));
        assert!(matches!(soft_min(&[1.0], 0.0), Err(Error::InvalidParameter { .. })));
        assert!(matches!(soft_min(&[f64::NAN], 1.0), Err(Error::InvalidParameter { .. })));
    }
}
