//! The book builds, and what it shows is complete: every include resolved, every formula
//! rendered by KaTeX with the vendored fonts, every link and image present.
//!
//! `the_book_builds_cleanly` checks the real book. The other tests build small scratch books,
//! each with one defect, and show that the checker fails on it (and passes a sound one).
//!
//! Needs `mdbook`, `mdbook-katex` and `mdbook-linkcheck2` (`bash .ci/install-book-tools`).
//! Without them the tests print `SKIPPED` and pass, unless the environment variable `CI` is set
//! (to anything but `false` or `0`): then they fail.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

use tempfile::TempDir;
use workspace_tests::book_check;

/// The workspace root (this package lives in `<root>/tests`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether the book tools are installed; panics in CI when they are not.
fn tools_installed() -> bool {
    let missing = book_check::missing_tools();
    if missing.is_empty() {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !in_ci,
        "CI is set, so the book must be checked, but {}: run `bash .ci/install-book-tools` first",
        missing.join("; ")
    );
    // Once per run, straight to the stderr stream: libtest captures `eprintln!` of passing tests.
    static REPORTED: Once = Once::new();
    REPORTED.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n==================================================================\n\
         SKIPPED: mdbook not installed, run bash .ci/install-book-tools\n\
         ({})\n\
         ==================================================================",
            missing.join("; ")
        );
    });
    false
}

#[test]
fn the_book_builds_cleanly() {
    if !tools_installed() {
        return;
    }
    let dest = TempDir::new().unwrap();
    let problems = book_check::check(&workspace_root().join("book"), dest.path());
    assert!(problems.is_empty(), "the book has {} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
}

/// A one-chapter book in a temp dir, configured like the real one (its `book.toml`, theme and
/// vendored KaTeX), with `code/listing.rs` (anchor `good`) beside it and `src/figures/ok.png`.
struct ScratchBook {
    root: TempDir,
}

impl ScratchBook {
    fn new(chapter: &str) -> Self {
        Self::with_config(chapter, |toml| toml.to_string())
    }

    /// The real `book.toml`, changed by `edit`.
    fn with_config(chapter: &str, edit: impl Fn(&str) -> String) -> Self {
        let real = workspace_root().join("book");
        let root = TempDir::new().unwrap();
        let book = root.path().join("book");
        let toml = fs::read_to_string(real.join("book.toml")).unwrap();
        fs::create_dir_all(book.join("src/figures")).unwrap();
        fs::write(book.join("book.toml"), edit(&toml)).unwrap();
        copy_dir(&real.join("theme"), &book.join("theme"));
        copy_dir(&real.join("src/katex"), &book.join("src/katex"));
        fs::write(
            book.join("src/SUMMARY.md"),
            "# Summary\n\n[Introduction](introduction.md)\n\n- [Chapter](chapter.md)\n",
        )
        .unwrap();
        fs::write(book.join("src/introduction.md"), "# Introduction\n\nA book.\n").unwrap();
        fs::write(book.join("src/chapter.md"), chapter).unwrap();
        fs::write(book.join("src/figures/ok.png"), b"not decoded by the book").unwrap();
        fs::create_dir_all(root.path().join("code")).unwrap();
        fs::write(
            root.path().join("code/listing.rs"),
            "// ANCHOR: good\nfn good() {}\n// ANCHOR_END: good\n",
        )
        .unwrap();
        ScratchBook { root }
    }

    fn book_dir(&self) -> PathBuf {
        self.root.path().join("book")
    }

    /// Removes a file of the book (path relative to `book/`).
    fn remove(self, file: &str) -> Self {
        fs::remove_file(self.book_dir().join(file)).unwrap();
        self
    }

    fn problems(&self) -> Vec<String> {
        book_check::check(&self.book_dir(), &self.root.path().join("out"))
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `toml` without the table `[header]` (up to the next table).
fn without_table(toml: &str, header: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in toml.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == header;
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// Asserts that one of `problems` contains `expected`.
#[track_caller]
fn assert_found(problems: &[String], expected: &str) {
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got {} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// Everything the real book uses, done right.
const SOUND_CHAPTER: &str = r#"# Chapter

Inline $R_i = \sum_j \frac{a_i w_{ij}}{z_j} R_j$ for $x \in [-2, 2]^n$ (brackets in math are not
links), a literal \$5, code `echo $HOME`, and

$$
\min(a_1, a_2) = a_1 - \max(0, a_1 - a_2)
$$

```rust
{{#include ../../code/listing.rs:good}}
```

```rust
{{#rustdoc_include ../../code/listing.rs:good}}
```

```text
{{#include ../../code/listing.rs:good}}
```

![A figure](figures/ok.png) <img src="figures/ok.png" alt="the same">

[Introduction](introduction.md), [a web page](https://example.invalid/offline),
[a heading](#a-heading), [another page's heading](introduction.md#introduction).

## A heading
"#;

#[test]
fn checker_passes_a_sound_book() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::new(SOUND_CHAPTER).problems();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn checker_fails_when_mdbook_fails() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::new("# Chapter\n").remove("src/chapter.md").problems();
    assert_found(&problems, "mdbook build exited with");
}

#[test]
fn checker_fails_on_an_include_of_a_missing_file() {
    if !tools_installed() {
        return;
    }
    // mdBook logs an ERROR, exits 0 and leaves the directive in the page.
    let problems =
        ScratchBook::new("# Chapter\n\n```rust\n{{#include ../../code/missing.rs}}\n```\n").problems();
    assert_found(&problems, "`{{#include …}}` left in the HTML");
    assert_found(&problems, "mdbook logged an error");
    assert_found(&problems, "cannot read");
}

#[test]
fn checker_fails_on_an_unknown_anchor_in_a_listing() {
    if !tools_installed() {
        return;
    }
    // mdBook renders these silently as empty listings (Rust ones keep hidden `fn main`).
    let chapter = "# Chapter\n\n\
        ```rust\n{{#include ../../code/listing.rs:nosuch}}\n```\n\n\
        ```rust,ignore\n{{#include ../../code/listing.rs:nosuch}}\n```\n\n\
        ```text\n{{#include ../../code/listing.rs:nosuch}}\n```\n\n\
        ```rust\n{{#rustdoc_include ../../code/listing.rs:nosuch}}\n```\n";
    let problems = ScratchBook::new(chapter).problems();
    let empty_blocks = problems.iter().filter(|p| p.contains("empty code block")).count();
    assert_eq!(empty_blocks, 4, "{}", problems.join("\n\n"));
    assert_found(&problems, "no `ANCHOR: nosuch`");
}

#[test]
fn checker_fails_on_an_unknown_anchor_in_prose() {
    if !tools_installed() {
        return;
    }
    // Outside a code block the include vanishes without a trace in the HTML.
    let problems =
        ScratchBook::new("# Chapter\n\nSee {{#include ../../code/listing.rs:nosuch}} here.\n").problems();
    assert_found(&problems, "no `ANCHOR: nosuch`");
}

#[test]
fn checker_fails_on_a_katex_parse_error() {
    if !tools_installed() {
        return;
    }
    // mdbook-katex logs a WARN, exits 0 and keeps the raw TeX: both are caught.
    let problems =
        ScratchBook::new("# Chapter\n\nBroken $\\frac{1}{$ inline.\n\n$$\n\\left( x\n$$\n").problems();
    let log_lines = problems
        .iter()
        .filter(|p| p.contains("KaTeX could not render a formula") && p.contains("ParseError"))
        .count();
    assert_eq!(log_lines, 2, "{}", problems.join("\n\n"));
    assert_found(&problems, "raw TeX left in the page text: `$\\frac{1}{`");
}

#[test]
fn checker_fails_on_a_katex_error_span() {
    if !tools_installed() {
        return;
    }
    // With throw-on-error = false mdbook-katex logs nothing and renders an error span.
    let problems = ScratchBook::with_config("# Chapter\n\nBroken $\\frac{1}{$.\n", |toml| {
        toml.replace("no-css = true", "no-css = true\nthrow-on-error = false")
    })
    .problems();
    assert_found(&problems, "class=\"katex-error\"");
}

#[test]
fn checker_fails_when_math_is_not_rendered() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::with_config("# Chapter\n\nLet $x$ be.\n", |toml| {
        without_table(toml, "[preprocessor.katex]")
    })
    .problems();
    assert_found(&problems, "has $ math but the HTML has no class=\"katex\"");
}

#[test]
fn checker_fails_on_a_broken_link() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::new("# Chapter\n\n[Gone](gone.md)\n").problems();
    assert_found(&problems, "linkcheck2 found broken links");
    assert_found(&problems, "File not found: gone.md");
}

#[test]
fn checker_fails_when_linkcheck2_is_not_configured() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::with_config("# Chapter\n\n[Gone](gone.md)\n", |toml| {
        without_table(toml, "[output.linkcheck2]")
    })
    .problems();
    assert_found(&problems, "linkcheck2 did not run");
}

#[test]
fn checker_fails_on_a_link_to_a_missing_heading() {
    if !tools_installed() {
        return;
    }
    let chapter = "# Chapter\n\nSee [below](#a-heding) and [there](introduction.md#nosuch).\n\n\
        ## A heading\n";
    let problems = ScratchBook::new(chapter).problems();
    assert_found(&problems, "link `#a-heding` points to no id `a-heding`");
    assert_found(&problems, "link `introduction.html#nosuch` points to no id `nosuch`");
}

#[test]
fn checker_fails_on_a_missing_image() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::new("# Chapter\n\n![Plot](figures/missing.png)\n").problems();
    assert_found(&problems, "image `figures/missing.png` is missing");
    assert_found(&problems, "File not found: figures/missing.png");
    // linkcheck2 does not see raw HTML; the image check does.
    let problems = ScratchBook::new("# Chapter\n\n<img src=\"figures/raw.png\" alt=\"Plot\">\n").problems();
    assert_found(&problems, "image `figures/raw.png` is missing");
}

#[test]
fn checker_fails_without_the_vendored_katex_css() {
    if !tools_installed() {
        return;
    }
    let problems = ScratchBook::new("# Chapter\n\nLet $x$ be.\n").remove("theme/head.hbs").problems();
    assert_found(&problems, "no <link> to katex/katex.min.css");
    let problems = ScratchBook::new("# Chapter\n\nLet $x$ be.\n")
        .remove("src/katex/fonts/KaTeX_Main-Regular.woff2")
        .problems();
    assert_found(&problems, "KaTeX font fonts/KaTeX_Main-Regular.woff2 is missing");
    // mdbook-katex's default stylesheet comes from a CDN.
    let problems = ScratchBook::with_config("# Chapter\n\nLet $x$ be.\n", |toml| {
        toml.replace("no-css = true", "no-css = false")
    })
    .problems();
    assert_found(&problems, "from the network");
}
