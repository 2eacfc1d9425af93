// One measurement per runtime for the README's compatibility table (npm run bench:runtimes, in
// scripts/bench-runtimes.js): crossEntropy forward + backward, plain arrays, the gradient written
// into a given buffer, as bench/run.js times it, on the Llama 2 shape of bench/shapes.js, with one
// thread: ns per logit element, median of ROUNDS calls after a warm-up, for the build
// `simd: 'auto'` picks and for the baseline build. Also: whether createEngine({ threads: 2 })
// gets its two threads here.
// Plain JavaScript: every runtime runs it as it is (test/runtimes/run.js and page.html).

import { createEngine } from '../dist/index.js';
import * as reference from '../dist/reference/index.js';
import { BENCH_SHAPES } from './shapes.js';

const ROUNDS = 21;
const WARMUP_MS = 1500;

export default async function measure() {
  const { rows, classes } = BENCH_SHAPES[1];
  const logits = new Float32Array(rows * classes);
  let s = 1;
  for (let i = 0; i < logits.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    logits[i] = ((s >>> 8) / 2 ** 24) * 8 - 4;
  }
  const target = Int32Array.from({ length: rows }, (_, r) => (r * 7919) % classes);
  const want = reference.crossEntropy(logits, target, { classes }).loss;
  const grad = new Float32Array(logits.length);
  const report = { shape: `${rows} x ${classes}`, calls: ROUNDS };
  const timed = [];
  for (const simd of ['auto', 'baseline']) {
    const engine = await createEngine({ simd });
    const call = () => engine.crossEntropy(logits, target, { classes, grad }).loss;
    // Checked before it is timed.
    const loss = call();
    if (!(Math.abs(loss - want) <= 1e-5 * Math.max(1, Math.abs(want)))) throw new Error(`${simd}: loss ${loss}, the reference ${want}`);
    // Engines compile WebAssembly with a fast baseline compiler first and optimise hot
    // functions later, in the background: warm up for a while, not for a few calls.
    for (const end = performance.now() + WARMUP_MS; performance.now() < end;) call();
    timed.push({ simd, engine, call, times: [] });
  }
  // Interleaved, so that a burst of load elsewhere on the machine hits both builds alike.
  for (let i = 0; i < ROUNDS; i++) {
    for (const t of timed) {
      const start = performance.now();
      t.call();
      t.times.push(performance.now() - start);
    }
  }
  for (const { simd, engine, times } of timed) {
    times.sort((a, b) => a - b);
    report[simd] = { build: engine.features.simd, nsPerElement: (times[ROUNDS >> 1] * 1e6) / logits.length };
    engine.dispose();
  }
  const threaded = await createEngine({ threads: 2 });
  report.threads = threaded.features.threads;
  threaded.dispose();
  return report;
}
