//! Output files that are complete or absent: each file is written under a temporary name in
//! its own directory and then renamed onto its name (a rename within one directory is atomic),
//! and the files of one result (an image's panel and `.npy` files) are written together or not
//! at all. Directories are created only when the first file is committed, so a run that fails
//! before that leaves nothing behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Files to write together: their paths and contents, kept in memory until [`commit`](Self::commit).
#[derive(Debug, Default)]
pub struct OutputSet {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl OutputSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file to write.
    pub fn add(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.files.push((path, bytes));
    }

    /// The paths the set will write, in order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(path, _)| path.as_path())
    }

    /// Creates the missing directories, writes every file under a temporary name beside it, then
    /// renames each onto its name. If writing any temporary fails, the temporaries written so far
    /// are removed and no file of the set appears. Returns the paths written.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(self.files.len());
        let mut result = Ok(());
        for (path, bytes) in &self.files {
            match stage(path, bytes) {
                Ok(temporary) => staged.push((temporary, path.clone())),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        if let Err(error) = result {
            for (temporary, _) in &staged {
                let _ = std::fs::remove_file(temporary);
            }
            return Err(error);
        }
        let mut written = Vec::with_capacity(staged.len());
        for (index, (temporary, path)) in staged.iter().enumerate() {
            if let Err(source) = std::fs::rename(temporary, path) {
                for (left, _) in &staged[index..] {
                    let _ = std::fs::remove_file(left);
                }
                return Err(Error::Io { path: path.clone(), source });
            }
            written.push(path.clone());
        }
        Ok(written)
    }
}

/// Writes `bytes` to `path` atomically: complete or not at all (see the module docs).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut set = OutputSet::new();
    set.add(path.to_path_buf(), bytes.to_vec());
    set.commit().map(|_| ())
}

/// Writes `bytes` under a temporary name in `path`'s directory (created if missing) and returns
/// that name.
fn stage(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let directory = parent(path);
    std::fs::create_dir_all(directory)
        .map_err(|source| Error::Io { path: directory.to_path_buf(), source })?;
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let temporary = directory.join(format!(".{name}.{}.partial", std::process::id()));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(Error::Io { path: temporary, source });
    }
    Ok(temporary)
}

/// The directory of `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Checks, before any work, that files can be written into `directory`: it is a directory, or
/// it does not exist yet and its nearest existing ancestor is a directory. Writability is
/// probed by creating and removing an empty file; nothing is left behind and no directory is
/// created.
pub fn check_output_directory(directory: &Path) -> Result<()> {
    let not_a_directory = |path: &Path| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "exists and is not a directory"),
    };
    let mut existing = directory;
    loop {
        match std::fs::metadata(existing) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => return Err(not_a_directory(existing)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => match existing.parent() {
                Some(up) if !up.as_os_str().is_empty() => existing = up,
                _ => {
                    existing = Path::new(".");
                    break;
                }
            },
            Err(source) => return Err(Error::Io { path: existing.to_path_buf(), source }),
        }
    }
    let probe = existing.join(format!(".xai-lab-write-probe.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|source| Error::Io { path: existing.to_path_buf(), source })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_written_whole_and_creates_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/deeper");
        let mut set = OutputSet::new();
        set.add(out.join("a.txt"), b"first".to_vec());
        set.add(out.join("b.txt"), b"second".to_vec());
        let written = set.commit().unwrap();
        assert_eq!(written, [out.join("a.txt"), out.join("b.txt")]);
        assert_eq!(std::fs::read(out.join("b.txt")).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary left: {names:?}");
    }

    #[test]
    fn a_set_that_cannot_be_written_leaves_no_file_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"a file where a directory is needed").unwrap();
        let mut set = OutputSet::new();
        set.add(dir.path().join("ok.txt"), b"fine".to_vec());
        set.add(blocker.join("inside.txt"), b"cannot".to_vec());
        assert!(matches!(set.commit(), Err(Error::Io { .. })));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["blocker"], "neither ok.txt nor a temporary: {names:?}");
    }

    #[test]
    fn output_directories_are_checked_without_creating_them() {
        let dir = tempfile::tempdir().unwrap();
        check_output_directory(&dir.path().join("not/yet/there")).unwrap();
        assert!(!dir.path().join("not").exists());
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let error = check_output_directory(&file.join("sub")).unwrap_err();
        assert!(error.to_string().to_lowercase().contains("not a directory"), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the probe is removed");
    }
}
