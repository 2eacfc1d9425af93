// npm run bench: xent against every peer a JavaScript user can reach, in one process, on the
// shapes of bench/shapes.js. Each implementation's loss is checked against the float64
// reference before it is timed. Prints ns per logit element and ratios, and writes the
// tables to bench/RESULTS.md.
//
//   node --expose-gc --experimental-wasm-relaxed-simd bench/run.js [--quick] [--shapes 0,3]

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createEngine } from '../dist/index.js';
import * as reference from '../dist/reference/index.js';
import { plainCrossEntropy } from './plain-js.js';
import { BENCH_SHAPES } from './shapes.js';
import { tfCrossEntropy, useBackend } from './tfjs.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shapes: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const shapes = flags.shapes ? flags.shapes.split(',').map((i) => BENCH_SHAPES[Number(i)]) : BENCH_SHAPES;
const benchOptions = flags.quick ? { time: 60, warmupTime: 20, iterations: 2 } : { time: 400, warmupTime: 100, iterations: 3 };

const engines = { simd128: await createEngine({ simd: 'baseline' }) };
try {
  engines.relaxed = await createEngine({ simd: 'relaxed' });
} catch {
  console.warn('relaxed SIMD is not available here (Node 20 needs --experimental-wasm-relaxed-simd): skipped');
}
try {
  const threaded = await createEngine({ simd: 'baseline', threads: 2 });
  if (threaded.features.threads === 2) engines['simd128 2 threads'] = threaded;
} catch (error) {
  console.warn(`threads: ${error.message}`);
}

const machine = [
  `CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores)`,
  `Node ${process.version}, V8 ${process.versions.v8}`,
  `xent builds: ${Object.keys(engines).join(', ')}`,
  `date: ${new Date().toISOString().slice(0, 10)}`,
];
console.log(machine.join('\n'));

/** A logits matrix of N(0, 2^2) values and random targets. */
function data({ rows, classes }) {
  const logits = new Float32Array(rows * classes);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < logits.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random())), a = 2 * Math.PI * random();
    logits[i] = 2 * r * Math.cos(a);
    if (i + 1 < logits.length) logits[i + 1] = 2 * r * Math.sin(a);
  }
  const target = new Int32Array(rows).map(() => Math.floor(random() * classes));
  return { logits, target };
}

/** The implementations: each returns, for a shape, a function (grad: boolean) => loss. */
function implementations({ rows, classes }, logits, target) {
  const grad = new Float32Array(rows * classes);
  const impls = {};
  for (const [name, engine] of Object.entries(engines)) {
    impls[`xent ${name}`] = (withGrad) => engine.crossEntropy(logits, target, { classes, grad: withGrad ? grad : false }).loss;
  }
  const tensor = engines.simd128.tensor(rows, classes);
  tensor.data.set(logits);
  // Zero-copy: the logits live in engine memory. The in-place gradient replaces them after the
  // first call, which changes the loss but not the work (and the check runs first).
  impls['xent simd128 tensor'] = (withGrad) =>
    engines.simd128.crossEntropy(tensor, target, { grad: withGrad ? 'inplace' : false }).loss;
  impls['plain JS'] = (withGrad) => plainCrossEntropy(logits, target, classes, withGrad ? grad : undefined);
  impls['TF.js wasm'] = 'wasm';
  impls['TF.js cpu'] = 'cpu';
  impls['reference f64'] = (withGrad) => reference.crossEntropy(logits, target, { classes, grad: withGrad }).loss;
  return { impls, release: () => tensor.free() };
}

/** Median time per call in ms. */
async function time(name, fn) {
  const bench = new Bench(benchOptions);
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`${name}: ${result.state} ${result.error ?? ''}`);
  return result.latency.p50;
}

const results = []; // { shape, impl, mode, ns }
for (const shape of shapes) {
  const { rows, classes } = shape;
  const elements = rows * classes;
  const { logits, target } = data(shape);
  const want = reference.crossEntropy(logits, target, { classes }).loss;
  const { impls, release } = implementations(shape, logits, target);
  console.log(`\n${rows} x ${classes} (${shape.label}), reference loss ${want.toFixed(6)}`);
  for (const [impl, make] of Object.entries(impls)) {
    if (impl === 'reference f64' && elements > 4e6 && flags.quick) continue;
    for (const withGrad of [false, true]) {
      let fn = make;
      if (typeof make === 'string') {
        await useBackend(make);
        fn = (() => { const step = tfCrossEntropy(logits, target, classes, withGrad); return () => step(); })();
      }
      const run = typeof make === 'string' ? fn : () => make(withGrad);
      const loss = run();
      const ok = Math.abs(loss - want) <= 1e-4 * Math.max(1, Math.abs(want));
      if (!ok) {
        console.log(`  ${impl.padEnd(22)} ${withGrad ? 'fwd+bwd' : 'forward'}: loss ${loss} differs from the reference: not timed`);
        continue;
      }
      const ms = await time(impl, run);
      const ns = (ms * 1e6) / elements;
      results.push({ shape, impl, mode: withGrad ? 'fwd+bwd' : 'forward', ns });
      console.log(`  ${impl.padEnd(22)} ${withGrad ? 'fwd+bwd' : 'forward'} ${ns.toFixed(3).padStart(9)} ns/element`);
    }
  }
  // The floor: one bare exp pass over the same number of elements, from one tensor into
  // another (in place, the values would drift from call to call).
  const engine = engines.simd128;
  const t = engine.tensor(rows, classes);
  const out = engine.tensor(rows, classes);
  t.data.fill(-1); // exp(-1) everywhere: no value is flushed, every lane does the full work
  const ms = await time('exp floor', () => engine.kernels.vexpMinus(t.ptr, out.ptr, elements));
  results.push({ shape, impl: 'bare exp pass', mode: 'forward', ns: (ms * 1e6) / elements });
  console.log(`  ${'bare exp pass'.padEnd(22)} forward ${((ms * 1e6) / elements).toFixed(3).padStart(9)} ns/element`);
  t.free();
  out.free();
  release();
  globalThis.gc?.();
}

// The loss family at the same shapes: xent (baseline build, plain arrays) against the float64
// reference, the only other implementation of all four here. The reference is timed on one
// call: it is slow enough (hundreds of ns per element) for one call to be representative.
const family = []; // { shape, op, mode, xent, reference }
const familyShapes = shapes.filter((s) => s.rows * s.classes <= 4_200_000);
for (const shape of familyShapes) {
  const { rows, classes } = shape;
  const { logits, target } = data(shape);
  const unit = logits.map((x) => (x > 1 ? 1 : x < -1 ? 0 : (x + 1) / 2)); // targets in [0, 1]
  const teacher = logits.map((x, i) => x + Math.sin(i));
  const grad = new Float32Array(rows * classes);
  const ops = {
    binaryCrossEntropy: (impl, withGrad) => impl.binaryCrossEntropy(logits, unit, { classes, grad: withGrad && (impl === reference ? true : grad) }).loss,
    sigmoidFocalLoss: (impl, withGrad) => impl.sigmoidFocalLoss(logits, unit, { grad: withGrad && (impl === reference ? true : grad) }).loss,
    klDivergence: (impl, withGrad) => impl.klDivergence(logits, teacher, { classes, grad: withGrad && (impl === reference ? true : grad) }).loss,
    'evaluate (top-5)': (impl) => impl.evaluate(logits, target, { classes, topK: 5 }).loss,
  };
  console.log(`\nloss family, ${rows} x ${classes}`);
  for (const [op, run] of Object.entries(ops)) {
    for (const withGrad of op.startsWith('evaluate') ? [false] : [false, true]) {
      const mode = withGrad ? 'fwd+bwd' : 'forward';
      const want = run(reference, withGrad);
      const got = run(engines.simd128, withGrad);
      if (!(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)))) {
        console.log(`  ${op} ${mode}: loss ${got} differs from the reference ${want}: not timed`);
        continue;
      }
      const xent = ((await time(op, () => run(engines.simd128, withGrad))) * 1e6) / (rows * classes);
      const started = performance.now();
      run(reference, withGrad);
      const slow = ((performance.now() - started) * 1e6) / (rows * classes);
      family.push({ shape, op, mode, xent, reference: slow });
      console.log(`  ${op.padEnd(20)} ${mode} xent ${xent.toFixed(3).padStart(8)} ns/element, reference ${slow.toFixed(1)} (${(slow / xent).toFixed(0)}x)`);
    }
  }
  globalThis.gc?.();
}

// Tables: ns per element, then ratios.
const implNames = [...new Set(results.map((r) => r.impl))];
const ns = (shape, impl, mode) => results.find((r) => r.shape === shape && r.impl === impl && r.mode === mode)?.ns;
const fmt = (x, digits = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const lines = [];
const table = (title, header, rows) => {
  lines.push(`### ${title}`, '', `| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
};
for (const mode of ['fwd+bwd', 'forward']) {
  table(
    `${mode === 'fwd+bwd' ? 'Forward + backward' : 'Forward only'}: ns per logit element (median)`,
    ['N x V', ...implNames.filter((i) => mode === 'forward' || i !== 'bare exp pass')],
    shapes.map((s) => [`${s.rows} x ${s.classes}`, ...implNames.filter((i) => mode === 'forward' || i !== 'bare exp pass').map((i) => fmt(ns(s, i, mode), 3))]),
  );
}
const best = 'xent relaxed' in Object.fromEntries(implNames.map((n) => [n, 1])) ? 'xent relaxed' : 'xent simd128';
const ratioRows = shapes.map((s) => {
  const xb = ns(s, 'xent simd128', 'fwd+bwd');
  const xf = ns(s, 'xent simd128', 'forward');
  return [
    `${s.rows} x ${s.classes}`,
    fmt(ns(s, 'TF.js wasm', 'fwd+bwd') / xb, 1),
    fmt(ns(s, 'TF.js wasm', 'fwd+bwd') / ns(s, best, 'fwd+bwd'), 1),
    fmt(ns(s, 'plain JS', 'fwd+bwd') / xb, 1),
    fmt(xb / xf),
    fmt(xf / ns(s, 'bare exp pass', 'forward')),
    fmt(ns(s, 'xent simd128', 'fwd+bwd') / ns(s, 'xent relaxed', 'fwd+bwd')),
    fmt(ns(s, 'xent simd128', 'fwd+bwd') / ns(s, 'xent simd128 2 threads', 'fwd+bwd')),
  ];
});
table(
  'Ratios (same run)',
  ['N x V', 'TF.js wasm / xent', `TF.js wasm / ${best}`, 'plain JS / xent', 'xent fwd+bwd / fwd', 'xent fwd / bare exp', 'relaxed speed-up', '2-thread speed-up'],
  ratioRows,
);
table(
  'Loss family: xent simd128 ns per element (plain arrays), and the float64 reference / xent',
  ['op', 'mode', ...familyShapes.map((s) => `${s.rows} x ${s.classes}`)],
  [...new Set(family.map((f) => `${f.op}|${f.mode}`))].map((key) => {
    const [op, mode] = key.split('|');
    return [op, mode, ...familyShapes.map((s) => {
      const f = family.find((r) => r.shape === s && r.op === op && r.mode === mode);
      return f ? `${fmt(f.xent, 3)} (${fmt(f.reference / f.xent, 0)}x)` : '-';
    })];
  }),
);
const report = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (bench/run.js); ratios are of medians measured in the same run.',
  'xent is the baseline simd128 build with plain Float32Array input unless the column says otherwise.',
  '',
  '```',
  ...machine,
  '```',
  '',
  ...lines,
].join('\n');
console.log(`\n${lines.join('\n')}`);
if (!flags['no-write'] && !flags.quick && !flags.shapes) writeFileSync(new URL('./RESULTS.md', import.meta.url), report);
for (const engine of Object.values(engines)) engine.dispose();
