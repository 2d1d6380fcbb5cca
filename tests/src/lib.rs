//! Shared code of the end-to-end tests in `tests/`.
//!
//! - [`book_check`]: builds an mdBook with the project's tools and lists what is wrong with
//!   the result (failed build, unresolved includes, empty listings, unrendered math, broken
//!   links, missing images). `tests/book.rs` runs it on the real book and on small broken
//!   books, to show that each check can fail.
//! - [`browser_check`]: renders every page of a built book in headless Chromium and lists
//!   what a reader would see broken (KaTeX error nodes, images that did not load, code blocks
//!   wider than the page). `tests/book_in_browser.rs` runs it.
//! - [`demo_check`]: drives the book's live demos (WebAssembly) in headless Chromium and reads
//!   back what they computed; `tests/book_in_browser.rs` compares it with the libraries run
//!   natively.
//! - [`repository`]: the files of the repository (`git ls-files`), for the checks that read
//!   all of them (`tests/repository_files.rs`: valid CSV, no reference to notes outside the
//!   repository).

pub mod book_check;
pub mod browser_check;
pub mod demo_check;
pub mod repository;
