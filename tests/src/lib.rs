//! Shared code of the end-to-end tests in `tests/`.
//!
//! - [`book_check`]: builds an mdBook with the project's tools and lists what is wrong with
//!   the result (failed build, unresolved includes, empty listings, unrendered math, broken
//!   links, missing images). `tests/book.rs` runs it on the real book and on small broken
//!   books, to show that each check can fail.

pub mod book_check;
