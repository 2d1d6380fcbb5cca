//! The files of the repository, as a clone has them.
//!
//! [`files`] lists what git tracks (`git ls-files`); where git is not available (a source
//! tarball), it walks the tree instead, leaving out build output (`target*/`, `book/book/`) and
//! hidden directories.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (this package lives in `<root>/tests`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file of the repository, relative to [`root`], sorted.
pub fn files() -> Vec<PathBuf> {
    let root = root();
    let listed = Command::new("git").arg("-C").arg(&root).args(["ls-files", "-z"]).output();
    let mut files: Vec<PathBuf> = match listed {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => out
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            // A file deleted in the work tree but not yet in the index.
            .filter(|path| root.join(path).is_file())
            .collect(),
        _ => {
            let mut found = Vec::new();
            walk(&root, Path::new(""), &mut found);
            found
        }
    };
    files.sort();
    files
}

fn walk(root: &Path, relative: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = relative.join(&*name);
        let is_build_output = name.starts_with("target") || path == Path::new("book/book");
        if name.starts_with('.') && name != ".ci" || is_build_output {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(root, &path, found),
            Ok(kind) if kind.is_file() => found.push(path),
            _ => {}
        }
    }
}
