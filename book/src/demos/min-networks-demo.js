// Demo 1 of the book (chapter "LRP on min-networks"): sliders for a1, a2 and gamma; both
// min-networks drawn with the relevance on every neuron and connection; the engine's R1, R2
// and y beside the chapter's closed forms. Everything is computed by the crate
// lrp-min-networks in WebAssembly (demos/src/min_networks.rs); this file only draws.
(function () {
  'use strict';
  var demos = window.xaiDemos;
  var box = document.getElementById('demo-min-networks');
  if (!demos || !box) {
    return;
  }
  var svgNs = 'http://www.w3.org/2000/svg';

  // Where the neurons sit, level by level (inputs first), in [0, 1]^2: the layout of the
  // chapter's figure (exercises/lrp-min-networks/src/figures.rs).
  var layouts = {
    A: [[[0, 0.75], [0, 0.25]], [[0.5, 0.9], [0.5, 0.5], [0.5, 0.1]], [[1, 0.5]]],
    B: [[[0, 0.75], [0, 0.25]], [[0.33, 0.95], [0.33, 0.05], [0.33, 0.5]],
      [[0.67, 0.75], [0.67, 0.25]], [[1, 0.5]]]
  };
  var names = {
    A: [['a1', 'a2'], ['h1', 'h2', 'h3'], ['y']],
    B: [['a1', 'a2'], ['h1', 'h2', 'h3'], ['g1', 'g2'], ['y']]
  };

  // Where along a connection its label sits, so that no two labels overlap (as in the figure).
  function labelPosition(name, layer, from, to) {
    if (name === 'A' && layer === 0) {
      return from === 0 ? 0.62 : 0.38;
    }
    if (name === 'B' && ((layer === 0 && to === 2) || (layer === 1 && from === 2 && to === 1))) {
      return 0.7;
    }
    if (name === 'B' && layer === 1 && from === 1 && to === 0) {
      return 0.3;
    }
    return 0.5;
  }

  function svg(tag, attributes, text) {
    var node = document.createElementNS(svgNs, tag);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // One network: connections coloured by the sign of their message (red > 0, blue < 0),
  // as wide as |message|; under each neuron its activation a and relevance R.
  function drawNetwork(network) {
    var width = 460, height = 300, margin = { x: 40, y: 34 };
    var at = function (level, i) {
      var p = layouts[network.name][level][i];
      return [margin.x + p[0] * (width - 2 * margin.x), margin.y + (1 - p[1]) * (height - 2 * margin.y)];
    };
    var picture = svg('svg', { viewBox: '0 0 ' + width + ' ' + (height + 16), width: width, role: 'img',
      'aria-label': 'network ' + network.name + ' with the relevance of every connection' });
    picture.appendChild(svg('text', { x: 4, y: 14, 'font-size': 13, 'font-weight': 'bold' },
      'network ' + network.name));
    var largest = 1e-12;
    network.connections.forEach(function (c) { largest = Math.max(largest, Math.abs(c.message)); });
    network.connections.forEach(function (c) {
      var from = at(c.layer, c.from), to = at(c.layer + 1, c.to);
      var colour = c.message > 0 ? '#c0392b' : (c.message < 0 ? '#2e5fb8' : '#999');
      picture.appendChild(svg('line', { x1: from[0], y1: from[1], x2: to[0], y2: to[1], stroke: colour,
        'stroke-width': 1 + 6 * Math.abs(c.message) / largest, 'stroke-opacity': 0.75 }));
      var t = labelPosition(network.name, c.layer, c.from, c.to);
      picture.appendChild(svg('text', { x: from[0] + t * (to[0] - from[0]), y: from[1] + t * (to[1] - from[1]) - 3,
        'font-size': 10, 'text-anchor': 'middle', fill: '#333', stroke: '#fff', 'stroke-width': 3,
        'paint-order': 'stroke' },
      'w ' + demos.format(c.weight, 2) + ' | R ' + demos.format(c.message, 3)));
    });
    layouts[network.name].forEach(function (level, l) {
      level.forEach(function (_, i) {
        var p = at(l, i);
        var a = network.activations['level' + l][i], r = network.relevances['level' + l][i];
        picture.appendChild(svg('circle', { cx: p[0], cy: p[1], r: 13, fill: '#fff', stroke: '#333' }));
        picture.appendChild(svg('text', { x: p[0], y: p[1] + 4, 'font-size': 11, 'text-anchor': 'middle' },
          names[network.name][l][i]));
        picture.appendChild(svg('text', { x: p[0], y: p[1] + 26, 'font-size': 10, 'text-anchor': 'middle' },
          'a=' + demos.format(a, 3) + ', R=' + demos.format(r, 3)));
      });
    });
    return picture;
  }

  // A table cell holding a number: shown rounded, the exact value in data-exact.
  function numberCell(value, key) {
    var cell = demos.element('td', { 'data-exact': String(value), 'data-key': key }, [demos.format(value, 6)]);
    return cell;
  }

  function table(result) {
    var head = demos.element('tr', {}, ['network', 'y', 'R1 (engine)', 'R2 (engine)', 'R1 (closed form)',
      'R2 (closed form)', 'R1 + R2', 'closed form'].map(function (h) { return demos.element('th', {}, [h]); }));
    var rows = result.networks.map(function (n) {
      var kind = n.closed_form === 'diagonal' ? '2(b), a1 = a2' : 'whole domain';
      return demos.element('tr', {}, [
        demos.element('td', {}, [n.name]), numberCell(n.y, n.name + '-y'),
        numberCell(n.r1, n.name + '-r1'), numberCell(n.r2, n.name + '-r2'),
        numberCell(n.closed_r1, n.name + '-closed-r1'), numberCell(n.closed_r2, n.name + '-closed-r2'),
        numberCell(n.r1 + n.r2, n.name + '-sum'), demos.element('td', {}, [kind])]);
    });
    return demos.element('div', { class: 'table-wrapper' }, [demos.element('table', {}, [head].concat(rows))]);
  }

  function slider(name, label, max, value) {
    var input = demos.element('input', { type: 'range', min: 0, max: max, step: 0.05, value: value, name: name });
    var shown = demos.element('span', {}, [String(value)]);
    return { input: input, shown: shown, label: demos.element('label', {}, [label + ' ', input, ' ', shown]) };
  }

  var api;
  try {
    api = demos.load();
  } catch (error) {
    demos.fail(box, error.message);
    return;
  }
  var a1 = slider('a1', 'a1', 3, 1), a2 = slider('a2', 'a2', 3, 1), gamma = slider('gamma', '\u03b3', 5, 0.25);
  var pictures = demos.element('div', { class: 'xai-figures' });
  var numbers = demos.element('div');
  var controls = demos.element('div', {}, [a1.label, a2.label, gamma.label]);
  box.replaceChildren(controls, pictures, numbers);

  function update() {
    [a1, a2, gamma].forEach(function (s) { s.shown.textContent = String(Number(s.input.value)); });
    var result = api.minNetworks(Number(a1.input.value), Number(a2.input.value), Number(gamma.input.value));
    if (result.error) {
      numbers.replaceChildren(demos.element('p', { class: 'xai-demo-error' }, [result.error]));
      return;
    }
    pictures.replaceChildren.apply(pictures, result.networks.map(drawNetwork));
    numbers.replaceChildren(table(result));
  }
  [a1, a2, gamma].forEach(function (s) { s.input.addEventListener('input', update); });
  update();
})();
