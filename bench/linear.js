// npm run bench -- --linear: the fused linear cross-entropy against the materialised path, in
// one process. For each shape (N rows, D dims, V classes): xent's forward and forward +
// backward (gradients of hidden and head) as GFLOP/s over 2NDV and 6NDV; its own GEMM alone
// (the logits' product, as the forward computes it, without the loss); the arithmetic peak of
// a register-only multiply-add loop; TF.js wasm (tf.matMul + tf.losses.softmaxCrossEntropy and
// their gradients); xent's crossEntropy on logits from TF.js's matMul; PyTorch CPU, one thread,
// when /usr/bin/python3 has torch. Each result is checked against the others before its time
// counts. The big shapes take long: each is timed once, after one warm-up call.

import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { createEngine } from '../dist/index.js';
import { LINEAR_BLOCK_BYTES, LINEAR_HEAD_CHUNK_BYTES, LINEAR_MAX_BLOCK_ROWS, LINEAR_MIN_BLOCK_ROWS } from '../dist/tuning.js';
import { rng } from './random.js';
import { useBackend } from './tfjs.js';

const SHAPES = [
  { rows: 512, dim: 768, classes: 50257 },
  { rows: 2048, dim: 2048, classes: 32000 },
  { rows: 4096, dim: 64, classes: 32768 },
  { rows: 256, dim: 2304, classes: 256000, headDtype: 'bf16' },
];
const QUICK_SHAPES = [{ rows: 256, dim: 256, classes: 8192 }, { rows: 64, dim: 512, classes: 32000, headDtype: 'bf16' }];

const MiB = 2 ** 20;
const gflops = (flop, ms) => flop / ms / 1e6;

/** hidden U(-1.7, 1.7) (unit variance), head scaled by 1 / sqrt(D) as a trained head's. */
function problem({ rows, dim, classes, headDtype }) {
  const random = rng(rows * 31 + dim);
  // Filled in loops: TypedArray.from collects its values in a JS array first, which a 590M-value
  // head does not fit in.
  const uniform = (n, scale) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * random() - 1) * scale;
    return a;
  };
  const hidden = uniform(rows * dim, 1.7);
  const head = uniform(classes * dim, 1.7 / Math.sqrt(dim));
  const target = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
  // bf16: the head's top halves; the f32 head the others use is the same values, truncated alike.
  if (headDtype === 'bf16') {
    const words = new Uint32Array(head.buffer);
    const bits = new Uint16Array(words.length);
    for (let i = 0; i < words.length; i++) {
      bits[i] = words[i] >>> 16;
      words[i] = bits[i] << 16;
    }
    return { hidden, head, bits, target };
  }
  return { hidden, head, target };
}

function time(fn) {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

function check(label, got, want) {
  if (!(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)))) throw new Error(`${label}: loss ${got}, expected ${want}`);
}

/** The arithmetic peak of engine's build: GFLOP/s of the register-only multiply-add loop. */
function peak(engine) {
  const k = engine.kernels;
  for (let i = 0; i < 300; i++) k.maddPeak(1e4); // until V8's optimising tier has it
  const n = 2e7;
  return gflops(n * 12 * 8, time(() => k.maddPeak(n)).ms);
}

/** GFLOP/s of the logits' product alone, computed as linearCrossEntropy's forward does. */
function gemmRate(engine, { rows, dim, classes }, p) {
  const { kernels, arena } = engine;
  const blockRows = Math.max(LINEAR_MIN_BLOCK_ROWS, Math.min(LINEAR_MAX_BLOCK_ROWS, Math.floor(LINEAR_BLOCK_BYTES / (classes * 4)) & ~3));
  const chunk = Math.max(2, Math.floor(LINEAR_HEAD_CHUNK_BYTES / (dim * 4)));
  const h = arena.alloc(p.hidden.byteLength, 'bench');
  const w = arena.alloc(p.head.byteLength, 'bench');
  const tile = arena.alloc(blockRows * classes * 4, 'bench');
  arena.f32(h, p.hidden.length).set(p.hidden);
  arena.f32(w, p.head.length).set(p.head);
  const run = (upTo) => {
    for (let r0 = 0; r0 < upTo; r0 += blockRows) {
      const n = Math.min(blockRows, upTo - r0);
      for (let c0 = 0; c0 < classes; c0 += chunk) {
        kernels.gemmNT(h + r0 * dim * 4, w + c0 * dim * 4, 0, tile + c0 * 4, n, Math.min(chunk, classes - c0), dim, classes);
      }
    }
  };
  for (let i = 0; i < 5; i++) run(Math.min(rows, blockRows));
  // The better of two runs: the product alone has no warm-up call of its size before it.
  const ms = Math.min(time(() => run(rows)).ms, time(() => run(rows)).ms);
  [h, w, tile].forEach((ptr) => arena.release(ptr));
  return gflops(2 * rows * dim * classes, ms);
}

/** PyTorch CPU, one thread: F.linear + F.cross_entropy, forward and forward + backward, in ms. */
function torchTimes({ rows, dim, classes, headDtype }) {
  const script = `
import time, torch, torch.nn.functional as F
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
h = torch.randn(${rows}, ${dim}, generator=g)
w = torch.randn(${classes}, ${dim}, generator=g) / ${dim} ** 0.5
${headDtype === 'bf16' ? 'w = w.to(torch.bfloat16).float()' : ''}
t = torch.randint(0, ${classes}, (${rows},), generator=g)
F.cross_entropy(F.linear(h[:8], w), t[:8])
t0 = time.perf_counter(); F.cross_entropy(F.linear(h, w), t); fwd = time.perf_counter() - t0
hh = h.clone().requires_grad_(); ww = w.clone().requires_grad_()
t0 = time.perf_counter(); F.cross_entropy(F.linear(hh, ww), t).backward(); both = time.perf_counter() - t0
print(fwd * 1e3, both * 1e3)`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return undefined;
  const [fwd, both] = r.stdout.trim().split(/\s+/).map(Number);
  return { fwd, both };
}

/** TF.js (current backend): logits by tf.matMul, softmaxCrossEntropy, gradients of hidden and head. */
function tfTimes({ rows, dim, classes }, p, withGrad) {
  const h = tf.tensor2d(p.hidden, [rows, dim]);
  const w = tf.tensor2d(p.head, [classes, dim]);
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(p.target, 'int32'), classes, 1, 0, 'int32'), 'float32'));
  const lossOf = (x, y) => tf.losses.softmaxCrossEntropy(labels, tf.matMul(x, y, false, true));
  const step = () => tf.tidy(() => {
    if (!withGrad) return lossOf(h, w).dataSync()[0];
    const { value, grads } = tf.valueAndGrads(lossOf)([h, w]);
    grads.forEach((g) => g.dataSync());
    return value.dataSync()[0];
  });
  const result = time(step);
  tf.dispose([h, w, labels]);
  return result;
}

/** xent's crossEntropy on logits that TF.js's matMul materialised (forward only). */
function tfLogitsThenXent(engine, { rows, dim, classes }, p) {
  return time(() => {
    const logits = tf.tidy(() => tf.matMul(tf.tensor2d(p.hidden, [rows, dim]), tf.tensor2d(p.head, [classes, dim]), false, true));
    const values = logits.dataSync();
    logits.dispose();
    return engine.crossEntropy(values, p.target, { classes }).loss;
  });
}

export async function runLinear({ quick }) {
  const shapes = quick ? QUICK_SHAPES : SHAPES;
  await useBackend('wasm');
  const lines = [];
  const say = (line) => {
    console.log(line);
    lines.push(line);
  };
  say('| shape (N, D, V) | build | peak | GEMM (of peak) | forward (of GEMM) | fwd+bwd over 6NDV (of GEMM) | engine memory beyond inputs and outputs | logits + their gradient would take |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const peers = [];
  for (const shape of shapes) {
    const { rows, dim, classes, headDtype = 'f32' } = shape;
    const p = problem(shape);
    const ndv = rows * dim * classes;
    const label = `(${rows}, ${dim}, ${classes})${headDtype === 'f32' ? '' : ` ${headDtype} head`}`;
    const head = headDtype === 'bf16' ? p.bits : p.head;
    let want;
    for (const simd of ['baseline', 'relaxed']) {
      const engine = await createEngine({ simd, maxMemoryBytes: 4 * 2 ** 30 - 65536 });
      const options = { classes, headDtype };
      // Warm-up, until V8's optimising tier has the kernels (a call that starts in the baseline
      // tier stays there: the first big call can take twice as long).
      for (let i = 0; i < 3; i++) engine.linearCrossEntropy(p.hidden.subarray(0, 64 * dim), head, p.target.subarray(0, 64), { ...options, grad: { hidden: true } });
      const fwd = time(() => engine.linearCrossEntropy(p.hidden, head, p.target, options).loss);
      const both = time(() => engine.linearCrossEntropy(p.hidden, head, p.target, { ...options, grad: { hidden: true, head: true } }).loss);
      want ??= fwd.value;
      check(`${label} ${simd} forward`, fwd.value, want);
      check(`${label} ${simd} fwd+bwd`, both.value, want);
      // What the call holds beyond its inputs (copied in) and its outputs (hidden's and head's gradients).
      const inOut = p.hidden.byteLength * 2 + head.byteLength + p.head.byteLength;
      const extra = engine.arena.memory.buffer.byteLength - inOut;
      const gemm = gemmRate(engine, shape, p);
      const top = peak(engine);
      const fwdRate = gflops(2 * ndv, fwd.ms), bothRate = gflops(6 * ndv, both.ms);
      const pct = (a, b) => `${Math.round((100 * a) / b)}%`;
      say(`| ${label} | ${simd} | ${top.toFixed(1)} | ${gemm.toFixed(1)} (${pct(gemm, top)}) | ${fwdRate.toFixed(1)} (${pct(fwdRate, gemm)}) | ` +
        `${bothRate.toFixed(1)} (${pct(bothRate, gemm)}) | ${(extra / MiB).toFixed(1)} MiB | ` +
        `${((rows * classes * 8) / MiB).toFixed(0)} MiB |`);
      peers.push({ label, simd, fwd: fwd.ms, both: both.ms });
      engine.dispose();
    }
    // The materialised paths, timed once each (minutes at the large shapes).
    const engine = await createEngine({ simd: 'relaxed', maxMemoryBytes: 4 * 2 ** 30 - 65536 });
    const row = { label, simd: 'peers' };
    // TF.js keeps everything in its own wasm memory, which aborts past 2 GiB (measured: its
    // loss and gradients at 2048 x 32000 take the head, its gradient and about eight logits-sized
    // tensors): the shapes that cannot fit are not run.
    const bytes = (n) => n * 4;
    if (8 * bytes(rows * classes) + 2 * bytes(classes * dim) <= 2 ** 31) {
      const tfFwd = tfTimes(shape, p, false);
      check(`${label} TF.js forward`, tfFwd.value, want);
      const tfBoth = tfTimes(shape, p, true);
      check(`${label} TF.js fwd+bwd`, tfBoth.value, want);
      Object.assign(row, { tfFwd: tfFwd.ms, tfBoth: tfBoth.ms });
    }
    if (bytes(rows * classes + classes * dim + rows * dim) <= 2 ** 30) {
      const mixed = tfLogitsThenXent(engine, shape, p);
      check(`${label} TF.js matMul + xent`, mixed.value, want);
      row.mixed = mixed.ms;
    }
    const torch = torchTimes(shape);
    if (torch) Object.assign(row, { torchFwd: torch.fwd, torchBoth: torch.both });
    peers.push(row);
    engine.dispose();
  }
  say('');
  say('| shape | xent baseline fwd / fwd+bwd | xent relaxed fwd / fwd+bwd | TF.js wasm fwd / fwd+bwd | TF.js matMul + xent crossEntropy, fwd | PyTorch CPU 1 thread fwd / fwd+bwd |');
  say('| --- | --- | --- | --- | --- | --- |');
  const s = (ms) => (ms === undefined ? 'not run' : `${(ms / 1000).toFixed(2)} s`);
  for (const shape of shapes) {
    const label = peers.find((x) => x.label.startsWith(`(${shape.rows}, ${shape.dim}, ${shape.classes})`)).label;
    const [b, r, o] = ['baseline', 'relaxed', 'peers'].map((simd) => peers.find((x) => x.label === label && x.simd === simd));
    const ratio = (ms) => (ms === undefined ? '' : ` (${(ms / r.both).toFixed(1)}x)`);
    say(`| ${label} | ${s(b.fwd)} / ${s(b.both)} | ${s(r.fwd)} / ${s(r.both)} | ${s(o.tfFwd)} / ${s(o.tfBoth)}${ratio(o.tfBoth)} | ` +
      `${s(o.mixed)} | ${s(o.torchFwd)} / ${s(o.torchBoth)}${ratio(o.torchBoth)} |`);
  }
  say('');
  say('"not run": TF.js aborts when its wasm memory passes 2 GiB, and its loss with gradients holds the head, its gradient and');
  say('about eight tensors the size of the logits; its matMul feeding xent needs the whole logits. (x): that time over xent relaxed fwd+bwd.');
  return lines;
}
