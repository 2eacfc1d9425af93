// npm run bench: xent against every peer a JavaScript user can reach, in one process, on the
// shapes of bench/shapes.js. Each implementation's loss is checked against the float64
// reference before it is timed. The contenders are timed in interleaved rounds (see
// timeInRounds), so that their ratios hold on a machine whose load comes and goes. Prints ns
// per logit element and ratios, and writes the tables to bench/RESULTS.md.
//
//   node --expose-gc --experimental-wasm-relaxed-simd bench/run.js [--quick] [--shapes 0,3]
//   ... bench/run.js --linear [--quick]: the fused linear cross-entropy's section (bench/linear.js)

import './huge-pages.js';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createEngine } from '../dist/index.js';
import * as reference from '../dist/reference/index.js';
import { copySpeedUp } from './bandwidth.js';
import { crossEntropyKernelOnThreads, kernelsAlone } from './kernels.js';
import { runLinear } from './linear.js';
import { plainBinaryCrossEntropy, plainCrossEntropy } from './plain-js.js';
import { rng } from './random.js';
import { BENCH_SHAPES } from './shapes.js';
import { tfCrossEntropy, tfSigmoidCrossEntropy, useBackend } from './tfjs.js';
import { SECTIONS, writeResults } from './results.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shapes: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    linear: { type: 'boolean', default: false },
  },
});

if (flags.linear) {
  const cpu = `${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  console.log(cpu);
  const lines = await runLinear({ quick: flags.quick });
  if (!flags['no-write'] && !flags.quick) {
    writeResults('linear', [
      SECTIONS.linear, '',
      'Written by `npm run bench -- --linear` (bench/linear.js): GFLOP/s over 2NDV (forward) and 6NDV (forward + backward,',
      'gradients of hidden and head); each time is one call after a warm-up. Engine memory is the wasm memory after the',
      'calls less the inputs copied into it and the gradients (the block of logits, scratch, and the module\'s own few MiB).', '',
      `Machine: ${cpu}`, '', ...lines,
    ].join('\n'));
  }
  process.exit(0);
}

const shapes = flags.shapes ? flags.shapes.split(',').map((i) => BENCH_SHAPES[Number(i)]) : BENCH_SHAPES;
const benchOptions = flags.quick ? { time: 60, warmupTime: 20, iterations: 2 } : { time: 500, warmupTime: 50, iterations: 3 };
// Each fast implementation is timed in this many slices, interleaved with the others'.
const ROUNDS = flags.quick ? 1 : 5;
// Elements above which the slow implementations (TF.js cpu, the float64 reference) are not timed.
const SLOW_LIMIT = 2_100_000;
const started = performance.now();

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
  `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''} (bench/huge-pages.js)`,
  `xent builds: ${Object.keys(engines).join(', ')}`,
  `date: ${new Date().toISOString().slice(0, 10)}`,
];
console.log(machine.join('\n'));

/** A logits matrix of N(0, 2^2) values and random targets, from the integer generator. */
function data({ rows, classes }) {
  const logits = new Float32Array(rows * classes);
  const random = rng(12345);
  for (let i = 0; i < logits.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random())), a = 2 * Math.PI * random();
    logits[i] = 2 * r * Math.cos(a);
    if (i + 1 < logits.length) logits[i + 1] = 2 * r * Math.sin(a);
  }
  const target = new Int32Array(rows).map(() => Math.floor(random() * classes));
  return { logits, target };
}

/**
 * The implementations at a shape: name -> { prepare(withGrad) -> a function of nothing that
 * returns the loss, gradient() -> the gradient its last call with withGrad computed, slow }.
 * The slow ones (hundreds of ns per element) are timed once, after the rest, and enter no ratio.
 */
function implementations({ rows, classes }, logits, target) {
  const grad = new Float32Array(rows * classes);
  const direct = (run, gradient = () => grad) => ({ prepare: (withGrad) => () => run(withGrad), gradient });
  const impls = {};
  for (const [name, engine] of Object.entries(engines)) {
    impls[`xent ${name}`] = direct((withGrad) => engine.crossEntropy(logits, target, { classes, grad: withGrad ? grad : false }).loss);
  }
  // Zero-copy: the logits live in engine memory. The in-place gradient replaces them after the
  // first call, which changes the loss but not the work (and the checks run first).
  const tensors = [];
  for (const name of ['simd128', 'simd128 2 threads']) {
    const engine = engines[name];
    if (engine === undefined) continue;
    const tensor = engine.tensor(rows, classes);
    tensor.data.set(logits);
    tensors.push(tensor);
    impls[`xent ${name} tensor`] = direct((withGrad) => engine.crossEntropy(tensor, target, { grad: withGrad ? 'inplace' : false }).loss, () => tensor.data);
  }
  // What a loop over a tensor does at each step: its new logits written in, then the call. Against
  // plain arrays (copied in, the gradient copied out), it says what the copies cost.
  const refilled = engines.simd128.tensor(rows, classes);
  tensors.push(refilled);
  impls['xent simd128 tensor, refilled'] = direct((withGrad) => {
    refilled.data.set(logits);
    return engines.simd128.crossEntropy(refilled, target, { grad: withGrad ? 'inplace' : false }).loss;
  }, () => refilled.data);
  impls['plain JS'] = direct((withGrad) => plainCrossEntropy(logits, target, classes, withGrad ? grad : undefined));
  const steps = [];
  const tfjs = (backend, slow) => {
    let step;
    return {
      slow,
      prepare: async (withGrad) => {
        await useBackend(backend);
        step = tfCrossEntropy(logits, target, classes, withGrad);
        steps.push(step);
        return step.run;
      },
      gradient: () => step.gradient(),
    };
  };
  impls['TF.js wasm'] = tfjs('wasm', false);
  impls['TF.js cpu'] = tfjs('cpu', true);
  let referenceGrad;
  impls['reference f64'] = {
    ...direct((withGrad) => {
      const r = reference.crossEntropy(logits, target, { classes, grad: withGrad });
      referenceGrad = r.grad;
      return r.loss;
    }, () => referenceGrad),
    slow: true,
  };
  // The floor: one bare exp pass over the same number of elements, from one tensor into
  // another (in place, the values would drift from call to call).
  const engine = engines.simd128;
  const input = engine.tensor(rows, classes);
  const output = engine.tensor(rows, classes);
  input.data.fill(-1); // exp(-1) everywhere: no value is flushed, every lane does the full work
  const floor = () => engine.kernels.vexpMinus(input.ptr, output.ptr, rows * classes);
  const release = () => {
    for (const t of [...tensors, input, output]) t.free();
    for (const step of steps) step.dispose();
  };
  return { impls, floor, release };
}

/** Why a gradient is not the reference's (max |g - ref| > 1e-4 max |ref|), or undefined. */
function gradientError(got, want) {
  if (got === undefined || got.length !== want.length) return `a gradient of ${got?.length} values, expected ${want.length}`;
  let worst = 0, scale = 0, at = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) [worst, at] = [d, i];
  }
  return worst <= 1e-4 * scale ? undefined : `gradient[${at}] = ${got[at]}, expected ${want[at]} (max |ref| ${scale})`;
}

/** Samples (ms per call) of fn over `ms` milliseconds, tinybench's. */
async function samples(name, fn, ms) {
  const bench = new Bench({ ...benchOptions, time: ms, retainSamples: true });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`${name}: ${result.state} ${result.error ?? ''}`);
  return result.latency.samples;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The median ms per call of each task, sampled in rounds: every task for a slice of its time
 * in each round, so that the load of a shared machine, which comes and goes, weighs on every
 * task alike and the ratios between them hold.
 */
async function timeInRounds(tasks) {
  const pooled = tasks.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, task] of tasks.entries()) {
      pooled[k].push(...(await samples(task.name, await task.prepare(), benchOptions.time / ROUNDS)));
    }
  }
  return pooled.map(median);
}

const results = []; // { shape, impl, mode, ns }
for (const shape of shapes) {
  const { rows, classes } = shape;
  const elements = rows * classes;
  const { logits, target } = data(shape);
  const oracle = reference.crossEntropy(logits, target, { classes, grad: true });
  const want = oracle.loss;
  const { impls, floor, release } = implementations(shape, logits, target);
  console.log(`\n${rows} x ${classes} (${shape.label}), reference loss ${want.toFixed(6)}`);
  const record = (impl, mode, time) => {
    const ns = (time * 1e6) / elements;
    results.push({ shape, impl, mode, ns });
    console.log(`  ${impl.padEnd(22)} ${mode} ${ns.toFixed(3).padStart(9)} ns/element`);
  };
  // Each implementation's loss, and its gradient, are checked before it is timed.
  const tasks = [];
  for (const [impl, { prepare, gradient, slow }] of Object.entries(impls)) {
    // The slow ones cost seconds per call at the big shapes: timed only at the small ones, and
    // not at all in a quick run (which keeps under two minutes).
    if (slow && (flags.quick || elements > SLOW_LIMIT)) continue;
    for (const withGrad of [false, true]) {
      const mode = withGrad ? 'fwd+bwd' : 'forward';
      const loss = (await prepare(withGrad))();
      if (!(Math.abs(loss - want) <= 1e-4 * Math.max(1, Math.abs(want)))) {
        console.log(`  ${impl.padEnd(22)} ${mode}: loss ${loss} differs from the reference: not timed`);
        continue;
      }
      const wrong = withGrad ? gradientError(gradient(), oracle.grad) : undefined;
      if (wrong !== undefined) {
        console.log(`  ${impl.padEnd(22)} ${mode}: ${wrong}: not timed`);
        continue;
      }
      tasks.push({ name: impl, impl, mode, slow, prepare: () => prepare(withGrad) });
    }
  }
  tasks.push({ name: 'bare exp pass', impl: 'bare exp pass', mode: 'forward', prepare: () => floor });
  const fast = tasks.filter((t) => !t.slow);
  const ms = new Map((await timeInRounds(fast)).map((time, k) => [fast[k], time]));
  // One call each, warm (the checks above ran them once): hundreds of ns per element.
  for (const task of tasks.filter((t) => t.slow)) {
    const run = await task.prepare();
    const started = performance.now();
    run();
    ms.set(task, performance.now() - started);
  }
  for (const task of tasks) record(task.impl, task.mode, ms.get(task));
  release();
  globalThis.gc?.();
}

// The loss family at the same shapes: xent (baseline build, plain arrays) against the float64
// reference, the only other implementation of all four here. The reference is timed on one warm
// call: it is slow enough (hundreds of ns per element) for one call to be representative.
const family = []; // { shape, op, mode, ns, reference, peerOf }
const familyShapes = shapes.filter((s) => s.rows * s.classes <= 4_200_000 && (!flags.quick || s.classes === 1000));
for (const shape of familyShapes) {
  const { rows, classes } = shape;
  const { logits, target } = data(shape);
  const unit = logits.map((x) => (x > 1 ? 1 : x < -1 ? 0 : (x + 1) / 2)); // targets in [0, 1]
  const teacher = logits.map((x, i) => x + Math.sin(i));
  const grad = new Float32Array(rows * classes);
  const ids = Int32Array.from({ length: rows * 4 }, (_, i) => (target[i >> 2] + (i & 3)) % classes);
  const ops = {
    binaryCrossEntropy: (impl, withGrad) => impl.binaryCrossEntropy(logits, unit, { classes, grad: withGrad && (impl === reference ? true : grad) }).loss,
    sigmoidFocalLoss: (impl, withGrad) => impl.sigmoidFocalLoss(logits, unit, { grad: withGrad && (impl === reference ? true : grad) }).loss,
    klDivergence: (impl, withGrad) => impl.klDivergence(logits, teacher, { classes, grad: withGrad && (impl === reference ? true : grad) }).loss,
    'evaluate (top-5)': (impl) => impl.evaluate(logits, target, { classes, topK: 5 }).loss,
    // The streaming evaluator against evaluate's loss (the reference has no evaluator).
    'evaluator.add (top-5)': (impl) => (impl === reference
      ? reference.evaluate(logits, target, { classes, topK: 5 }).loss
      : impl.evaluator({ topK: 5 }).add(logits, target, { classes }).result().loss),
    logSumExp: (impl) => impl.logSumExp(logits, { classes })[rows - 1],
    'logProbs (4 ids)': (impl) => impl.logProbs(logits, ids, { classes }).logprobs[4 * rows - 1],
  };
  console.log(`\nloss family, ${rows} x ${classes}`);
  // crossEntropy itself, the kernels alone and every op checked against the reference, then
  // all timed in the same interleaved rounds, so that each ratio to crossEntropy is of one
  // moment of the machine.
  const xent = engines.simd128;
  const tasks = [
    { op: 'crossEntropy', mode: 'forward', run: () => xent.crossEntropy(logits, target, { classes }).loss },
    { op: 'crossEntropy', mode: 'fwd+bwd', run: () => xent.crossEntropy(logits, target, { classes, grad }).loss },
  ];
  for (const [op, run] of Object.entries(ops)) {
    for (const withGrad of ['binaryCrossEntropy', 'sigmoidFocalLoss', 'klDivergence'].includes(op) ? [false, true] : [false]) {
      const mode = withGrad ? 'fwd+bwd' : 'forward';
      const want = run(reference, withGrad);
      const got = run(xent, withGrad);
      if (!(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)))) {
        console.log(`  ${op} ${mode}: loss ${got} differs from the reference ${want}: not timed`);
        continue;
      }
      tasks.push({ op, mode, run: () => run(xent, withGrad), reference: () => run(reference, withGrad) });
    }
  }
  // Each kernel alone on engine memory: the floor under each call.
  const kernels = kernelsAlone(xent, shape, { logits, target, unit, teacher });
  for (const [op, { mode, run }] of Object.entries(kernels)) tasks.push({ op, mode, run });
  const times = await timeInRounds(tasks.map(({ op, mode, run }) => ({ name: `${op} ${mode}`, prepare: () => run })));
  for (const kernel of Object.values(kernels)) kernel.release();
  for (const [k, { op, mode, reference: slowRun }] of tasks.entries()) {
    const ns = (times[k] * 1e6) / (rows * classes);
    // The reference's second call (its first was the check above): warm, like xent's samples.
    let slow = NaN;
    if (slowRun !== undefined && !flags.quick) {
      const started = performance.now();
      slowRun();
      slow = ((performance.now() - started) * 1e6) / (rows * classes);
    }
    family.push({ shape, op, mode, ns, reference: slow });
    console.log(`  ${`${op} ${mode}`.padEnd(40)} ${ns.toFixed(3).padStart(8)} ns/element${Number.isNaN(slow) ? '' : `, reference ${(slow / ns).toFixed(0)}x`}`);
  }
  // What a per-element result costs before any kernel runs: a new N x V Float32Array, whose
  // pages the OS maps on their first write (binaryCrossEntropy and sigmoidFocalLoss return one,
  // their `losses`).
  const op = 'a new N x V Float32Array, one write per 4 KiB page';
  const fresh = () => {
    const a = new Float32Array(rows * classes);
    for (let i = 0; i < a.length; i += 1024) a[i] = 1;
    return a[0];
  };
  const made = (median(await samples(op, fresh, benchOptions.time)) * 1e6) / (rows * classes);
  family.push({ shape, op, mode: 'forward', ns: made, reference: NaN });
  console.log(`  ${op}: ${made.toFixed(3)} ns/element`);
  // binaryCrossEntropy's peers, each checked against the reference first: the gradient element
  // by element as everywhere, the loss to 1e-2 (TF.js sums its millions of f32 terms in f32:
  // 2e-3 off at 4096 x 1000, which a wrong formula or reduction would far exceed).
  await useBackend('wasm');
  for (const withGrad of [false, true]) {
    const mode = withGrad ? 'fwd+bwd' : 'forward';
    const want = reference.binaryCrossEntropy(logits, unit, { grad: withGrad });
    const peers = {
      'TF.js wasm tf.losses.sigmoidCrossEntropy': tfSigmoidCrossEntropy(logits, unit, withGrad),
      'plain JS': { run: () => plainBinaryCrossEntropy(logits, unit, withGrad ? grad : undefined), gradient: () => grad, dispose() {} },
    };
    for (const [peer, step] of Object.entries(peers)) {
      const name = `binaryCrossEntropy: ${peer}`;
      const loss = step.run();
      const wrong = !(Math.abs(loss - want.loss) <= 1e-2 * Math.max(1, Math.abs(want.loss)))
        ? `loss ${loss} differs from the reference ${want.loss}`
        : withGrad ? gradientError(step.gradient(), want.grad) : undefined;
      if (wrong === undefined) {
        const ns = (median(await samples(name, step.run, benchOptions.time)) * 1e6) / (rows * classes);
        family.push({ shape, op: name, mode, ns, reference: NaN, peerOf: 'binaryCrossEntropy' });
        console.log(`  ${name} ${mode}: ${ns.toFixed(3)} ns/element`);
      } else {
        console.log(`  ${name} ${mode}: ${wrong}: not timed`);
      }
      step.dispose();
    }
  }
  globalThis.gc?.();
}

// Small calls: one row of 10 logits, as a user scoring one example at a time calls it, in
// microseconds and in the logits of bulk crossEntropy work (4096 x 1000, plain arrays) that take
// as long. The bulk call is timed again here, in the same interleaved rounds as the small ones,
// so that the ratio holds when the machine's load differs from the main table's. A sample is
// 100 calls: one call is near the timer's resolution.
const SMALL_BATCH = 100;
const small = {}; // mode -> { us, logits }
{
  const classes = 10;
  const { logits, target } = data({ rows: 1, classes });
  const grad = new Float32Array(classes);
  const want = reference.crossEntropy(logits, target, { classes, grad: true });
  const bulkShape = { rows: 4096, classes: 1000 };
  const bulk = data(bulkShape);
  const bulkGrad = new Float32Array(bulkShape.rows * bulkShape.classes);
  const tasks = [];
  for (const withGrad of [false, true]) {
    const call = () => engines.simd128.crossEntropy(logits, target, { classes, grad: withGrad ? grad : false });
    if (!(Math.abs(call().loss - want.loss) <= 1e-5 * Math.max(1, want.loss)) || (withGrad && gradientError(grad, want.grad))) {
      throw new Error('1 x 10 crossEntropy differs from the reference');
    }
    const batch = () => {
      for (let i = 0; i < SMALL_BATCH; i++) call();
    };
    const bulkCall = () => engines.simd128.crossEntropy(bulk.logits, bulk.target, { classes: bulkShape.classes, grad: withGrad ? bulkGrad : false });
    tasks.push({ name: '1 x 10', prepare: async () => batch }, { name: '4096 x 1000', prepare: async () => bulkCall });
  }
  const [forward, bulkForward, fwdBwd, bulkFwdBwd] = await timeInRounds(tasks);
  const elements = bulkShape.rows * bulkShape.classes;
  for (const [mode, batchMs, bulkMs] of [['forward', forward, bulkForward], ['fwd+bwd', fwdBwd, bulkFwdBwd]]) {
    const us = (batchMs * 1000) / SMALL_BATCH;
    small[mode] = { us, logits: (us * 1000) / ((bulkMs * 1e6) / elements) };
  }
  console.log(`\n1 x 10 crossEntropy: ${small.forward.us.toFixed(2)} us forward, ${small['fwd+bwd'].us.toFixed(2)} us fwd+bwd per call`);
}

// Every row operation on 2 threads against 1, on tensors of 4096 x 1000 (4.1M elements; the
// gradient into a view of a tensor): what each operation gains from a second thread.
const scaling = []; // { op, speedup }
if (engines['simd128 2 threads'] !== undefined && !flags.quick) {
  const rows = 4096, classes = 1000;
  const { logits, target } = data({ rows, classes });
  const unit = logits.map((x) => (x > 1 ? 1 : x < -1 ? 0 : (x + 1) / 2));
  const teacher = logits.map((x, i) => x + Math.sin(i));
  const byEngine = ['simd128', 'simd128 2 threads'].map((name) => {
    const engine = engines[name];
    const place = (values) => {
      const t = engine.tensor(rows, classes);
      t.data.set(values);
      return t;
    };
    const x = place(logits), u = place(unit), q = place(teacher), g = engine.tensor(rows, classes);
    const ops = {
      crossEntropy: () => engine.crossEntropy(x, target, { grad: g.data }).loss,
      binaryCrossEntropy: () => engine.binaryCrossEntropy(x, u.data, { grad: g.data }).loss,
      sigmoidFocalLoss: () => engine.sigmoidFocalLoss(x, u.data, { grad: g.data }).loss,
      klDivergence: () => engine.klDivergence(x, q, { grad: g.data }).loss,
      'evaluate (top-5)': () => engine.evaluate(x, target, { topK: 5 }).loss,
      logSumExp: () => engine.logSumExp(x)[rows - 1],
    };
    return { ops, release: () => [x, u, q, g].forEach((t) => t.free()) };
  });
  console.log(`\n2 threads / 1 on tensors, ${rows} x ${classes}`);
  for (const op of Object.keys(byEngine[0].ops)) {
    const [a, b] = byEngine.map((e) => e.ops[op]);
    if (a() !== b()) throw new Error(`${op}: 2 threads give another loss than 1`);
    const [one, two] = await timeInRounds([
      { name: `${op} 1 thread`, prepare: () => a },
      { name: `${op} 2 threads`, prepare: () => b },
    ]);
    scaling.push({ op, speedup: one / two });
    console.log(`  ${op.padEnd(20)} ${(one / two).toFixed(2)}x`);
  }
  for (const e of byEngine) e.release();
  scaling.push(...(await shortRowsOnThreads({ rows: 65536, classes: 10 })));
  // The ceiling memory sets: a 4096 x 1000 float copy (a read and a write per element) on two
  // threads at once against one.
  const memory = 'memory: each thread copying its own 4096 x 1000 floats';
  const speedup = await copySpeedUp(rows * classes, 20, 7);
  scaling.push({ op: memory, speedup });
  console.log(`  ${memory} ${speedup.toFixed(2)}x`);
}

/**
 * crossEntropy fwd+bwd on 2 threads against 1 at a shape of short rows: the call (on a tensor,
 * the gradient into another), its kernel with the copy out of its per-row results
 * (bench/kernels.js), and what the kernel's speed-up allows the call when the call's work
 * beyond it on one thread stays serial on two (Amdahl's law). All four timed in the same rounds.
 */
async function shortRowsOnThreads(shape) {
  const { rows, classes } = shape;
  const { logits, target } = data(shape);
  const byEngine = ['simd128', 'simd128 2 threads'].map((name) => {
    const engine = engines[name];
    const x = engine.tensor(rows, classes), g = engine.tensor(rows, classes);
    x.data.set(logits);
    const kernel = crossEntropyKernelOnThreads(engine, shape, { logits, target });
    return {
      call: () => engine.crossEntropy(x, target, { grad: g.data }).loss,
      kernel: kernel.run,
      release: () => {
        x.free();
        g.free();
        kernel.release();
      },
    };
  });
  const [one, two] = byEngine;
  if (one.call() !== two.call()) throw new Error(`crossEntropy ${rows} x ${classes}: 2 threads give another loss than 1`);
  const [call1, call2, kernel1, kernel2] = await timeInRounds([
    { name: 'call 1 thread', prepare: () => one.call },
    { name: 'call 2 threads', prepare: () => two.call },
    { name: 'kernel alone 1 thread', prepare: () => one.kernel },
    { name: 'kernel alone 2 threads', prepare: () => two.kernel },
  ]);
  for (const e of byEngine) e.release();
  const at = `crossEntropy, ${rows} x ${classes}`;
  const serial = `${Math.round((100 * (call1 - kernel1)) / call1)}%`;
  const rowsOut = [
    { op: at, speedup: call1 / call2 },
    { op: `${at}: the kernel alone, its per-row results copied out`, speedup: kernel1 / kernel2 },
    {
      op: `${at}: the call's bound, its 1-thread time outside the kernel (${serial}) kept serial`,
      speedup: call1 / (call1 - kernel1 + kernel2),
    },
  ];
  for (const { op, speedup } of rowsOut) console.log(`  ${op} ${speedup.toFixed(2)}x`);
  return rowsOut;
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
    // Like by like: both on data resident in engine memory, no copies.
    fmt(ns(s, 'xent simd128 tensor', 'forward') / ns(s, 'bare exp pass', 'forward')),
    fmt(ns(s, 'xent simd128', 'fwd+bwd') / ns(s, 'xent relaxed', 'fwd+bwd')),
    fmt(ns(s, 'xent simd128', 'fwd+bwd') / ns(s, 'xent simd128 2 threads', 'fwd+bwd')),
    fmt(ns(s, 'xent simd128 tensor', 'fwd+bwd') / ns(s, 'xent simd128 2 threads tensor', 'fwd+bwd')),
    fmt(xb / ns(s, 'xent simd128 tensor, refilled', 'fwd+bwd')),
  ];
});
table(
  'Ratios (same run)',
  ['N x V', 'TF.js wasm / xent', `TF.js wasm / ${best}`, 'plain JS / xent', 'xent fwd+bwd / fwd', 'xent fwd on a tensor / bare exp pass on a tensor', 'relaxed speed-up', '2-thread speed-up', '2-thread speed-up, tensors', 'plain arrays / refilled tensor, fwd+bwd'],
  ratioRows,
);
table(
  'Loss family: xent simd128 ns per element (plain arrays); / crossEntropy (the same mode, plain arrays, timed in the same rounds), / the bare exp pass; the float64 reference / xent. ' +
    '"the kernel alone": the wasm export on engine memory in blocks of a chunk\'s size (bench/kernels.js), the floor under the call. ' +
    "binaryCrossEntropy's peers: ns per element, / xent's binaryCrossEntropy",
  ['op', 'mode', ...familyShapes.map((s) => `${s.rows} x ${s.classes}`)],
  [...new Set(family.map((f) => `${f.op}|${f.mode}`))].map((key) => {
    const [op, mode] = key.split('|');
    return [op, mode, ...familyShapes.map((s) => {
      const f = family.find((r) => r.shape === s && r.op === op && r.mode === mode);
      if (!f) return '-';
      if (f.peerOf !== undefined) {
        const xent = family.find((r) => r.shape === s && r.op === f.peerOf && r.mode === mode);
        return `${fmt(f.ns, 3)} (${xent ? fmt(f.ns / xent.ns) : '-'}x xent)`;
      }
      const ce = f.ns / family.find((r) => r.shape === s && r.op === 'crossEntropy' && r.mode === mode).ns;
      const exp = f.ns / ns(s, 'bare exp pass', 'forward');
      return `${fmt(f.ns, 3)} (${fmt(ce)}x CE, ${fmt(exp, 1)}x exp${Number.isNaN(f.reference) ? '' : `; ref ${fmt(f.reference / f.ns, 0)}x`})`;
    })];
  }),
);
table(
  'Small calls: one 1 x 10 crossEntropy call (plain arrays, the gradient into a buffer), and the bulk work it costs as much as',
  ['mode', 'us per call', 'logits of 4096 x 1000 crossEntropy (same mode, timed in the same rounds)'],
  ['forward', 'fwd+bwd'].map((mode) => [mode, fmt(small[mode].us), fmt(small[mode].logits, 0)]),
);
if (scaling.length > 0) {
  table(
    'Threads: every row operation, 2 threads / 1, on tensors of 4096 x 1000 (fwd+bwd where there is a gradient); ' +
      'crossEntropy at 65536 x 10: its call, its kernel shared out as a call shares it with its per-row results copied out (bench/kernels.js), and the bound the two set on the call; ' +
      'the last row, plain copies on two threads at once against one (bench/bandwidth.js): the ceiling memory sets for streaming N x V arrays',
    ['op', '2-thread speed-up'],
    scaling.map(({ op, speedup }) => [op, fmt(speedup)]),
  );
}
const report = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (bench/run.js); ratios are of medians measured in the same run,',
  `each the median of samples taken in ${ROUNDS} rounds interleaved with the other implementations' (TF.js cpu and the reference: one warm call, at up to ${SLOW_LIMIT / 1e6}M elements).`,
  'xent is the baseline simd128 build with plain Float32Array input unless the column says otherwise.',
  '',
  '```',
  ...machine,
  '```',
  '',
  ...lines,
].join('\n');
console.log(`\n${lines.join('\n')}`);
if (!flags['no-write'] && !flags.quick && !flags.shapes) {
  writeResults('main', report);
}
for (const engine of Object.values(engines)) engine.dispose();
console.log(`\nbenchmark took ${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
