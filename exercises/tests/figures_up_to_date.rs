//! The figures committed in `book/src/figures/` are the ones the `figures` binary draws today.
//!
//! The book shows the committed files, so they must be current. The binary is run into a temp
//! dir and its output compared with `book/src/figures/`:
//!
//! - every file it writes is committed, and every committed figure file is still written (no
//!   stale figures);
//! - each figure is a PNG and a CSV with the same stem, nothing else;
//! - each CSV is byte-identical to the committed one (the data of the plot);
//! - each PNG, generated and committed, has the PNG signature, decodes, and both have the same
//!   size.
//!
//! On failure: `cargo run --release -p exercises --bin figures`, then commit `book/src/figures/`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first eight bytes of every PNG file.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

const REGENERATE: &str = "run `cargo run --release -p exercises --bin figures` and commit book/src/figures/";

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/figures")
}

/// Paths of the files under `dir`, relative to it, without hidden files (`.gitkeep`).
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, found);
            } else {
                found.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(dir, dir, &mut found);
    found
}

/// Problems with the PNG at `path`; its size when it decodes.
fn check_png(path: &Path, problems: &mut Vec<String>) -> Option<(u32, u32)> {
    let bytes = fs::read(path).unwrap();
    if !bytes.starts_with(&PNG_SIGNATURE) {
        problems.push(format!("{}: no PNG signature", path.display()));
        return None;
    }
    match image::load_from_memory_with_format(&bytes, image::ImageFormat::Png) {
        Ok(decoded) => Some((decoded.width(), decoded.height())),
        Err(e) => {
            problems.push(format!("{}: does not decode: {e}", path.display()));
            None
        }
    }
}

/// Each `.png` has its `.csv` and vice versa; no other kinds of file.
fn check_pairs(files: &BTreeSet<PathBuf>, place: &str, problems: &mut Vec<String>) {
    for file in files {
        let partner = match file.extension().and_then(|e| e.to_str()) {
            Some("png") => file.with_extension("csv"),
            Some("csv") => file.with_extension("png"),
            _ => {
                problems.push(format!("{place}: {} is neither a PNG nor a CSV", file.display()));
                continue;
            }
        };
        if !files.contains(&partner) {
            problems.push(format!("{place}: {} has no {}", file.display(), partner.display()));
        }
    }
}

/// Everything that differs between the figures drawn now (`generated_dir`) and the ones the
/// book shows (`committed_dir`).
fn figure_problems(generated_dir: &Path, committed_dir: &Path) -> Vec<String> {
    let generated = files_under(generated_dir);
    let committed = files_under(committed_dir);
    let mut problems = Vec::new();
    check_pairs(&generated, "generated", &mut problems);
    check_pairs(&committed, "book/src/figures", &mut problems);

    for file in &generated {
        let fresh = generated_dir.join(file);
        let kept = committed_dir.join(file);
        if !committed.contains(file) {
            problems.push(format!("{} is drawn but not in book/src/figures/", file.display()));
            continue;
        }
        match file.extension().and_then(|e| e.to_str()) {
            Some("csv") if fs::read(&fresh).unwrap() != fs::read(&kept).unwrap() => {
                problems
                    .push(format!("{}: the committed CSV differs from the one drawn now", file.display()));
            }
            Some("csv") => {}
            Some("png") => {
                let fresh_size = check_png(&fresh, &mut problems);
                let kept_size = check_png(&kept, &mut problems);
                if let (Some(fresh_size), Some(kept_size)) = (fresh_size, kept_size)
                    && fresh_size != kept_size
                {
                    problems.push(format!(
                        "{}: committed {kept_size:?} pixels, drawn now {fresh_size:?}",
                        file.display()
                    ));
                }
            }
            _ => {}
        }
    }
    for stale in committed.difference(&generated) {
        problems.push(format!(
            "book/src/figures/{} is stale: the figures binary no longer draws it",
            stale.display()
        ));
    }
    problems
}

#[test]
fn committed_figures_are_what_the_figures_binary_draws() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_figures")).arg("--out").arg(out.path()).output().unwrap();
    assert!(
        run.status.success(),
        "the figures binary failed ({}):\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let problems = figure_problems(out.path(), &committed_dir());
    assert!(
        problems.is_empty(),
        "{} problem(s) with the book's figures; {REGENERATE}:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checks above, shown to fail: a "generated" and a "committed" directory that start equal
/// (one figure `a`, 4×3 pixels), then one defect.
mod the_check_fails {
    use super::*;

    struct Dirs {
        generated: tempfile::TempDir,
        committed: tempfile::TempDir,
    }

    fn write_figure(dir: &Path, stem: &str, (width, height): (u32, u32), csv: &str) {
        image::RgbImage::new(width, height).save(dir.join(format!("{stem}.png"))).unwrap();
        fs::write(dir.join(format!("{stem}.csv")), csv).unwrap();
    }

    fn equal_dirs() -> Dirs {
        let dirs = Dirs { generated: tempfile::tempdir().unwrap(), committed: tempfile::tempdir().unwrap() };
        for dir in [dirs.generated.path(), dirs.committed.path()] {
            write_figure(dir, "a", (4, 3), "x,y\n1,2\n");
            fs::write(dir.join(".gitkeep"), "").unwrap();
        }
        dirs
    }

    #[track_caller]
    fn assert_found(dirs: &Dirs, expected: &str) {
        let problems = figure_problems(dirs.generated.path(), dirs.committed.path());
        assert!(problems.iter().any(|p| p.contains(expected)), "expected {expected:?} in {problems:#?}");
    }

    #[test]
    fn passes_when_equal_and_when_empty() {
        let dirs = equal_dirs();
        assert_eq!(figure_problems(dirs.generated.path(), dirs.committed.path()), Vec::<String>::new());
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(figure_problems(empty.path(), empty.path()), Vec::<String>::new());
    }

    #[test]
    fn on_a_figure_that_is_not_committed() {
        let dirs = equal_dirs();
        write_figure(dirs.generated.path(), "new", (4, 3), "x\n1\n");
        assert_found(&dirs, "new.png is drawn but not in book/src/figures/");
    }

    #[test]
    fn on_a_stale_figure() {
        let dirs = equal_dirs();
        write_figure(dirs.committed.path(), "old", (4, 3), "x\n1\n");
        assert_found(&dirs, "old.csv is stale");
    }

    #[test]
    fn on_changed_data() {
        let dirs = equal_dirs();
        fs::write(dirs.generated.path().join("a.csv"), "x,y\n1,2.0000001\n").unwrap();
        assert_found(&dirs, "a.csv: the committed CSV differs");
    }

    #[test]
    fn on_a_png_without_csv_and_a_stray_file() {
        let dirs = equal_dirs();
        fs::remove_file(dirs.committed.path().join("a.csv")).unwrap();
        fs::write(dirs.committed.path().join("notes.txt"), "").unwrap();
        assert_found(&dirs, "book/src/figures: a.png has no a.csv");
        assert_found(&dirs, "notes.txt is neither a PNG nor a CSV");
    }

    #[test]
    fn on_a_broken_or_resized_png() {
        let dirs = equal_dirs();
        fs::write(dirs.committed.path().join("a.png"), b"GIF89a").unwrap();
        assert_found(&dirs, "a.png: no PNG signature");
        let mut truncated = PNG_SIGNATURE.to_vec();
        truncated.extend_from_slice(b"\0\0\0\rIHDR");
        fs::write(dirs.committed.path().join("a.png"), truncated).unwrap();
        assert_found(&dirs, "a.png: does not decode");
        write_figure(dirs.committed.path(), "a", (5, 3), "x,y\n1,2\n");
        assert_found(&dirs, "a.png: committed (5, 3) pixels, drawn now (4, 3)");
    }
}
