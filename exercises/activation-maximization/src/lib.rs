//! Placeholder overview of `activation_maximization`; the crate is being written.
