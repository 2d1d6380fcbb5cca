//! Placeholder overview of `neuralization`; the crate is being written.
