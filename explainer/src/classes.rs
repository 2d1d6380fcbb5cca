//! ImageNet-1k class names and choosing the class to explain by index or by name.
//!
//! The names are torchvision's (`VGG16_Weights.IMAGENET1K_V1.meta["categories"]`), in the index
//! order of torchvision's classifiers: index 483 is `castle`. They ship with the crate in
//! `data/imagenet_classes.txt`, one per line.

use std::str::FromStr;

use crate::{Error, Result};

/// The 1000 ImageNet-1k class names, one per line, in torchvision's index order.
const IMAGENET_CLASSES: &str = include_str!("../data/imagenet_classes.txt");

/// How many close names an unknown-name error suggests.
const SUGGESTIONS: usize = 5;

/// The ImageNet-1k class names in torchvision's index order.
pub fn imagenet_classes() -> Vec<&'static str> {
    IMAGENET_CLASSES.lines().collect()
}

/// The class to explain, as the user wrote it: an index (`483`) or a name (`castle`).
///
/// ```
/// use explainer::classes::{ClassSelector, imagenet_classes};
///
/// let names = imagenet_classes();
/// let sweater: ClassSelector = "cardigan".parse()?;
/// assert_eq!(sweater.resolve(&names)?, 474); // exact case wins over 264 "Cardigan" (a corgi)
/// assert!("-1".parse::<ClassSelector>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassSelector {
    /// An output index.
    Index(usize),
    /// A class name, matched case-insensitively against the ImageNet names.
    Name(String),
}

impl FromStr for ClassSelector {
    type Err = String;

    /// All digits → [`ClassSelector::Index`]; anything else → [`ClassSelector::Name`]. A
    /// negative number, or one too large for an index, is an error: it is not a name either.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty class: give an index (483) or a name (castle)".into());
        }
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            if text.starts_with('-') {
                return Err(format!(
                    "class {text} is negative: classes are numbered from 0 (0..=999 for ImageNet)"
                ));
            }
            return digits.parse::<usize>().map(Self::Index).map_err(|_| {
                format!("class {text} is far beyond any model's classes (0..=999 for ImageNet)")
            });
        }
        Ok(Self::Name(text.to_string()))
    }
}

impl ClassSelector {
    /// The output index this selector means for a model with `names.len()` classes.
    ///
    /// An index must be `< names.len()`. A name that equals exactly one of `names` is that
    /// class (`cardigan` the sweater, `Cardigan` the corgi); otherwise a name that equals exactly
    /// one of them ignoring case. Several matches are [`Error::AmbiguousClass`] listing them;
    /// none is [`Error::UnknownClass`] with the closest names by edit distance, substrings first.
    pub fn resolve(&self, names: &[&str]) -> Result<usize> {
        match self {
            Self::Index(index) if *index < names.len() => Ok(*index),
            Self::Index(index) => Err(Error::ClassOutOfRange { index: *index, classes: names.len() }),
            Self::Name(name) => {
                let exact: Vec<usize> = (0..names.len()).filter(|&i| names[i] == name).collect();
                let wanted = name.to_lowercase();
                let matches = if exact.is_empty() {
                    (0..names.len()).filter(|&i| names[i].to_lowercase() == wanted).collect()
                } else {
                    exact
                };
                match matches.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(Error::UnknownClass { name: name.clone(), closest: closest(&wanted, names) }),
                    several => Err(Error::AmbiguousClass {
                        name: name.clone(),
                        candidates: several.iter().map(|&i| (i, names[i].to_string())).collect(),
                    }),
                }
            }
        }
    }
}

/// The [`SUGGESTIONS`] names closest to `wanted`: names containing it first, then by
/// Levenshtein distance; ties keep index order.
fn closest(wanted: &str, names: &[&str]) -> Vec<String> {
    let mut ranked: Vec<(bool, usize, usize)> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let name = name.to_lowercase();
            (!name.contains(wanted), levenshtein(wanted, &name), index)
        })
        .collect();
    ranked.sort_unstable();
    ranked.iter().take(SUGGESTIONS).map(|&(_, _, index)| names[index].to_string()).collect()
}

/// The edit distance between `a` and `b` (insertions, deletions, substitutions of chars).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_the_thousand_torchvision_names() {
        let names = imagenet_classes();
        assert_eq!(names.len(), 1000);
        assert_eq!(names[0], "tench");
        assert_eq!(names[483], "castle");
        assert!(names.iter().all(|name| !name.is_empty() && name.trim() == *name));
    }

    #[test]
    fn resolves_index_and_name() {
        let names = imagenet_classes();
        let by_index: ClassSelector = "483".parse().unwrap();
        let by_name: ClassSelector = "Castle".parse().unwrap();
        assert_eq!(by_index.resolve(&names).unwrap(), 483);
        assert_eq!(by_name.resolve(&names).unwrap(), 483);
    }

    #[test]
    fn index_out_of_range_is_an_error() {
        let names = imagenet_classes();
        let error = ClassSelector::Index(1000).resolve(&names).unwrap_err();
        assert!(matches!(error, Error::ClassOutOfRange { index: 1000, classes: 1000 }));
        assert!(error.to_string().contains("0..=999"), "{error}");
    }

    #[test]
    fn unknown_name_suggests_close_names() {
        let names = imagenet_classes();
        let error = ClassSelector::Name("casle".into()).resolve(&names).unwrap_err();
        match error {
            Error::UnknownClass { closest, .. } => assert_eq!(closest[0], "castle"),
            other => panic!("unexpected {other}"),
        }
        let error = ClassSelector::Name("shark".into()).resolve(&names).unwrap_err();
        match error {
            Error::UnknownClass { closest, .. } => {
                // Both names that contain "shark" come first, the closer one first.
                assert_eq!(closest[..2], ["tiger shark".to_string(), "great white shark".to_string()])
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn exact_case_wins_and_ambiguous_names_list_their_candidates() {
        let names = imagenet_classes();
        assert_eq!(ClassSelector::Name("cardigan".into()).resolve(&names).unwrap(), 474);
        assert_eq!(ClassSelector::Name("Cardigan".into()).resolve(&names).unwrap(), 264);
        let error = ClassSelector::Name("CARDIGAN".into()).resolve(&names).unwrap_err();
        match &error {
            Error::AmbiguousClass { candidates, .. } => {
                assert_eq!(candidates, &[(264, "Cardigan".to_string()), (474, "cardigan".to_string())])
            }
            other => panic!("unexpected {other}"),
        }
        assert!(error.to_string().contains("264 \"Cardigan\", 474 \"cardigan\""), "{error}");
        // Two classes with exactly the same name (as in other label sets) are ambiguous too.
        let error = ClassSelector::Name("crane".into()).resolve(&["crane", "kite", "crane"]).unwrap_err();
        assert!(
            matches!(&error, Error::AmbiguousClass { candidates, .. } if candidates.len() == 2),
            "{error}"
        );
    }

    #[test]
    fn negative_and_huge_numbers_are_not_names() {
        let negative = "-1".parse::<ClassSelector>().unwrap_err();
        assert!(negative.contains("negative") && negative.contains("0..=999"), "{negative}");
        let huge = "123456789012345678901234567890".parse::<ClassSelector>().unwrap_err();
        assert!(huge.contains("0..=999"), "{huge}");
        assert!("".parse::<ClassSelector>().is_err());
        assert_eq!("+7".parse::<ClassSelector>().unwrap(), ClassSelector::Index(7));
        assert_eq!("tree frog".parse::<ClassSelector>().unwrap(), ClassSelector::Name("tree frog".into()));
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
