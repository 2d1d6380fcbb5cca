// Demo 2 of the book (chapter "Measuring explanations"): the shipped scene model explains one
// class of a generated scene with Gradient x Input or LRP with a preset composite. The scene,
// its mask and the heatmap (the panels' colour law, computed in Rust by explainer::heatmap)
// are drawn pixel for pixel; the logit and the sum of relevance are printed. Everything is
// computed by the explainer in WebAssembly (demos/src/shapes.rs); this file only draws.
(function () {
  'use strict';
  var demos = window.xaiDemos;
  var box = document.getElementById('demo-shapes');
  if (!demos || !box) {
    return;
  }
  var size = 64, zoom = 4;

  // A 64 x 64 picture from row-major RGB bytes (or 0/1 mask values as white on black).
  function picture(values, channels, caption) {
    var canvas = demos.element('canvas', { width: size, height: size });
    canvas.style.width = size * zoom + 'px';
    canvas.style.height = size * zoom + 'px';
    var context = canvas.getContext('2d');
    var image = context.createImageData(size, size);
    for (var p = 0; p < size * size; p++) {
      for (var c = 0; c < 3; c++) {
        image.data[4 * p + c] = channels === 3 ? values[3 * p + c] : 255 * values[p];
      }
      image.data[4 * p + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    return demos.element('figure', {}, [canvas, demos.element('figcaption', {}, [caption])]);
  }

  function option(value, text) {
    return demos.element('option', { value: value }, [text]);
  }

  var api, menus;
  try {
    api = demos.load();
    menus = api.menus();
  } catch (error) {
    demos.fail(box, error.message);
    return;
  }
  var seed = demos.element('input', { type: 'number', min: 0, max: 4294967295, step: 1, value: 1000000007, name: 'seed' });
  var classes = demos.element('select', { name: 'class' }, menus.classes.map(function (c) { return option(c.index, c.name); }));
  var methods = demos.element('select', { name: 'method' }, menus.methods.map(function (m, i) { return option(i, m.name); }));
  methods.value = '1';
  var gamma = demos.element('input', { type: 'range', min: 0, max: 1, step: 0.01, value: 0.25, name: 'gamma' });
  var gammaShown = demos.element('span', {}, ['0.25']);
  var pictures = demos.element('div', { class: 'xai-figures' });
  var numbers = demos.element('p');
  box.replaceChildren(
    demos.element('div', {}, [
      demos.element('label', {}, ['scene seed ', seed]),
      demos.element('label', {}, ['class ', classes]),
      demos.element('label', {}, ['method ', methods]),
      demos.element('label', {}, ['\u03b3 (first blocks) ', gamma, ' ', gammaShown])
    ]),
    pictures,
    numbers
  );

  // The explained class starts at the scene's own class.
  var firstSeed = true;

  function update() {
    var method = menus.methods[Number(methods.value)];
    gamma.disabled = !method.gamma;
    gammaShown.textContent = method.gamma ? String(Number(gamma.value)) : 'not used';
    var start = performance.now();
    var result = api.shapes(Number(seed.value), Number(classes.value), Number(methods.value), Number(gamma.value));
    var millis = performance.now() - start;
    if (result.error) {
      numbers.replaceChildren(demos.element('span', { class: 'xai-demo-error' }, [result.error]));
      return;
    }
    if (firstSeed && result.class !== result.true_class) {
      firstSeed = false;
      classes.value = String(result.true_class);
      update();
      return;
    }
    firstSeed = false;
    demos.lastShapes = { result: result, millis: millis };
    pictures.replaceChildren(
      picture(result.scene, 3, 'scene ' + result.seed + ': ' + result.true_class_name),
      picture(result.mask, 1, 'true mask'),
      picture(result.heatmap, 3, result.method + ' for ' + result.class_name)
    );
    numbers.replaceChildren(
      'predicted ' + result.predicted_name + ' (p ' + demos.format(result.probability, 3) + '); ' +
      'logit f_c of ' + result.class_name + ' = ' + demos.format(result.logit, 6) + '; ' +
      '\u03a3R = ' + demos.format(result.relevance_sum, 6) + '; colour bound b = ' +
      demos.format(result.color_bound, 3) + ' (blue \u2212b, grey 0, red +b); computed in ' +
      Math.round(millis) + ' ms'
    );
  }
  [seed, classes, methods].forEach(function (input) { input.addEventListener('change', update); });
  gamma.addEventListener('input', update);
  update();
})();
