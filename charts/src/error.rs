//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// plotters could not draw (bad ranges, missing font, ...).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("cannot encode {path}: {source}")]
    Encode {
        /// The PNG file.
        path: PathBuf,
        /// The underlying error.
        source: image::ImageError,
    },
    /// The data given cannot be plotted (empty, ragged or non-finite where it must be finite).
    #[error("invalid figure data: {0}")]
    InvalidData(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A CSV record could not be written.
    pub(crate) fn csv(error: csv::Error) -> Self {
        Self::InvalidData(format!("cannot write CSV: {error}"))
    }

    /// Wraps any plotters drawing error (for code that draws with plotters outside this crate).
    pub fn draw_error(error: impl std::fmt::Display) -> Self {
        Self::draw(error)
    }

    /// Wraps any plotters drawing error.
    pub(crate) fn draw(error: impl std::fmt::Display) -> Self {
        Self::Draw(error.to_string())
    }
}
