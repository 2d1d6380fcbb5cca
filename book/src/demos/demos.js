// The loader of the book's live demos: instantiates the WebAssembly module built from the Rust
// crate `demos/` (by book/build-demos, which writes demos-wasm.js) and wraps its extern "C"
// exports. Plain JavaScript, no framework, no network: the module's bytes come with the page
// as base64 in demos-wasm.js, because browsers refuse fetch() of files opened from disk.
//
// window.xaiDemos.load() -> the API (or throws); the API:
//   minNetworks(a1, a2, gamma) -> result of demos/src/min_networks.rs (to_json)
//   shapes(seed, classIndex, methodIndex, gamma) -> result of demos/src/shapes.rs (to_json)
//   menus() -> {methods: [{name, gamma}], classes: [{index, name}]}
//   loadMillis: the time it took to decode, compile and instantiate the module
// A result with an "error" field is a refused input, shown instead of a result.
(function () {
  'use strict';
  var api = null;

  // The module is compiled by rustc, not wasm-bindgen's CLI: a few of wasm-bindgen's
  // placeholder functions are imported by code the demos never run (getrandom's browser
  // backend, plotters' canvas backend). They are given stubs that fail loudly if ever called.
  function stubs() {
    var fail = function (name) {
      return function () { throw new Error('xai-lab demos: unexpected call of ' + name); };
    };
    var module = new Proxy({}, { get: function (target, name) { return fail(String(name)); } });
    return new Proxy({}, { get: function () { return module; } });
  }

  function decodeBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function load() {
    if (api) {
      return api;
    }
    if (typeof window.XAI_LAB_DEMOS_WASM !== 'string') {
      throw new Error('demos/demos-wasm.js is missing: run book/build-demos before mdbook build');
    }
    if (typeof WebAssembly !== 'object') {
      throw new Error('this browser has no WebAssembly');
    }
    var start = performance.now();
    var module = new WebAssembly.Module(decodeBase64(window.XAI_LAB_DEMOS_WASM));
    var exports = new WebAssembly.Instance(module, stubs()).exports;
    var decoder = new TextDecoder('utf-8');
    var read = function (length) {
      var start = exports.demo_output() >>> 0;
      var text = decoder.decode(new Uint8Array(exports.memory.buffer, start, length >>> 0));
      return JSON.parse(text);
    };
    api = {
      minNetworks: function (a1, a2, gamma) {
        return read(exports.demo_min_networks(a1, a2, gamma));
      },
      shapes: function (seed, classIndex, methodIndex, gamma) {
        return read(exports.demo_shapes(seed >>> 0, classIndex >>> 0, methodIndex >>> 0, gamma));
      },
      menus: function () {
        return read(exports.demo_methods());
      }
    };
    // Decoding, compiling and instantiating the module, in milliseconds.
    api.loadMillis = performance.now() - start;
    return api;
  }

  // Numbers as the demos print them: 4 significant digits, a true minus sign.
  function format(value, digits) {
    if (typeof value !== 'number' || !isFinite(value)) {
      return String(value);
    }
    var text = Math.abs(value) < 1e-12 ? '0' : value.toPrecision(digits || 4);
    if (text.indexOf('e') < 0 && text.indexOf('.') >= 0) {
      text = text.replace(/0+$/, '').replace(/\.$/, '');
    }
    return text.replace('-', '\u2212');
  }

  // An element with attributes and children (strings become text).
  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Shows an error in the demo's box instead of a result.
  function fail(box, error) {
    box.replaceChildren(element('p', { class: 'xai-demo-error' }, ['The demo could not run: ' + error]));
  }

  var style = document.createElement('style');
  style.textContent =
    '.xai-demo { border: 1px solid #ccc; border-radius: 4px; padding: 0.6em 1em; margin: 1em 0; }' +
    '.xai-demo label { display: inline-block; margin: 0.2em 1.2em 0.2em 0; }' +
    '.xai-demo input[type=range] { vertical-align: middle; width: 11em; }' +
    '.xai-demo input[type=number] { width: 8em; }' +
    '.xai-demo svg { max-width: 100%; height: auto; }' +
    '.xai-demo canvas { image-rendering: pixelated; margin: 0 8px 0 0; border: 1px solid #ddd; }' +
    '.xai-demo .xai-figures { display: flex; flex-wrap: wrap; gap: 8px; }' +
    '.xai-demo figure { margin: 0; }' +
    '.xai-demo figcaption { font-size: 0.85em; text-align: center; }' +
    '.xai-demo-error { color: #a00; }';
  document.head.appendChild(style);

  window.xaiDemos = { load: load, format: format, element: element, fail: fail };
})();
