//! Every page of the book, rendered in a real browser (headless Chromium, offline, 1280 px
//! wide), shows its formulas, its images and all of every listing and table.
//!
//! `every_page_renders_in_chromium` builds the book and checks each chapter. The other tests
//! give the checker small pages with one defect each, to show that it fails on it.
//!
//! Needs `chromium` (`bash .ci/install-book-tools` installs it) and, for the real book, the
//! mdBook tools. Without them the tests print `SKIPPED` and pass, unless the environment
//! variable `CI` is set (to anything but `false` or `0`): then they fail.

use std::fs;
use std::io::Write;
use std::path::Path;

use tempfile::TempDir;
use workspace_tests::{book_check, browser_check, repository};

/// Whether the tools are there; panics in CI when they are not.
fn available(missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!in_ci, "CI is set, but {}: run `bash .ci/install-book-tools` first", missing.join("; "));
    let _ =
        writeln!(std::io::stderr(), "\nSKIPPED: {} (run bash .ci/install-book-tools)", missing.join("; "));
    false
}

fn missing_chromium() -> Vec<String> {
    if browser_check::chromium_available() {
        Vec::new()
    } else {
        vec![format!("`{}` is not installed", browser_check::CHROMIUM)]
    }
}

#[test]
fn every_page_renders_in_chromium() {
    let mut missing = missing_chromium();
    missing.extend(book_check::missing_tools());
    if !available(&missing) {
        return;
    }
    let book = repository::root().join("book");
    let dest = TempDir::new().unwrap();
    let build = book_check::build(&book, dest.path()).unwrap();
    assert!(build.status.success(), "mdbook build failed:\n{}", build.stderr);
    let summary = fs::read_to_string(book.join("src/SUMMARY.md")).unwrap();
    let chapters = book_check::chapter_paths(&summary);
    assert!(chapters.len() >= 6, "SUMMARY.md lists only {chapters:?}");
    let problems = browser_check::check(&dest.path().join("html"), &chapters);
    assert!(problems.is_empty(), "{} problem(s) in the browser:\n{}", problems.len(), problems.join("\n"));
}

/// Checks one hand-written page (the body of `<main>`) in a directory with a valid image
/// `ok.png` and an invalid one `broken.png`.
fn problems_of(main: &str) -> Vec<String> {
    let dir = TempDir::new().unwrap();
    let html = format!(
        "<!DOCTYPE html><html><head><style>main {{ width: 600px; }} \
         .table-wrapper {{ overflow-x: auto; }}</style></head><body><main>{main}</main></body></html>"
    );
    fs::write(dir.path().join("page.html"), html).unwrap();
    write_png(&dir.path().join("ok.png"));
    fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
    browser_check::check(dir.path(), &["page.md".to_string()])
}

/// A valid 2×2 PNG, written byte by byte (no image crate needed).
fn write_png(path: &Path) {
    const PNG: [u8; 73] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00,
        0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x44, 0x0c, 0x10,
        0x0a, 0x00, 0x1f, 0xee, 0x03, 0xfd, 0x8b, 0x5f, 0x14, 0xd4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
        0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    let bytes = PNG.to_vec();
    fs::write(path, bytes).unwrap();
}

fn assert_single(problems: &[String], expected: &str) {
    assert!(
        problems.len() == 1 && problems[0].contains(expected),
        "expected one problem containing {expected:?}, got {problems:?}"
    );
}

#[test]
fn checker_passes_a_sound_page() {
    if !available(&missing_chromium()) {
        return;
    }
    let page = "<p>text</p><img src=\"ok.png\"><pre><code>short line</code></pre>\
                <div class=\"table-wrapper\"><table><tr><td>a</td></tr></table></div>";
    assert_eq!(problems_of(page), Vec::<String>::new());
}

#[test]
fn checker_fails_on_a_katex_error_node() {
    if !available(&missing_chromium()) {
        return;
    }
    let page = "<span class=\"katex-error\" title=\"ParseError: KaTeX parse error\">\\frac{</span>";
    assert_single(&problems_of(page), "KaTeX error");
}

#[test]
fn checker_fails_on_an_image_that_did_not_load() {
    if !available(&missing_chromium()) {
        return;
    }
    assert_single(&problems_of("<img src=\"broken.png\">"), "image did not load: broken.png");
    assert_single(&problems_of("<img src=\"absent.png\">"), "image did not load: absent.png");
}

#[test]
fn checker_fails_on_a_listing_wider_than_the_page() {
    if !available(&missing_chromium()) {
        return;
    }
    let long = "x".repeat(200);
    let page = format!("<pre style=\"overflow-x: auto\"><code>{long}</code></pre>");
    assert_single(&problems_of(&page), "listing wider than the page");
    // The same line wrapped fits.
    let wrapped =
        format!("<pre><code style=\"white-space: pre-wrap; overflow-wrap: anywhere\">{long}</code></pre>");
    assert_eq!(problems_of(&wrapped), Vec::<String>::new());
}

#[test]
fn checker_fails_on_a_table_wider_than_the_page() {
    if !available(&missing_chromium()) {
        return;
    }
    let cells = "<td style=\"white-space: nowrap\">a_long_unbreakable_test_name_of_a_claim</td>".repeat(6);
    let page = format!("<div class=\"table-wrapper\"><table><tr>{cells}</tr></table></div>");
    assert_single(&problems_of(&page), "table wider than the page");
}
