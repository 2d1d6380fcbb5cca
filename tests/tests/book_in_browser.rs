//! Every page of the book, rendered in a real browser (headless Chromium, offline, 1280 px
//! wide), shows its formulas, its images and all of every listing and table.
//!
//! `every_page_renders_in_chromium` builds the book and checks each chapter.
//! `the_demos_compute_in_chromium` drives the two live demos (WebAssembly) and compares what
//! they compute with the closed forms and with the explainer run natively here. The other tests
//! give the checker small pages with one defect each, to show that it fails on it.
//!
//! Needs `chromium` (`bash .ci/install-book-tools` installs it) and, for the real book, the
//! mdBook tools and, for the demos, their module (`book/build-demos`). Without them the tests print `SKIPPED` and pass, unless the environment
//! variable `CI` is set (to anything but `false` or `0`): then they fail.

use std::fs;
use std::io::Write;
use std::path::Path;

use candle_core::{DType, Device};
use explainer::composite::Preset;
use explainer::scenes::{generate_scene, scenes_to_input};
use explainer::shipped::shapes_model;
use explainer::{Attributor, Engine, Lrp, PresetOptions};
use tempfile::TempDir;
use workspace_tests::demo_check::{self, MIN_NETWORKS_DRIVER, ShapesInput};
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

/// The book's source directory and a temporary directory holding its build.
fn built_book() -> (std::path::PathBuf, TempDir) {
    let book = repository::root().join("book");
    let dest = TempDir::new().unwrap();
    let build = book_check::build(&book, dest.path()).unwrap();
    assert!(build.status.success(), "mdbook build failed:\n{}", build.stderr);
    (book, dest)
}

#[test]
fn every_page_renders_in_chromium() {
    let mut missing = missing_chromium();
    missing.extend(book_check::missing_tools());
    if !available(&missing) {
        return;
    }
    let (book, dest) = built_book();
    let summary = fs::read_to_string(book.join("src/SUMMARY.md")).unwrap();
    let chapters = book_check::chapter_paths(&summary);
    assert!(chapters.len() >= 6, "SUMMARY.md lists only {chapters:?}");
    let problems = browser_check::check(&dest.path().join("html"), &chapters);
    assert!(problems.is_empty(), "{} problem(s) in the browser:\n{}", problems.len(), problems.join("\n"));
}

/// The demos' module, written by `book/build-demos` (not committed).
fn missing_demos() -> Vec<String> {
    let module = repository::root().join("book/src/demos/demos-wasm.js");
    if module.is_file() {
        Vec::new()
    } else {
        vec![format!("{} is not built (run book/build-demos)", module.display())]
    }
}

/// Demo 1's `R1`, `R2` at `a1 = a2 = 1` against the chapter's closed forms: exact up to a few
/// roundings.
const CLOSED_FORM_TOLERANCE: f64 = 1e-12;
/// Demo 2's relevance against the explainer run natively, every value (the largest `|R|` is
/// about 0.4): float32, summed in another order by other machine code (and, against the
/// library's default engine, by another engine when the page computes with autograd).
const NATIVE_TOLERANCE: f64 = 1e-6;

#[test]
fn the_demos_compute_in_chromium() {
    let mut missing = missing_chromium();
    missing.extend(book_check::missing_tools());
    missing.extend(missing_demos());
    if !available(&missing) {
        return;
    }
    let (_, dest) = built_book();
    let html = dest.path().join("html");
    let profile = TempDir::new().unwrap();

    // Demo 1: the sliders at a1 = a2 = 1 and three γ; the chapter's 2(b) closed forms.
    let run =
        demo_check::run(&html.join("lrp-min-networks.html"), profile.path(), MIN_NETWORKS_DRIVER).unwrap();
    assert!(run.problems.is_empty(), "demo 1: {:?}", run.problems);
    let mut worst: f64 = 0.0;
    for gamma in [0.0, 0.25, 1.0] {
        let a = 1.0;
        let closed = [
            ("A", a / 2.0, a / 2.0),
            ("B", a * (1.0 + gamma) / (1.0 + 2.0 * gamma), a * gamma / (1.0 + 2.0 * gamma)),
        ];
        for (network, r1, r2) in closed {
            for (key, expected) in [("r1", r1), ("r2", r2), ("y", a)] {
                let shown = run.number(&format!("{network}-{key}@{gamma}")).unwrap();
                let error = (shown - expected).abs();
                assert!(
                    error <= CLOSED_FORM_TOLERANCE,
                    "network {network}, γ = {gamma}: {key} = {shown}, closed form {expected}"
                );
                worst = worst.max(error);
            }
        }
    }
    println!("demo 1: R1, R2, y at a1 = a2 = 1, γ = 0, 0.25, 1 within {worst:e} of the closed forms");

    // Demo 2: one scene, class and composite; the same explanation by the library, natively.
    let input = ShapesInput { seed: 1_000_000_005, class: 3, method: 2, gamma: 0.25, repeats: 5 };
    let run = demo_check::run(
        &html.join("measuring-explanations.html"),
        profile.path(),
        &demo_check::shapes_driver(&input),
    )
    .unwrap();
    assert!(run.problems.is_empty(), "demo 2: {:?}", run.problems);
    assert_eq!(run.text("method").unwrap(), "epsilon_gamma_box");
    assert_eq!(run.text("shows_sum").unwrap(), "true");
    let load = run.number("load_ms").unwrap();
    let first = run.number("first_ms").unwrap();
    let mut times: Vec<f64> = run.values["ms"].iter().map(|v| v.parse().unwrap()).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "demo 2: one explanation in Chromium: median {:.0} ms of {} (min {:.0}, max {:.0}); the page's own \
         update after the class was chosen {first:.0} ms; loading the module {load:.0} ms",
        times[times.len() / 2],
        times.len(),
        times[0],
        times[times.len() - 1]
    );
    let page: Vec<f64> = run.text("relevance").unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    let logit = run.number("logit").unwrap();
    let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
    let x = scenes_to_input(&[generate_scene(u64::from(input.seed))], &Device::Cpu, DType::F32).unwrap();
    let options = PresetOptions { gamma: Some(vec![input.gamma]), ..Default::default() };
    let composite = Preset::EpsilonGammaBox.composite(&options).unwrap();
    // The library's default engine, and the engine the page computes with.
    for engine in [Engine::default(), book_demos::method::ENGINE] {
        let native =
            Lrp::new(composite.clone()).with_engine(engine).attribute(&model, &x, input.class).unwrap();
        let native_r: Vec<f32> = native.relevance.flatten_all().unwrap().to_vec1().unwrap();
        let native_logit =
            f64::from(native.logits.flatten_all().unwrap().to_vec1::<f32>().unwrap()[input.class]);
        assert_eq!(page.len(), native_r.len());
        let scale = native_r.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs()));
        let worst = page.iter().zip(&native_r).fold(0f64, |m, (&p, &n)| m.max((p - f64::from(n)).abs()));
        println!(
            "demo 2: relevance of scene {} class {} (epsilon_gamma_box, γ {}), all {} values within {worst:.3e} of \
             the native library's {engine:?} engine (largest |R| {scale:.4}); logit {logit} (native {native_logit})",
            input.seed,
            input.class,
            input.gamma,
            page.len()
        );
        assert!(worst <= NATIVE_TOLERANCE, "{engine:?}: largest difference {worst:e}, largest |R| {scale}");
        assert!((logit - native_logit).abs() <= NATIVE_TOLERANCE * native_logit.abs().max(1.0));
    }
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
