//! Checks that read every file of the repository.
//!
//! - Every committed CSV parses as RFC 4180 CSV with a real reader (the `csv` crate), and each
//!   of its rows has as many fields as its header.
//! - The repository is self-contained: no file mentions the notes the project was started
//!   from, which are not part of it. What the project relies on from them is in the book's
//!   appendix "The sheet, and what we reconstructed".

use std::path::{Path, PathBuf};

use workspace_tests::repository;

/// Problems of one CSV text: parse errors and rows whose field count differs from the header's.
fn csv_problems(name: &str, text: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let width = match reader.headers() {
        Ok(header) if !header.is_empty() => header.len(),
        Ok(_) => return vec![format!("{name}: no header")],
        Err(e) => return vec![format!("{name}: cannot read the header: {e}")],
    };
    let mut problems = Vec::new();
    let mut rows = 0usize;
    for record in reader.records() {
        match record {
            Ok(record) if record.len() == width => rows += 1,
            Ok(record) => problems.push(format!(
                "{name}: line {} has {} fields, the header has {width}: {:?}",
                record.position().map_or(0, csv::Position::line),
                record.len(),
                record.iter().collect::<Vec<_>>()
            )),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if rows == 0 && problems.is_empty() {
        problems.push(format!("{name}: a header without data rows"));
    }
    problems
}

fn csv_files() -> Vec<PathBuf> {
    repository::files().into_iter().filter(|p| p.extension().is_some_and(|e| e == "csv")).collect()
}

#[test]
fn every_committed_csv_is_valid_with_one_field_per_column() {
    let files = csv_files();
    // The book's figures and measurements at least.
    assert!(files.len() >= 10, "found only {} CSV files: {files:?}", files.len());
    let root = repository::root();
    let problems: Vec<String> = files
        .iter()
        .flat_map(|path| match std::fs::read(root.join(path)) {
            Ok(bytes) => csv_problems(&path.display().to_string(), &bytes),
            Err(e) => vec![format!("{}: {e}", path.display())],
        })
        .collect();
    assert!(problems.is_empty(), "invalid CSV:\n{}", problems.join("\n"));
}

#[test]
fn the_csv_check_fails_on_an_unquoted_comma_and_passes_a_quoted_one() {
    let unquoted = "point,x,y\noutlier 1: (0, -3),0,-3\n";
    assert_eq!(csv_problems("bad.csv", unquoted.as_bytes()).len(), 1);
    let quoted = "point,x,y\n\"outlier 1: (0, -3)\",0,-3\n";
    assert!(csv_problems("good.csv", quoted.as_bytes()).is_empty());
    assert!(!csv_problems("open.csv", b"a,b\n\"1,2\n").is_empty());
    assert!(!csv_problems("empty.csv", b"a,b\n").is_empty());
}

/// The names that must not appear: notes outside the repository that a clone does not have.
/// Built from pieces so that this file does not contain them itself.
fn outside_references() -> [String; 3] {
    [["REFERENCE", ".md"].concat(), ["FACTS", ".md"].concat(), ["..", "/shared"].concat()]
}

/// `(file, line number, needle)` for every mention of a note outside the repository.
fn mentions(path: &Path, text: &str) -> Vec<(String, usize, String)> {
    let needles = outside_references();
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| {
            needles
                .iter()
                .filter(|needle| line.contains(needle.as_str()))
                .map(move |needle| (path.display().to_string(), i + 1, needle.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn no_file_refers_to_notes_outside_the_repository() {
    let root = repository::root();
    let files = repository::files();
    assert!(files.iter().any(|p| p.ends_with("Cargo.toml")), "no files found under {}", root.display());
    let found: Vec<String> = files
        .iter()
        // Binary files (weights, images) cannot hold a readable reference.
        .filter_map(|path| std::fs::read_to_string(root.join(path)).ok().map(|text| (path, text)))
        .flat_map(|(path, text): (&PathBuf, String)| mentions(path, &text))
        .map(|(file, line, needle)| format!("{file}:{line}: mentions {needle}"))
        .collect();
    assert!(
        found.is_empty(),
        "files refer to notes that are not in the repository (cite the book's appendix \
         \"The sheet, and what we reconstructed\" instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reference_check_finds_each_name() {
    for needle in outside_references() {
        let text = format!("first line\nas fixed in {needle}, see\n");
        assert_eq!(mentions(Path::new("x.rs"), &text), vec![("x.rs".to_string(), 2, needle.clone())]);
    }
    assert!(mentions(Path::new("x.rs"), "REFERENCE md, FACTS, shared").is_empty());
}
