//! The error type of the explainer library.

use std::path::PathBuf;

/// Everything the explainer library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from candle's tensor operations.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An image could not be decoded or is unusable.
    #[error("image {path}: {why}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A parameter is outside its domain.
    #[error("invalid {name} = {value}: {why}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Its value, as given.
        value: String,
        /// Why it is invalid.
        why: String,
    },
    /// A weights file that cannot be read as a state dict (missing, truncated, not weights).
    #[error("weights {path}: {why}")]
    WeightsFile {
        /// The weights file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A state dict whose tensors do not fit the model: every problem, listed together.
    #[error("weights {path} do not fit {model}:\n  {}", problems.join("\n  "))]
    WeightsMismatch {
        /// The weights file.
        path: PathBuf,
        /// The model the weights were loaded into.
        model: String,
        /// One line per missing, unexpected or mis-shaped tensor.
        problems: Vec<String>,
    },
    /// An input tensor the model cannot take (shape, dtype, device or values).
    #[error("invalid input {shape}: {why}")]
    InvalidInput {
        /// The input's shape, as given.
        shape: String,
        /// What the model needs instead.
        why: String,
    },
    /// A class index beyond the model's outputs.
    #[error("class {index} does not exist: the model has {classes} classes (0..={})", classes - 1)]
    ClassOutOfRange {
        /// The index asked for.
        index: usize,
        /// Number of classes.
        classes: usize,
    },
    /// A class name that matches no ImageNet class.
    #[error("no ImageNet class is called \"{name}\"; closest: {}", closest.join(", "))]
    UnknownClass {
        /// The name asked for.
        name: String,
        /// The closest class names, best first.
        closest: Vec<String>,
    },
    /// An evaluation mask that marks no pixel: a localisation metric is undefined for it.
    #[error("the mask of {what} is empty: no pixel is inside the object")]
    EmptyMask {
        /// Which mask (e.g. `"scene 3"`, `"mass accuracy"`).
        what: String,
    },
    /// Two inputs of an evaluation that must agree in shape do not.
    #[error("shape mismatch: {what} is {found}, expected {expected}")]
    ShapeMismatch {
        /// What was compared.
        what: &'static str,
        /// The shape needed.
        expected: String,
        /// The shape given.
        found: String,
    },
    /// A NaN or infinite value where an evaluation needs finite numbers.
    #[error("{what} is not finite ({value}) at index {index}")]
    NonFinite {
        /// Which quantity.
        what: &'static str,
        /// The first offending index.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A metric that is undefined for this input (e.g. mass accuracy without positive relevance).
    #[error("{metric} is undefined: {why}")]
    UndefinedMetric {
        /// The metric's name.
        metric: &'static str,
        /// Why it has no value.
        why: String,
    },
    /// Drawing or writing an evaluation figure failed.
    #[error(transparent)]
    Figure(#[from] charts::Error),
    /// A class name that several classes answer to (ImageNet has two "crane"s, and "Cardigan"
    /// the corgi beside "cardigan" the sweater): every candidate, with its index.
    #[error(
        "class name \"{name}\" is ambiguous: {}; choose one by its index",
        candidates.iter().map(|(index, name)| format!("{index} \"{name}\"")).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousClass {
        /// The name asked for.
        name: String,
        /// Every class it matches: index and name.
        candidates: Vec<(usize, String)>,
    },
    /// A tensor of a weights file whose values cannot be weights: an integer dtype, or a NaN
    /// or infinite entry.
    #[error("weights {path}: tensor {tensor} {why}")]
    InvalidWeight {
        /// The weights file (`(in memory)` for a state dict built in memory).
        path: PathBuf,
        /// The tensor's name in the state dict.
        tensor: String,
        /// What is wrong with its values.
        why: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error with `path` as the file of a weights error built in memory (other errors as
    /// they are).
    pub fn with_path(self, path: &std::path::Path) -> Self {
        match self {
            Error::WeightsMismatch { model, problems, .. } => {
                Error::WeightsMismatch { path: path.to_owned(), model, problems }
            }
            Error::InvalidWeight { tensor, why, .. } => {
                Error::InvalidWeight { path: path.to_owned(), tensor, why }
            }
            e => e,
        }
    }
}
