//! Placeholder overview of `lrp_min_networks`; the crate is being written.
