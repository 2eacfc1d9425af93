// The kernels alone: each operation's wasm export called on data already in engine memory, in
// blocks of rows as large as the runner's chunks (tuning.CHUNK_BYTES), so that they run in
// cache as they do inside a call. What a call costs beyond this is its JavaScript: checks,
// copies in and out of engine memory, result arrays and totals. The floor of each operation,
// and a low one for evaluate: run over the same rows again and again, its top k's branches
// learn them (measured: 0.95 ns per element on one block of 256 rows repeated, 1.02 on two,
// 1.14 on four, 1.22 on all sixteen blocks of 4096 x 1000; crossEntropy 0.88-0.92 alike).

import { CHUNK_BYTES, THREAD_BLOCK_ELEMENTS } from '../dist/tuning.js';

/**
 * `{ name: { mode, run, release } }` for crossEntropy, binaryCrossEntropy, sigmoidFocalLoss and
 * klDivergence (fwd+bwd) and evaluate (top-5), each run over `rows` rows of the given data.
 */
export function kernelsAlone(engine, { rows, classes }, { logits, target, unit, teacher }) {
  const k = engine.kernels;
  const scale = 1 / (rows * classes);
  const ops = {
    crossEntropy: { mode: 'fwd+bwd', arrays: 2, setUp: (b) => {
      const [x, t, g, l, lse] = [b.floats(logits), b.ints(target), b.floats(), b.perRow(), b.perRow()];
      return (n) => k.crossEntropy(x, t, 0, g, l, lse, n, classes, ...crossEntropyScalars(rows, classes));
    } },
    binaryCrossEntropy: { mode: 'fwd+bwd', arrays: 4, setUp: (b) => {
      const [x, t, g, l] = [b.floats(logits), b.floats(unit), b.floats(), b.floats()];
      return (n) => k.binaryCrossEntropy(x, t, 0, 0, g, l, n, classes, 1, scale);
    } },
    sigmoidFocalLoss: { mode: 'fwd+bwd', arrays: 4, setUp: (b) => {
      const [x, t, g, l] = [b.floats(logits), b.floats(unit), b.floats(), b.floats()];
      return (n) => k.sigmoidFocalLoss(x, t, g, l, n, classes, 0.25, 0.75, 2, scale);
    } },
    klDivergence: { mode: 'fwd+bwd', arrays: 4, setUp: (b) => {
      const [s, t, g, l, terms] = [b.floats(logits), b.floats(teacher), b.floats(), b.perRow(), b.floats()];
      return (n) => k.klDivergence(s, t, g, l, terms, n, classes, 1, 1 / rows);
    } },
    'evaluate (top-5)': { mode: 'forward', arrays: 1, setUp: (b) => {
      const [x, t, nll, entropy, argmax] = [b.floats(logits), b.ints(target), b.perRow(), b.perRow(), b.perRow()];
      const [topIndices, topLogprobs] = [b.perRow(5), b.perRow(5)];
      return (n) => k.evaluate(x, t, nll, entropy, argmax, topIndices, topLogprobs, n, classes, -100, 5);
    } },
  };
  const kernels = {};
  for (const [op, { mode, arrays, setUp }] of Object.entries(ops)) {
    const blockRows = Math.max(1, Math.min(rows, Math.floor(CHUNK_BYTES / (arrays * classes * 4))));
    const blocks = new Blocks(engine, blockRows, classes);
    const kernel = setUp(blocks);
    const run = () => {
      for (let r0 = 0; r0 < rows; r0 += blockRows) kernel(Math.min(blockRows, rows - r0));
    };
    kernels[`${op}: the kernel alone`] = { mode, run, release: () => blocks.release() };
  }
  return kernels;
}

/**
 * The crossEntropy kernel's scalars for a call with the defaults over `rows` rows: ignoreIndex
 * -100, the class weights' total (none given: classes), no smoothing, z-loss or soft-capping,
 * and 'mean''s scale of the gradient and of the z-loss.
 */
function crossEntropyScalars(rows, classes) {
  return [-100, classes, 0, 0, 0, 1 / rows, 1 / rows];
}

/** Tensors of one block of rows, filled from the first rows of the data; their addresses. */
class Blocks {
  #tensors = [];

  constructor(engine, rows, classes) {
    this.engine = engine;
    this.rows = rows;
    this.classes = classes;
  }

  /** A rows x classes block of f32, from `values` when given. */
  floats(values) {
    const t = this.#tensor(this.rows, this.classes);
    if (values !== undefined) t.data.set(values.subarray(0, t.data.length));
    return t.ptr;
  }

  /** One i32 per row, from `values`. */
  ints(values) {
    const t = this.#tensor(this.rows, 1);
    new Int32Array(t.data.buffer, t.data.byteOffset, this.rows).set(values.subarray(0, this.rows));
    return t.ptr;
  }

  /** `perRow` values per row, written by the kernel. */
  perRow(perRow = 1) {
    return this.perRowTensor(perRow).ptr;
  }

  /** perRow's tensor. */
  perRowTensor(perRow = 1) {
    return this.#tensor(this.rows, perRow);
  }

  #tensor(rows, classes) {
    const t = this.engine.tensor(rows, classes);
    this.#tensors.push(t);
    return t;
  }

  release() {
    for (const t of this.#tensors) t.free();
  }
}

/**
 * crossEntropy's kernel (fwd+bwd) over a whole rows x classes tensor on every thread of
 * `engine`, and the copy out of its per-row losses and lses that every call makes: one wasm
 * call on one thread; with workers, shared out in blocks of rows as a call shares its chunks
 * (WorkerPool.share). What threads give the kernel with no other JavaScript around it: the
 * ceiling of a call's speed-up. The copy counts because reading what the workers wrote costs
 * the next call: the lines go back and forth between cores (measured: the per-row outputs read
 * between two shares add 0.07-0.08 ms to a 0.63 ms share at 65536 x 10, other memory as large
 * nothing). `{ run, release }`.
 */
export function crossEntropyKernelOnThreads(engine, { rows, classes }, { logits, target }) {
  const blocks = new Blocks(engine, rows, classes);
  const [x, t, g] = [blocks.floats(logits), blocks.ints(target), blocks.floats()];
  const [losses, lses] = [blocks.perRowTensor(), blocks.perRowTensor()];
  const kernel = engine.kernels.crossEntropy;
  const args = [x, t, 0, g, losses.ptr, lses.ptr, rows, classes, ...crossEntropyScalars(rows, classes)];
  const pool = engine.arena.workers;
  const bytesPerRow = [classes * 4, 4, 0, classes * 4, 4, 4];
  const block = Math.max(1, Math.ceil(THREAD_BLOCK_ELEMENTS / classes));
  const lossesOut = new Float32Array(rows), lsesOut = new Float32Array(rows);
  const run = () => {
    if (pool === undefined) kernel(...args);
    else pool.share(kernel, args, bytesPerRow, 6, block, rows * classes);
    lossesOut.set(losses.data);
    lsesOut.set(lses.data);
  };
  return { run, release: () => blocks.release() };
}
