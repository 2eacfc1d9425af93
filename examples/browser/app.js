// The xent browser demo: a playground for one row of logits, and a benchmark panel.
// Plain ES modules: `xent` comes from the import map in index.html (dist/index.js).

import { createEngine } from 'xent';
import { plainCrossEntropy } from '../../bench/plain-js.js';

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// The engine

const started = performance.now();
let engine;
try {
  engine = await createEngine(); // relaxed SIMD where the browser has it, else the baseline build
} catch (error) {
  showStatus([`failed to load the engine: ${error.message}`], { error: true });
  throw error;
}
const loadMs = performance.now() - started;

function showStatus(items, { error = false } = {}) {
  const status = $('#status');
  status.replaceChildren(...items.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
  status.dataset.ready = String(!error);
  if (error) status.dataset.error = 'true';
}

function wasmTransfer() {
  const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
  if (!entry) return undefined;
  return { file: entry.name.split('/').pop(), kB: (entry.encodedBodySize || entry.transferSize) / 1000 };
}

const wasm = wasmTransfer();
showStatus([
  `SIMD: ${engine.features.simd}`,
  `threads: ${engine.features.threads}`,
  `cross-origin isolated: ${self.crossOriginIsolated ? 'yes' : 'no'}`,
  wasm ? `${wasm.file}: ${wasm.kB.toFixed(1)} kB` : 'module: cached',
  `ready in ${loadMs.toFixed(0)} ms`,
]);
$('#status').dataset.simd = engine.features.simd;

// ---------------------------------------------------------------------------------------------
// Playground: one row of logits

const NAMES = ['cat', 'dog', 'fox', 'owl', 'bee', 'elk', 'yak', 'emu'];
const state = {
  logits: [1.2, 2.6, -0.4, 0.3, 3.1, -1.5, 0.8, 1.9],
  target: 1,
  temperature: 1,
  smoothing: 0,
};

const columns = NAMES.map((name, i) => {
  const column = document.createElement('div');
  column.className = 'class';
  column.dataset.index = String(i);
  column.innerHTML = `
    <div class="bar-area prob"><div class="bar"></div><span class="bar-value"></span></div>
    <div class="bar-area grad"><div class="zero"></div><div class="bar"></div><span class="bar-value"></span></div>
    <input class="logit" type="number" step="0.1" aria-label="logit of ${name}">
    <label class="target"><input type="radio" name="target" value="${i}"><span>${name}</span></label>`;
  const logit = column.querySelector('.logit');
  logit.value = String(state.logits[i]);
  logit.addEventListener('input', () => {
    const value = Number.parseFloat(logit.value);
    if (Number.isFinite(value)) {
      state.logits[i] = value;
      update();
    }
  });
  const radio = column.querySelector('input[type=radio]');
  radio.checked = i === state.target;
  radio.addEventListener('change', () => {
    state.target = i;
    update();
  });
  $('#classes').append(column);
  return {
    column,
    logit,
    prob: column.querySelector('.prob .bar'),
    probValue: column.querySelector('.prob .bar-value'),
    grad: column.querySelector('.grad .bar'),
    gradValue: column.querySelector('.grad .bar-value'),
  };
});

for (const [id, key, digits] of [['temperature', 'temperature', 2], ['smoothing', 'smoothing', 2]]) {
  const slider = $(`#${id}`);
  slider.addEventListener('input', () => {
    state[key] = Number(slider.value);
    $(`#${id}-value`).value = state[key].toFixed(digits);
    update();
  });
}

$('#randomize').addEventListener('click', () => {
  state.logits = state.logits.map(() => Math.round((Math.random() * 8 - 3) * 10) / 10);
  columns.forEach((c, i) => (c.logit.value = String(state.logits[i])));
  update();
});

/** The k most likely classes, most likely first, ties by lowest index. */
function topK(probs, k) {
  return Array.from(probs, (p, i) => ({ p, i }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, k);
}

const format = (x, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function update() {
  const classes = NAMES.length;
  const { temperature, smoothing, target } = state;
  const logits = Float32Array.from(state.logits);
  // softmax(logits / T); the loss is of logits / T, and gradScale 1 / T turns its gradient into
  // the gradient with respect to the logits themselves (chain rule).
  const probs = engine.softmax(logits, { classes, temperature });
  const scaled = Float32Array.from(logits, (x) => x / temperature);
  const result = engine.crossEntropy(scaled, [target], { classes, labelSmoothing: smoothing, grad: true, gradScale: 1 / temperature });

  const gradScale = Math.max(...Array.from(result.grad, Math.abs), 1e-6);
  columns.forEach((c, i) => {
    const p = probs[i];
    c.column.classList.toggle('is-target', i === target);
    c.prob.style.height = `${(p * 100).toFixed(2)}%`;
    c.prob.dataset.value = String(p);
    c.probValue.textContent = p.toFixed(3);
    const g = result.grad[i];
    c.grad.style.height = `${((Math.abs(g) / gradScale) * 50).toFixed(2)}%`;
    c.grad.classList.toggle('neg', g < 0);
    c.gradValue.classList.toggle('above', g < 0); // the label goes on the side the bar leaves free
    c.grad.dataset.value = String(g);
    c.gradValue.textContent = (g >= 0 ? '+' : '') + g.toFixed(3);
  });
  setReadout('#loss', result.loss);
  setReadout('#p-target', probs[target]);
  setReadout('#lse', result.lse[0]);
  $('#topk').replaceChildren(
    ...topK(probs, 3).map(({ p, i }) => {
      const item = document.createElement('li');
      item.dataset.index = String(i);
      item.dataset.value = String(p);
      item.innerHTML = `<span>${NAMES[i]}</span><span>${(p * 100).toFixed(1)}%</span>`;
      return item;
    }),
  );
  $('#playground').dataset.updates = String(Number($('#playground').dataset.updates ?? 0) + 1);
}

function setReadout(selector, value) {
  const element = $(selector);
  element.textContent = format(value);
  element.dataset.value = String(value);
}

update();

// ---------------------------------------------------------------------------------------------
// Benchmark: crossEntropy forward + backward, xent against plain JavaScript

let baseline; // a second engine on the baseline build, made on first use

/** Seeded N(0, 1) logits and uniform targets, so that every run times the same work. */
function benchData(rows, classes) {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i++) logits[i] = Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
  const target = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
  return { logits, target };
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Calls fn for a quarter of `budget` untimed (so the JIT and engine memory warm up), then until
 * `budget` ms of its own time have passed (at least 3 calls), yielding to the page now and then.
 */
async function time(fn, budget) {
  for (const t0 = performance.now(); performance.now() - t0 < budget / 4;) {
    fn();
    await pause();
  }
  let calls = 0, elapsed = 0, sinceYield = 0;
  while (elapsed < budget || calls < 3) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    elapsed += dt;
    sinceYield += dt;
    calls += 1;
    if (sinceYield > 50) {
      sinceYield = 0;
      await pause();
    }
  }
  return { calls, ms: elapsed / calls };
}

$('#bench-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const rows = Math.max(1, Math.floor(Number($('#bench-rows').value)));
  const classes = Math.max(1, Math.floor(Number($('#bench-classes').value)));
  const budget = Math.max(20, Number($('#bench-budget').value));
  const button = $('#bench-run');
  const status = $('#bench-status');
  button.disabled = true;
  status.dataset.state = 'running';
  try {
    baseline ??= await createEngine({ simd: 'baseline' });
    const { logits, target } = benchData(rows, classes);
    const grad = new Float32Array(rows * classes);
    const contenders = [
      { name: `xent · ${engine.features.simd} SIMD`, kind: 'xent', run: () => engine.crossEntropy(logits, target, { classes, grad }).loss },
      ...(engine.features.simd === 'relaxed'
        ? [{ name: 'xent · baseline SIMD', kind: 'xent-baseline', run: () => baseline.crossEntropy(logits, target, { classes, grad }).loss }]
        : []),
      { name: 'plain JavaScript', kind: 'plain', run: () => plainCrossEntropy(logits, target, classes, grad) },
    ];
    const results = [];
    for (const c of contenders) {
      status.textContent = `Timing ${c.name} on ${rows} × ${classes}…`;
      await pause();
      const loss = c.run();
      const { calls, ms } = await time(c.run, budget);
      results.push({ ...c, calls, ms, loss, throughput: (rows * classes) / (ms / 1000) });
      drawChart(results, contenders.length);
    }
    fillTable(results);
    const spread = Math.max(...results.map((r) => Math.abs(r.loss - results[0].loss))) / Math.max(1, Math.abs(results[0].loss));
    status.textContent =
      `${rows} × ${classes} (${((rows * classes * 4) / 1e6).toFixed(1)} MB of logits), ` +
      `${budget} ms per contender. The losses agree to ${spread.toExponential(1)} (relative).`;
    status.dataset.state = 'done';
    status.dataset.spread = String(spread);
  } catch (error) {
    status.textContent = `Benchmark failed: ${error.message}`;
    status.dataset.state = 'error';
    throw error;
  } finally {
    button.disabled = false;
  }
});

const SVG = 'http://www.w3.org/2000/svg';

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Horizontal bars, one per contender, in million logits per second (forward + backward). */
function drawChart(results, slots) {
  const chart = $('#bench-chart');
  const width = 720, left = 170, right = 150, top = 28, barHeight = 30, gap = 14;
  const height = top + slots * (barHeight + gap) + 24;
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('height', String(height));
  const max = Math.max(...results.map((r) => r.throughput));
  const plain = results.find((r) => r.kind === 'plain');
  const scale = (width - left - right) / max;
  const children = [svg('text', { x: left, y: 16, class: 'axis-title' }, 'million logits per second, forward + backward (longer is faster)')];
  results.forEach((r, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(2, r.throughput * scale);
    const speedup = plain ? ` · ×${(r.throughput / plain.throughput).toFixed(1)}` : '';
    children.push(
      svg('text', { x: left - 10, y: y + barHeight / 2 + 5, 'text-anchor': 'end', class: 'bar-name' }, r.name),
      svg('rect', { x: left, y, width: w, height: barHeight, rx: 4, class: `bar ${r.kind}`, 'data-throughput': r.throughput, 'data-name': r.name }),
      svg('text', { x: left + w + 8, y: y + barHeight / 2 + 5, class: 'bar-text' }, `${(r.throughput / 1e6).toFixed(1)} M/s${r.kind === 'plain' ? '' : speedup}`),
    );
  });
  children.push(svg('line', { x1: left, x2: left, y1: top - 6, y2: height - 18, class: 'axis' }));
  chart.replaceChildren(...children);
}

function fillTable(results) {
  const table = $('#bench-table');
  const plain = results.find((r) => r.kind === 'plain');
  table.tBodies[0].replaceChildren(
    ...results.map((r) => {
      const row = document.createElement('tr');
      const cells = [r.name, r.calls, r.ms.toFixed(3), (r.throughput / 1e6).toFixed(1), plain ? `×${(r.throughput / plain.throughput).toFixed(2)}` : '', r.loss.toFixed(6)];
      row.replaceChildren(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: String(text) })));
      return row;
    }),
  );
  table.hidden = false;
}
