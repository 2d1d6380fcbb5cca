//! Builds an mdBook and lists every defect a reader would see, or that mdBook lets pass silently.
//!
//! [`check`] runs `mdbook build BOOK --dest-dir DEST` (the book's preprocessors and backends:
//! mdbook-katex and mdbook-linkcheck2 here) and returns one line per problem:
//!
//! | defect | how it shows | what we look at |
//! |---|---|---|
//! | build fails, broken link or image (linkcheck2 is a backend: its failure fails the build) | non-zero exit | exit status, linkcheck2's `error:` lines |
//! | linkcheck2 removed from `book.toml` | no `DEST/linkcheck2/` | that directory |
//! | `{{#include}}` of a missing file | mdBook logs `ERROR`, exits 0, leaves the directive in the page | `ERROR` lines, leftover `{{#include` in HTML |
//! | `{{#include file:anchor}}` with an unknown anchor | silently empty: mdBook 0.5.4 emits `<code class="language-text">\n</code>`, or for Rust only the hidden `fn main() {`/`}` lines | empty listings in HTML, anchors in the Markdown |
//! | a formula KaTeX cannot parse | mdbook-katex 0.10.0 logs `WARN … Rendering failed, keeping the original content: String("ParseError: KaTeX parse error: …")`, exits 0 and leaves the raw TeX (with `throw-on-error = false`: no log, `<span class="katex-error">`) | that log line, raw TeX between `$` in the page text, `katex-error` |
//! | math not rendered at all (preprocessor missing) | `$…$` in the page | Markdown with `$` math but HTML without `class="katex"` |
//! | offline reading broken | KaTeX CSS or fonts missing, or loaded from a CDN | the `<link>` to `katex/katex.min.css`, its `woff2` fonts, `http` stylesheets/scripts |
//! | image missing (also raw `<img>` that linkcheck2 does not see) | broken image | every `<img src>` of every chapter |
//! | link to a `#heading` that was renamed | the link goes nowhere (linkcheck2 checks files only) | every `<a href="…#id">` against the ids of its page |

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The programs a book build needs and their versions, as pinned in `.ci/install-book-tools`
/// (which installs them). mdbook-katex 0.10.0 renders with KaTeX 0.16.4, the version of the
/// stylesheet and fonts in `book/src/katex/`.
pub const TOOLS: [(&str, &str); 3] =
    [("mdbook", "0.5.4"), ("mdbook-katex", "0.10.0"), ("mdbook-linkcheck2", "0.13.0")];

/// Text mdbook-katex 0.10.0 logs (at WARN) when KaTeX rejects a formula, which it then keeps as
/// raw TeX. The build still succeeds.
pub const KATEX_PARSE_ERROR_LOG: &str = "Rendering failed, keeping the original content";
/// Text mdbook-katex 0.10.0 logs (at ERROR) when KaTeX itself fails (not a parse error).
pub const KATEX_FAILURE_LOG: &str = "Unexpected rendering failure";

/// One line per tool of [`TOOLS`] that cannot be run or has another version (empty: all there).
pub fn missing_tools() -> Vec<String> {
    TOOLS
        .into_iter()
        .filter_map(|(tool, version)| {
            let out = Command::new(tool).arg("--version").output();
            let said = match out {
                Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
                _ => return Some(format!("{tool} {version} is not installed")),
            };
            // `mdbook v0.5.4`, `mdbook-katex 0.10.0`
            let found = said.split_whitespace().last().unwrap_or("").trim_start_matches('v');
            (found != version)
                .then(|| format!("{tool} {version} is needed, `{tool} --version` says {:?}", said.trim()))
        })
        .collect()
}

/// What `mdbook build` did.
#[derive(Debug)]
pub struct Build {
    /// Exit status of `mdbook build`.
    pub status: ExitStatus,
    /// Its standard error (mdBook's and the preprocessors' logs), ANSI colours removed.
    pub stderr: String,
    /// The `--dest-dir`: one subdirectory per backend (`html/`, `linkcheck2/`).
    pub dest: PathBuf,
}

/// Runs `mdbook build BOOK_DIR --dest-dir DEST` with the default log levels.
pub fn build(book_dir: &Path, dest: &Path) -> std::io::Result<Build> {
    let out = Command::new("mdbook")
        .arg("build")
        .arg(book_dir)
        .arg("--dest-dir")
        .arg(dest)
        // mdBook's and mdbook-katex's log filters: a user's setting could hide the warnings.
        .env_remove("MDBOOK_LOG")
        .env_remove("RUST_LOG")
        .output()?;
    Ok(Build {
        status: out.status,
        stderr: without_ansi_escapes(&String::from_utf8_lossy(&out.stderr)),
        dest: dest.to_path_buf(),
    })
}

/// Builds the book at `book_dir` into `dest` and lists its problems (empty: all good).
pub fn check(book_dir: &Path, dest: &Path) -> Vec<String> {
    match build(book_dir, dest) {
        Ok(build) => problems(book_dir, &build),
        Err(e) => vec![format!("could not run `mdbook build {}`: {e}", book_dir.display())],
    }
}

/// Everything wrong with a finished build of the book at `book_dir`.
pub fn problems(book_dir: &Path, build: &Build) -> Vec<String> {
    let mut problems = log_problems(build);
    if !build.dest.join("linkcheck2").is_dir() {
        problems.push("linkcheck2 did not run: book.toml needs an [output.linkcheck2] table".to_string());
    }
    let html_dir = build.dest.join("html");
    if !html_dir.is_dir() {
        problems.push(format!("no HTML was written to {}", html_dir.display()));
        return problems;
    }
    let src = book_dir.join("src");
    let chapters = match fs::read_to_string(src.join("SUMMARY.md")) {
        Ok(summary) => chapter_paths(&summary),
        Err(e) => {
            problems.push(format!("cannot read {}/SUMMARY.md: {e}", src.display()));
            return problems;
        }
    };
    let mut katex_css_checked = false;
    for chapter in chapters {
        let md_path = src.join(&chapter);
        let html_path = html_dir.join(Path::new(&chapter).with_extension("html"));
        let (Ok(markdown), Ok(html)) = (fs::read_to_string(&md_path), fs::read_to_string(&html_path)) else {
            problems.push(format!("{chapter}: cannot read {} or {}", md_path.display(), html_path.display()));
            continue;
        };
        let page = Page {
            chapter: &chapter,
            markdown: &markdown,
            md_path: &md_path,
            html: &html,
            html_path: &html_path,
        };
        page.check_includes(&mut problems);
        page.check_code_blocks(&mut problems);
        page.check_math(&mut problems);
        page.check_images(&mut problems);
        page.check_fragments(&mut problems);
        if !katex_css_checked {
            katex_css_checked = true;
            page.check_offline_assets(&html_dir, &mut problems);
        }
    }
    problems
}

/// Problems visible in the exit status and the logs.
fn log_problems(build: &Build) -> Vec<String> {
    let mut problems = Vec::new();
    if !build.status.success() {
        let linkcheck_errors: Vec<&str> =
            build.stderr.lines().filter(|line| line.trim_start().starts_with("error")).collect();
        if build.stderr.contains("\"linkcheck2\" renderer failed") {
            problems
                .push(format!("linkcheck2 found broken links or images:\n{}", linkcheck_errors.join("\n")));
        }
        problems.push(format!("mdbook build exited with {}; its log:\n{}", build.status, build.stderr));
    }
    // Preprocessors run once per backend (html, linkcheck2): report each message once.
    for line in build.stderr.lines().map(without_timestamp) {
        let problem = if line.contains(KATEX_PARSE_ERROR_LOG) || line.contains(KATEX_FAILURE_LOG) {
            format!("KaTeX could not render a formula: {line}")
        } else if line.starts_with("ERROR") {
            format!("mdbook logged an error: {line}")
        } else {
            continue;
        };
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// A log line without the leading RFC 3339 time stamp tracing writes (`2026-…Z  WARN …`).
fn without_timestamp(line: &str) -> &str {
    let line = line.trim_start();
    match line.split_once(' ') {
        Some((first, rest)) if first.starts_with(|c: char| c.is_ascii_digit()) && first.contains('T') => {
            rest.trim_start()
        }
        _ => line,
    }
}

/// One chapter: its Markdown source and its built HTML.
struct Page<'a> {
    chapter: &'a str,
    markdown: &'a str,
    md_path: &'a Path,
    html: &'a str,
    html_path: &'a Path,
}

impl Page<'_> {
    /// Directives left in the page, and named anchors that do not exist (which mdBook
    /// replaces by nothing, even outside code blocks).
    fn check_includes(&self, problems: &mut Vec<String>) {
        for directive in ["{{#include", "{{#rustdoc_include", "{{#playground"] {
            if self.html.contains(directive) {
                problems.push(format!(
                    "{}: `{directive} …}}}}` left in the HTML (file not found?)",
                    self.chapter
                ));
            }
        }
        let dir = self.md_path.parent().unwrap_or(Path::new("."));
        for target in include_targets(self.markdown) {
            let (file, anchor) = match target.split_once(':') {
                Some((file, rest)) => (file, Some(rest)),
                None => (target.as_str(), None),
            };
            let path = dir.join(file);
            let Ok(source) = fs::read_to_string(&path) else {
                problems.push(format!(
                    "{}: {{{{#include {target}}}}}: cannot read {}",
                    self.chapter,
                    path.display()
                ));
                continue;
            };
            // Line ranges (`file:10:20`) start with a digit or `:`; anything else is an anchor.
            let Some(anchor) = anchor.filter(|a| a.starts_with(|c: char| c.is_alphabetic())) else {
                continue;
            };
            let anchor = anchor.trim();
            if !has_anchor(&source, "ANCHOR", anchor) || !has_anchor(&source, "ANCHOR_END", anchor) {
                problems.push(format!(
                    "{}: {{{{#include {target}}}}}: no `ANCHOR: {anchor}` … `ANCHOR_END: {anchor}` in {}",
                    self.chapter,
                    path.display()
                ));
            }
        }
    }

    /// Listings that show nothing: what an include with an unknown anchor renders to.
    fn check_code_blocks(&self, problems: &mut Vec<String>) {
        for block in elements(main_of(self.html), "<pre", "pre") {
            // Rust listings get hidden `fn main() {` … `}` lines around the included text.
            let visible = without_elements(block, "<span class=\"boring\"", "span");
            if strip_tags(&visible).trim().is_empty() {
                problems.push(format!(
                    "{}: empty code block `{}` (an include with an unknown anchor?)",
                    self.chapter,
                    block.lines().next().unwrap_or(block)
                ));
            }
        }
    }

    /// Formulas KaTeX rejected, and pages whose math was not rendered at all.
    fn check_math(&self, problems: &mut Vec<String>) {
        let main = main_of(self.html);
        if main.contains("class=\"katex-error\"") {
            problems.push(format!("{}: KaTeX parse error in the HTML (class=\"katex-error\")", self.chapter));
        }
        // Rendered math and code removed, what sits between two `$` should be prose (a literal
        // `\$` renders as `$`); TeX there means a formula that was not rendered.
        let text = strip_tags(&without_code(&without_elements(main, "<span class=\"katex", "span")));
        let pieces: Vec<&str> = text.split('$').collect();
        for segment in pieces.iter().skip(1).take(pieces.len().saturating_sub(2)) {
            if segment.contains(['\\', '{', '^', '_']) {
                let shown: String = segment.chars().take(60).collect();
                problems.push(format!(
                    "{}: raw TeX left in the page text: `${}`",
                    self.chapter,
                    shown.trim()
                ));
                break;
            }
        }
        if markdown_has_math(self.markdown) && !self.html.contains("class=\"katex\"") {
            problems.push(format!(
                "{}: the Markdown has $ math but the HTML has no class=\"katex\" (is the katex preprocessor configured?)",
                self.chapter
            ));
        }
    }

    /// Every `<img src>` of the chapter exists (Markdown images and raw HTML alike).
    fn check_images(&self, problems: &mut Vec<String>) {
        let dir = self.html_path.parent().unwrap_or(Path::new("."));
        for src in attribute_values(main_of(self.html), "<img", "src") {
            if src.contains("://") || src.starts_with("data:") || src.starts_with("//") {
                problems.push(format!(
                    "{}: image `{src}` is not part of the book (it must read offline)",
                    self.chapter
                ));
                continue;
            }
            let file = src.split(['#', '?']).next().unwrap_or(src);
            if !dir.join(file).is_file() {
                problems.push(format!("{}: image `{src}` is missing", self.chapter));
            }
        }
    }

    /// Every `#fragment` a link points to exists as an `id` in its page (linkcheck2 checks
    /// files, not fragments; mdBook derives heading ids from the heading text).
    fn check_fragments(&self, problems: &mut Vec<String>) {
        let dir = self.html_path.parent().unwrap_or(Path::new("."));
        for href in attribute_values(main_of(self.html), "<a ", "href") {
            let Some((file, fragment)) = href.split_once('#') else {
                continue;
            };
            if href.contains("://") || href.starts_with("mailto:") || fragment.is_empty() {
                continue;
            }
            let fragment = percent_decoded(fragment);
            let target = if file.is_empty() {
                Some(self.html.to_string())
            } else {
                fs::read_to_string(dir.join(percent_decoded(file))).ok()
            };
            match target {
                Some(target) if target.contains(&format!(" id=\"{fragment}\"")) => {}
                Some(_) => problems.push(format!(
                    "{}: link `{href}` points to no id `{fragment}` (a heading renamed?)",
                    self.chapter
                )),
                // A missing file is linkcheck2's to report.
                None => {}
            }
        }
    }

    /// The vendored KaTeX stylesheet is linked and complete, and nothing loads from the web.
    fn check_offline_assets(&self, html_dir: &Path, problems: &mut Vec<String>) {
        if !self.html.contains("katex/katex.min.css\"") {
            problems.push(format!(
                "{}: no <link> to katex/katex.min.css (theme/head.hbs missing?)",
                self.chapter
            ));
        }
        for (tag, attribute) in [("<link", "href"), ("<script", "src")] {
            for url in attribute_values(self.html, tag, attribute) {
                if url.starts_with("http:") || url.starts_with("https:") || url.starts_with("//") {
                    problems.push(format!("{}: {tag}> loads {url} from the network", self.chapter));
                }
            }
        }
        let css_path = html_dir.join("katex/katex.min.css");
        let Ok(css) = fs::read_to_string(&css_path) else {
            problems.push(format!("{} is missing", css_path.display()));
            return;
        };
        for font in css.split("url(").skip(1).filter_map(|rest| rest.split(')').next()) {
            if font.ends_with(".woff2") && !css_path.with_file_name(font).is_file() {
                problems.push(format!("KaTeX font {font} is missing next to katex.min.css"));
            }
        }
    }
}

/// The `.md` files SUMMARY.md links to, relative to `src/`.
pub fn chapter_paths(summary: &str) -> Vec<String> {
    summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.trim().trim_start_matches("./").to_string())
        .filter(|target| target.ends_with(".md"))
        .collect()
}

/// The targets (`path` or `path:anchor`) of `{{#include …}}` and `{{#rustdoc_include …}}`,
/// skipping escaped ones (`\{{#include …}}`).
pub fn include_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for directive in ["{{#include", "{{#rustdoc_include"] {
        for (at, _) in markdown.match_indices(directive) {
            if markdown[..at].ends_with('\\') {
                continue;
            }
            let rest = &markdown[at + directive.len()..];
            if let Some(end) = rest.find("}}") {
                targets.push(rest[..end].trim().to_string());
            }
        }
    }
    targets
}

/// Whether `source` has a line with `MARKER: name` (mdBook's `ANCHOR:` / `ANCHOR_END:`).
fn has_anchor(source: &str, marker: &str, name: &str) -> bool {
    source.lines().any(|line| {
        line.match_indices(marker).any(|(at, _)| {
            line[at + marker.len()..]
                .strip_prefix(':')
                .is_some_and(|rest| rest.split_whitespace().next() == Some(name))
        })
    })
}

/// Whether the Markdown has `$` math: an unescaped `$` outside code blocks and code spans.
pub fn markdown_has_math(markdown: &str) -> bool {
    let mut in_fence: Option<&str> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match in_fence {
            Some(fence) => {
                if trimmed.starts_with(fence) {
                    in_fence = None;
                }
            }
            None if trimmed.starts_with("```") => in_fence = Some("```"),
            None if trimmed.starts_with("~~~") => in_fence = Some("~~~"),
            None => {
                // Outside code spans: the even-numbered pieces between backticks.
                let prose = line.split('`').step_by(2);
                for piece in prose {
                    let mut escaped = false;
                    for c in piece.chars() {
                        if c == '$' && !escaped {
                            return true;
                        }
                        escaped = c == '\\' && !escaped;
                    }
                }
            }
        }
    }
    false
}

/// The inside of `<main>…</main>` (the chapter text, without menus and scripts).
fn main_of(html: &str) -> &str {
    let start = html.find("<main>").map_or(0, |i| i + "<main>".len());
    let end = html[start..].find("</main>").map_or(html.len(), |i| start + i);
    &html[start..end]
}

/// The page without `<pre>` and `<code>` elements.
fn without_code(html: &str) -> String {
    without_elements(&without_elements(html, "<pre", "pre"), "<code", "code")
}

/// The elements (outer HTML) that start with `opening` (e.g. `<span class="boring"`), with
/// nested elements of the same `tag` matched.
fn elements<'a>(html: &'a str, opening: &str, tag: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(opening) {
        let start = from + i;
        let end = element_end(html, start, tag);
        found.push(&html[start..end]);
        from = end;
    }
    found
}

/// `html` with every element that starts with `opening` removed.
fn without_elements(html: &str, opening: &str, tag: &str) -> String {
    let mut kept = String::with_capacity(html.len());
    let mut from = 0;
    while let Some(i) = html[from..].find(opening) {
        let start = from + i;
        kept.push_str(&html[from..start]);
        from = element_end(html, start, tag);
    }
    kept.push_str(&html[from..]);
    kept
}

/// End (exclusive) of the element of type `tag` that opens at `start`.
fn element_end(html: &str, start: usize, tag: &str) -> usize {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let next_open = html[at..].find(&open).map(|i| at + i).filter(|&i| {
            // `<pre` must not match `<pretty`: the next byte ends the tag name.
            html[i + open.len()..].starts_with([' ', '>', '\n', '\t', '/'])
        });
        let next_close = html[at..].find(&close).map(|i| at + i);
        match (next_open, next_close) {
            (Some(o), Some(c)) if o < c => {
                depth += 1;
                at = o + open.len();
            }
            (Some(o), None) => {
                depth += 1;
                at = o + open.len();
            }
            (_, Some(c)) => {
                at = c + close.len();
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at;
                }
            }
            (None, None) => return html.len(),
        }
    }
}

/// Text content: tags removed (entities left as they are).
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Values of `attribute="…"` in every tag that starts with `tag` (e.g. `<img`).
fn attribute_values<'a>(html: &'a str, tag: &str, attribute: &str) -> Vec<&'a str> {
    let needle = format!(" {attribute}=\"");
    let mut values = Vec::new();
    for (at, _) in html.match_indices(tag) {
        let Some(tag_end) = html[at..].find('>').map(|i| at + i) else {
            continue;
        };
        let inside = &html[at..tag_end];
        if let Some(i) = inside.find(&needle) {
            let value = &inside[i + needle.len()..];
            values.push(value.split('"').next().unwrap_or(value));
        }
    }
    values
}

/// `text` with `%XX` escapes decoded (as UTF-8); invalid escapes are kept.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// `text` without ANSI colour sequences (`ESC [ … m`), as tracing writes them.
fn without_ansi_escapes(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_rust_listing_is_found_but_a_filled_one_is_not() {
        let empty = "<pre class=\"playground\"><code class=\"language-rust\"><span class=\"boring\">#![allow(unused)]\n</span><span class=\"boring\">fn main() {\n</span>\n<span class=\"boring\">}</span></code></pre>";
        let filled = empty.replace("</span>\n<span", "</span>fn good() {}\n<span");
        let visible = without_elements(empty, "<span class=\"boring\"", "span");
        assert!(strip_tags(&visible).trim().is_empty(), "{visible}");
        let visible = without_elements(&filled, "<span class=\"boring\"", "span");
        assert_eq!(strip_tags(&visible).trim(), "fn good() {}");
    }

    #[test]
    fn nested_elements_are_matched() {
        let html = "a<span class=\"katex\"><span>x</span><span>y</span></span>b";
        assert_eq!(without_elements(html, "<span class=\"katex\"", "span"), "ab");
    }

    #[test]
    fn math_is_found_outside_code_only() {
        assert!(markdown_has_math("Let $x$ be."));
        assert!(markdown_has_math("$$\nx\n$$"));
        assert!(!markdown_has_math("It costs \\$5."));
        assert!(!markdown_has_math("Run `echo $HOME`."));
        assert!(!markdown_has_math("```sh\necho $HOME\n```\n"));
    }

    #[test]
    fn includes_and_anchors_are_parsed() {
        let md = "```rust\n{{#include ../src/a.rs:rule}}\n```\n\\{{#include not/this.rs}}\n";
        assert_eq!(include_targets(md), ["../src/a.rs:rule"]);
        let source = "// ANCHOR: rule\nfn f() {}\n// ANCHOR_END: rule\n";
        assert!(has_anchor(source, "ANCHOR", "rule"));
        assert!(has_anchor(source, "ANCHOR_END", "rule"));
        assert!(!has_anchor(source, "ANCHOR", "rul"));
    }

    #[test]
    fn summary_links_are_chapters() {
        let summary = "# Summary\n\n[Intro](introduction.md)\n- [A](./a.md)\n- [Web](https://x.org)\n";
        assert_eq!(chapter_paths(summary), ["introduction.md", "a.md"]);
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decoded("the-lrp-%CE%B3-rule"), "the-lrp-γ-rule");
        assert_eq!(percent_decoded("100%-sure%2"), "100%-sure%2");
    }

    #[test]
    fn ansi_colours_are_removed() {
        assert_eq!(without_ansi_escapes("\u{1b}[33m WARN\u{1b}[0m x"), " WARN x");
    }
}
