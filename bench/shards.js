// node --experimental-wasm-relaxed-simd bench/shards.js [--quick]: the cost of logProbs next
// to logSumExp on the same logits, and of the vocabulary-shard path (every shard's part, the
// merge, every shard's gradient) next to crossEntropy with its gradient on the whole logits,
// on the shapes of bench/shapes.js. Interleaved rounds, as in run.js, so ratios hold on a
// loaded machine; each result is checked against the whole-logits one before it is timed.

import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createEngine, mergeCrossEntropyShards } from '../dist/index.js';
import { rng } from './random.js';
import { BENCH_SHAPES } from './shapes.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const ROUNDS = flags.quick ? 2 : 5;
const SLICE_MS = flags.quick ? 40 : 150;
const SHARDS = 4;
const K = 4; // ids per row for logProbs

const engine = await createEngine({ simd: 'baseline' });

/** Median ms per call of each function, sampled in interleaved rounds. */
async function medians(fns) {
  const pooled = fns.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, fn] of fns.entries()) {
      const bench = new Bench({ time: SLICE_MS, warmupTime: 20, iterations: 2, retainSamples: true });
      bench.add(String(k), fn);
      await bench.run();
      pooled[k].push(...bench.tasks[0].result.latency.samples);
    }
  }
  return pooled.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
}

function check(what, got, want) {
  if (!(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)))) throw new Error(`${what}: ${got} differs from ${want}`);
}

console.log('shape                       logProbs / logSumExp   shards (parts + merge + grads) / crossEntropy fwd+bwd');
for (const { rows, classes, label } of BENCH_SHAPES) {
  const random = rng(1);
  const logits = Float32Array.from({ length: rows * classes }, () => 4 * (random() - 0.5));
  const target = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
  const ids = Int32Array.from({ length: rows * K }, () => Math.floor(random() * classes));
  const cuts = Array.from({ length: SHARDS + 1 }, (_, i) => Math.round((i * classes) / SHARDS));
  const shards = cuts.slice(0, -1).map((c0, i) => {
    const width = cuts[i + 1] - c0;
    const x = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) x.set(logits.subarray(r * classes + c0, r * classes + c0 + width), r * width);
    return { x, place: { classes: width, offset: c0, totalClasses: classes }, grad: new Float32Array(rows * width) };
  });
  const grad = new Float32Array(rows * classes);
  const whole = () => engine.crossEntropy(logits, target, { classes, grad }).loss;
  const sharded = () => {
    const merged = mergeCrossEntropyShards(shards.map((s) => engine.crossEntropyShard(s.x, target, s.place)));
    for (const s of shards) {
      engine.crossEntropyShardGrad(s.x, target, { ...s.place, lse: merged.lse, denominator: merged.denominator, count: merged.count, grad: s.grad });
    }
    return merged.loss;
  };
  check(`${label} shards`, sharded(), whole());
  check(`${label} logProbs lse`, engine.logProbs(logits, ids, { classes }).lse[0], engine.logSumExp(logits, { classes })[0]);
  const [lse, logProbs, ce, shardPath] = await medians([
    () => engine.logSumExp(logits, { classes }),
    () => engine.logProbs(logits, ids, { classes }),
    whole,
    sharded,
  ]);
  console.log(`${`${rows} x ${classes} (${label})`.padEnd(36)} ${(logProbs / lse).toFixed(3).padStart(8)}  ${(shardPath / ce).toFixed(3).padStart(24)}`);
}
engine.dispose();
