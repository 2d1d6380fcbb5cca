//! Drives the book's live demos in headless Chromium and reads back what they computed.
//!
//! [`run`] loads a built chapter with two scripts added ([`browser_check::run_page`]): one at the
//! start of `<head>` that records every error the page meets (script errors, resources that did
//! not load, `console.error`, rejected promises), and one at the end of `<body>` that, once the
//! page has loaded, sets the demo's inputs the way a reader would (the value of a slider or menu,
//! then its `input` or `change` event) and writes what the page shows, one `key value` line per
//! number, with every number as JavaScript's shortest round-trip text (exact for an `f64`).
//!
//! The demos compute synchronously in their event handlers, so everything is done before the
//! load event, after which Chromium dumps the page.

use std::collections::BTreeMap;
use std::path::Path;

use crate::browser_check;

/// Id of the element the driver writes into.
const RESULT_ID: &str = "demo-check-result";

/// Records the page's errors into `window.__demoProblems` from the very start.
const CAPTURE: &str = r#"<script>
window.__demoProblems = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  var what = (t && t !== window && (t.src || t.href)) ? 'did not load: ' + (t.src || t.href) : e.message;
  window.__demoProblems.push('error: ' + what);
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__demoProblems.push('unhandled rejection: ' + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__demoProblems.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
</script>"#;

/// Writes `lines` and the recorded problems into `#RESULT_ID` after the load event, running
/// `DRIVER` (which pushes `key value` lines into `lines`) first.
const WRAPPER: &str = r#"<script>
window.addEventListener('load', function () {
  var lines = [];
  var set = function (box, name, value, event) {
    var input = box.querySelector('[name=' + name + ']');
    if (!input) { throw new Error('no input ' + name); }
    input.value = String(value);
    input.dispatchEvent(new Event(event));
  };
  try {
    DRIVER
  } catch (error) {
    window.__demoProblems.push('driver: ' + error);
  }
  window.__demoProblems.forEach(function (p) { lines.push('problem ' + p); });
  var out = document.createElement('pre');
  out.id = 'RESULT_ID';
  out.textContent = 'checked\n' + lines.join('\n');
  document.body.appendChild(out);
});
</script>"#;

/// Demo 1: at `a1 = a2 = 1` for each γ, the page's `R1`, `R2` and `y` of both networks, as
/// `A-r1@0.25 value`.
pub const MIN_NETWORKS_DRIVER: &str = r#"
    var box = document.getElementById('demo-min-networks');
    [0, 0.25, 1].forEach(function (gamma) {
      set(box, 'a1', 1, 'input');
      set(box, 'a2', 1, 'input');
      set(box, 'gamma', gamma, 'input');
      ['A', 'B'].forEach(function (network) {
        ['r1', 'r2', 'y'].forEach(function (key) {
          var cell = box.querySelector('[data-key="' + network + '-' + key + '"]');
          lines.push(network + '-' + key + '@' + gamma + ' ' + (cell ? cell.getAttribute('data-exact') : 'missing'));
        });
      });
    });
"#;

/// What demo 2 is asked: a scene, a class, a method (index in the page's menu) and γ.
#[derive(Debug, Clone, Copy)]
pub struct ShapesInput {
    /// Scene seed.
    pub seed: u32,
    /// Explained class.
    pub class: usize,
    /// Index of the method in the page's menu.
    pub method: usize,
    /// γ of the slider.
    pub gamma: f64,
    /// How many times the explanation is repeated for its time.
    pub repeats: usize,
}

/// Demo 2: sets seed, method, γ and class, then reports the page's result (`logit`,
/// `relevance_sum`, `method`, every relevance value as `relevance v0,v1,…`) and the time of
/// loading the module (`load_ms`), of the page's own update after the class was chosen
/// (`first_ms`) and of each repeat (`ms`), each timed with `performance.now()` around the call and its decoding.
pub fn shapes_driver(input: &ShapesInput) -> String {
    format!(
        r#"
    var box = document.getElementById('demo-shapes');
    set(box, 'seed', {seed}, 'change');
    set(box, 'gamma', {gamma}, 'input');
    set(box, 'method', {method}, 'change');
    set(box, 'class', {class}, 'change');
    var last = window.xaiDemos.lastShapes;
    lines.push('first_ms ' + last.millis);
    var api = window.xaiDemos.load();
    lines.push('load_ms ' + api.loadMillis);
    for (var k = 0; k < {repeats}; k++) {{
      var start = performance.now();
      api.shapes({seed}, {class}, {method}, {gamma});
      lines.push('ms ' + (performance.now() - start));
    }}
    var r = last.result;
    lines.push('method ' + r.method);
    lines.push('class ' + r.class);
    lines.push('logit ' + r.logit);
    lines.push('relevance_sum ' + r.relevance_sum);
    lines.push('relevance ' + r.relevance.join(','));
    var shown = box.textContent;
    lines.push('shows_sum ' + (shown.indexOf('\u03a3R = ') >= 0));
"#,
        seed = input.seed,
        gamma = input.gamma,
        method = input.method,
        class = input.class,
        repeats = input.repeats,
    )
}

/// What the driver wrote: `key → values` (a key may repeat, e.g. `ms`), and the problems.
#[derive(Debug, Default)]
pub struct DemoRun {
    /// Every `key value` line, values in order.
    pub values: BTreeMap<String, Vec<String>>,
    /// Errors the page met and driver failures.
    pub problems: Vec<String>,
}

impl DemoRun {
    /// The single value of `key`, parsed as a number.
    pub fn number(&self, key: &str) -> Result<f64, String> {
        let text = self.text(key)?;
        text.parse().map_err(|_| format!("{key} = {text:?} is not a number"))
    }

    /// The single value of `key`.
    pub fn text(&self, key: &str) -> Result<&str, String> {
        match self.values.get(key).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            other => Err(format!("expected one value of {key}, got {other:?}")),
        }
    }
}

/// Loads `page` with the driver `driver` and returns what it wrote.
pub fn run(page: &Path, profile: &Path, driver: &str) -> Result<DemoRun, String> {
    let body = WRAPPER.replace("DRIVER", driver).replace("RESULT_ID", RESULT_ID);
    let text = browser_check::run_page(page, profile, CAPTURE, &body, RESULT_ID)?;
    let mut run = DemoRun::default();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "problem" {
            run.problems.push(value.to_string());
        } else {
            run.values.entry(key.to_string()).or_default().push(value.to_string());
        }
    }
    Ok(run)
}
