//! The committed measurements of the book (`book/src/measurements/`, written by `evaluate` at its
//! defaults) are what `evaluate` writes now: the table, its CSV and the flipping curves, byte for
//! byte (the table's first line names the command, which differs by `--out`). Takes about a
//! minute: it is the whole evaluation.

use std::path::PathBuf;
use std::process::Command;

fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/measurements").join(name)
}

#[test]
fn the_books_measurements_are_what_evaluate_writes() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_evaluate")).arg("--out").arg(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for name in ["evaluation.csv", "pixel_flipping.csv"] {
        let now = std::fs::read(dir.path().join(name)).unwrap();
        assert!(now == std::fs::read(committed(name)).unwrap(), "{name} is stale: run `evaluate` and commit");
    }
    let table = |text: String| text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    let now = table(std::fs::read_to_string(dir.path().join("evaluation.md")).unwrap());
    let then = table(std::fs::read_to_string(committed("evaluation.md")).unwrap());
    assert_eq!(now, then, "evaluation.md is stale: run `evaluate` and commit");
}
