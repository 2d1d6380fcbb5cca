//! Command-line values the binaries share: counts within stated bounds, so that a value out of
//! range is refused with the range, never wrapped, never left to exhaust memory or time.

use std::ops::RangeInclusive;

pub use crate::model::Architecture;

/// `text` as a whole number in `range`, or an error that states the range (`what` names what is
/// counted: "images per batch").
pub fn count_in(text: &str, range: RangeInclusive<usize>, what: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(format!(
            "{text:?}: the number of {what} must be a whole number in {}..={}",
            range.start(),
            range.end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_the_range_state_it() {
        assert_eq!(count_in("8", 1..=64, "images"), Ok(8));
        assert_eq!(count_in(" 64 ", 1..=64, "images"), Ok(64));
        for bad in ["0", "65", "-1", "18446744073709551616", "x", ""] {
            let error = count_in(bad, 1..=64, "images").unwrap_err();
            assert!(error.contains("images must be a whole number in 1..=64"), "{bad}: {error}");
        }
    }
}
