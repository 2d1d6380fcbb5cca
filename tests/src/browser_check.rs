//! Renders the pages of a built mdBook in headless Chromium and lists what a reader would see
//! broken.
//!
//! [`check`] copies each page with a small script added, loads it offline
//! (`chromium --headless --dump-dom file://…`, window [`WINDOW`] wide) and reads back what the
//! script found once the page (images, fonts, KaTeX's stylesheet) has loaded:
//!
//! | defect | what the script looks at |
//! |---|---|
//! | a formula KaTeX rejected | elements of class `katex-error` |
//! | an image that did not load | `img` elements with `naturalWidth == 0` |
//! | a listing line clipped or scrolled out of view | `pre` elements (and their `code`) whose `scrollWidth` exceeds their `clientWidth` |
//! | a table wider than the page | mdBook's `.table-wrapper` (a scrolling box) whose `scrollWidth` exceeds its `clientWidth` |

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser binary (Debian's package `chromium`).
pub const CHROMIUM: &str = "chromium";
/// The window the pages are rendered in: the width of a laptop screen.
pub const WINDOW: (u32, u32) = (1280, 900);
/// Id of the element the script writes its findings into.
const RESULT_ID: &str = "browser-check-result";

/// Runs after the page has loaded and writes one line per problem into `#RESULT_ID`.
const SCRIPT: &str = r#"<script>
window.addEventListener('load', function () {
  var problems = [];
  var overflows = function (element) { return element.scrollWidth > element.clientWidth + 1; };
  document.querySelectorAll('.katex-error').forEach(function (e) {
    problems.push('KaTeX error: ' + (e.getAttribute('title') || e.textContent).slice(0, 120));
  });
  document.querySelectorAll('main img').forEach(function (img) {
    if (!img.complete || img.naturalWidth === 0) {
      problems.push('image did not load: ' + img.getAttribute('src'));
    }
  });
  document.querySelectorAll('main pre').forEach(function (pre) {
    var boxes = [pre].concat(Array.from(pre.querySelectorAll('code')));
    var wide = boxes.filter(overflows);
    if (wide.length > 0) {
      var box = wide[0];
      var first = (pre.textContent.split('\n').sort(function (a, b) { return b.length - a.length; })[0] || '');
      problems.push('listing wider than the page (' + box.scrollWidth + ' px in ' + box.clientWidth +
        ' px), longest line: ' + first.trim().slice(0, 100));
    }
  });
  document.querySelectorAll('main .table-wrapper').forEach(function (wrapper) {
    if (overflows(wrapper)) {
      var head = wrapper.querySelector('tr');
      problems.push('table wider than the page (' + wrapper.scrollWidth + ' px in ' + wrapper.clientWidth +
        ' px), header: ' + (head ? head.textContent.replace(/\s+/g, ' ').trim().slice(0, 100) : ''));
    }
  });
  var out = document.createElement('pre');
  out.id = 'RESULT_ID';
  out.textContent = 'checked\n' + problems.join('\n');
  document.body.appendChild(out);
});
</script>"#;

/// Whether [`CHROMIUM`] can be run.
pub fn chromium_available() -> bool {
    Command::new(CHROMIUM).arg("--version").output().is_ok_and(|out| out.status.success())
}

/// Renders every page `html_dir/<chapter>.html` of `chapters` (paths of the Markdown files
/// relative to `src/`) and returns one line per problem (empty: all good).
pub fn check(html_dir: &Path, chapters: &[String]) -> Vec<String> {
    let profile = match tempfile_dir(html_dir) {
        Ok(dir) => dir,
        Err(e) => return vec![format!("cannot make a browser profile directory: {e}")],
    };
    let mut problems = Vec::new();
    for chapter in chapters {
        let page = html_dir.join(Path::new(chapter).with_extension("html"));
        match render(&page, &profile) {
            Ok(found) => problems.extend(found.into_iter().map(|p| format!("{chapter}: {p}"))),
            Err(e) => problems.push(format!("{chapter}: {e}")),
        }
    }
    let _ = fs::remove_dir_all(&profile);
    problems
}

/// A fresh directory for Chromium's profile, beside the book.
fn tempfile_dir(html_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = html_dir.join(".browser-profile");
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Loads one page with the script added (as a sibling file, so relative links still resolve)
/// and returns the script's findings.
fn render(page: &Path, profile: &Path) -> Result<Vec<String>, String> {
    let script = SCRIPT.replace("RESULT_ID", RESULT_ID);
    let text = run_page(page, profile, "", &script, RESULT_ID)?;
    Ok(text.lines().skip(1).filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
}

/// Loads a copy of `page` with `head` inserted at the start of its `<head>` and `body` at the
/// end of its `<body>` (as a sibling file, so relative links still resolve), offline in headless
/// Chromium, and returns the text of the element `<pre id="RESULT">` the scripts wrote, once
/// the page has loaded (Chromium dumps the DOM after the load event).
pub fn run_page(
    page: &Path,
    profile: &Path,
    head: &str,
    body: &str,
    result_id: &str,
) -> Result<String, String> {
    let html = fs::read_to_string(page).map_err(|e| format!("cannot read {}: {e}", page.display()))?;
    let html = match html.find("<head>") {
        Some(at) => format!("{}{head}{}", &html[..at + "<head>".len()], &html[at + "<head>".len()..]),
        None => format!("{head}{html}"),
    };
    let checked = match html.rfind("</body>") {
        Some(at) => format!("{}{body}{}", &html[..at], &html[at..]),
        None => format!("{html}{body}"),
    };
    let name = page.file_name().map_or_else(|| "page.html".into(), |n| n.to_string_lossy().into_owned());
    let copy = page.with_file_name(format!(".browser-check-{name}"));
    fs::write(&copy, checked).map_err(|e| format!("cannot write {}: {e}", copy.display()))?;
    let absolute = fs::canonicalize(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg("--dump-dom")
        .arg(format!("file://{}", absolute.display()))
        .output();
    let _ = fs::remove_file(&copy);
    let output = output.map_err(|e| format!("cannot run {CHROMIUM}: {e}"))?;
    let dom = String::from_utf8_lossy(&output.stdout);
    let opening = format!("<pre id=\"{result_id}\">");
    let Some(start) = dom.rfind(&opening) else {
        return Err(format!(
            "{CHROMIUM} did not run the page's check script (exit {}); its log ends:\n{}",
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 5)
        ));
    };
    let rest = &dom[start + opening.len()..];
    let text = rest.split("</pre>").next().unwrap_or("");
    Ok(text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
