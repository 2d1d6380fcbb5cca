//! Placeholder overview of `explainer`; the crate is being written.
