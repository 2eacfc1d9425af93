// A vocabulary split across worker threads: each worker owns the logits of a slice of the
// classes (as a tensor-parallel LM head would), computes its part of the cross-entropy, and,
// once the parts are merged, the gradient of its own columns. Nothing but the per-row partial
// results (a few numbers per row) and the merged lse cross between threads.
//
//   npm run build && node examples/shards/vocab-parallel.js [workers]
//
// At the end the merged loss and the gathered gradient are checked against crossEntropy on
// the whole logits, which one thread computes for comparison.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createEngine, mergeCrossEntropyShards } from 'xent';

const ROWS = 16;
const VOCAB = 50257;
const OPTIONS = { labelSmoothing: 0.1, zLoss: 1e-4 };

if (isMainThread) await main(Number(process.argv[2] ?? 4));
else await shard();

async function main(workers) {
  // Stand-in logits and targets; in a model each worker would compute its own slice.
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const logits = Float32Array.from({ length: ROWS * VOCAB }, () => 6 * (random() - 0.5));
  const target = Int32Array.from({ length: ROWS }, (_, r) => (r % 5 === 4 ? -100 : Math.floor(random() * VOCAB)));

  // Worker i owns classes [cuts[i], cuts[i + 1]).
  const cuts = Array.from({ length: workers + 1 }, (_, i) => Math.round((i * VOCAB) / workers));
  const threads = cuts.slice(0, -1).map((offset, i) => {
    const classes = cuts[i + 1] - offset;
    const slice = new Float32Array(ROWS * classes);
    for (let r = 0; r < ROWS; r++) slice.set(logits.subarray(r * VOCAB + offset, r * VOCAB + offset + classes), r * classes);
    const worker = new Worker(new URL(import.meta.url), { workerData: { slice, target, offset, classes } });
    return { worker, replies: messages(worker) };
  });

  // 1. Every worker's part, in whatever order they finish; 2. the merge, here.
  const parts = await Promise.all(threads.map((t) => t.replies.next().then((m) => m.value)));
  const merged = mergeCrossEntropyShards(parts, OPTIONS);
  // 3. Each worker's gradient, given the merged lse, denominator and count.
  for (const t of threads) t.worker.postMessage({ lse: merged.lse, denominator: merged.denominator, count: merged.count });
  const grads = await Promise.all(threads.map((t) => t.replies.next().then((m) => m.value)));
  for (const t of threads) await t.worker.terminate();

  const engine = await createEngine();
  const whole = engine.crossEntropy(logits, target, { classes: VOCAB, ...OPTIONS, grad: true });
  let largest = 0, scale = 0;
  grads.forEach((grad, i) => {
    const classes = cuts[i + 1] - cuts[i];
    grad.forEach((g, j) => {
      const want = whole.grad[Math.floor(j / classes) * VOCAB + cuts[i] + (j % classes)];
      largest = Math.max(largest, Math.abs(g - want));
      scale = Math.max(scale, Math.abs(want));
    });
  });
  engine.dispose();
  console.log(`${workers} workers, ${ROWS} rows x ${VOCAB} classes, ${merged.count} rows counted`);
  console.log(`sharded loss ${merged.loss.toFixed(7)}, whole-logits loss ${whole.loss.toFixed(7)}`);
  console.log(`largest gradient difference ${(largest / scale).toExponential(2)} of the largest gradient`);
  if (!(Math.abs(merged.loss - whole.loss) <= 1e-5 * Math.max(1, whole.loss) && largest <= 1e-5 * scale)) process.exit(1);
}

async function shard() {
  const { slice, target, offset, classes } = workerData;
  const engine = await createEngine();
  const place = { classes, offset, totalClasses: VOCAB, labelSmoothing: OPTIONS.labelSmoothing };
  parentPort.postMessage(engine.crossEntropyShard(slice, target, place));
  const { lse, denominator, count } = await messages(parentPort).next().then((m) => m.value);
  const { grad } = engine.crossEntropyShardGrad(slice, target, { ...place, zLoss: OPTIONS.zLoss, lse, denominator, count, grad: 'inplace' });
  parentPort.postMessage(grad);
}

/** The messages of a port or worker, one at a time. */
async function* messages(port) {
  const queue = [];
  let wake;
  port.on('message', (m) => { queue.push(m); wake?.(); });
  for (;;) {
    if (queue.length === 0) await new Promise((resolve) => (wake = resolve));
    yield queue.shift();
  }
}
