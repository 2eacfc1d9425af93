// Deterministic test data: a seeded generator, and the data classes and shapes of the test plan.

import { rng } from '../../bench/random.js';
import { TEST_CLASSES } from '../../bench/shapes.js';

/** mulberry32, shared with the benchmark: small, fast, seeded; good enough for test data. */
export { rng };
import { fromBfloat16, fromFloat16 } from '../../src/reference/rows.js';

/** Standard normal samples (Box-Muller). */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The data classes of the test plan; every kernel test runs each one. */
export const DATA_CLASSES = ['normal', 'large', 'huge', 'dominant', 'someNegInf'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/**
 * Rows for a row length: not a multiple of 4 or 16, so chunk and unroll boundaries are
 * crossed; few for huge V.
 */
export const rowsFor = (classes: number) => (classes >= 32000 ? 2 : classes >= 1000 ? 5 : 13);

/** The test plan's row lengths, each with its rows. */
export const TEST_SHAPES = TEST_CLASSES.map((classes) => ({ rows: rowsFor(classes), classes }));

/** rows x classes logits of a data class. */
export function makeLogits(rows: number, classes: number, kind: DataClass, seed = 1): Float32Array {
  const random = rng(seed);
  const x = new Float32Array(rows * classes);
  for (let i = 0; i < x.length; i++) {
    switch (kind) {
      case 'normal': x[i] = normal(random); break;
      case 'large': x[i] = 90 + 10 * random(); break;           // a naive exp overflows
      case 'huge': x[i] = (random() * 2 - 1) * 1e4; break;       // +-1e4
      case 'dominant': x[i] = normal(random); break;
      case 'someNegInf': x[i] = random() < 0.3 ? -Infinity : normal(random); break;
    }
  }
  if (kind === 'dominant') for (let r = 0; r < rows; r++) x[r * classes + Math.floor(random() * classes)] = 40;
  if (kind === 'someNegInf') for (let r = 0; r < rows; r++) x[r * classes + Math.floor(random() * classes)] = 0;
  return x;
}

/** Class indices, the last class of some rows (a tail lane), ignoreIndex for others. */
export function makeTargets(rows: number, classes: number, seed = 2, ignoreShare = 0): Int32Array {
  const random = rng(seed);
  const t = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    t[r] = random() < ignoreShare ? -100 : r % 3 === 0 ? classes - 1 : Math.floor(random() * classes);
  }
  return t;
}

/** Probability targets: rows of a softmax of random values, some one-hot. */
export function makeProbs(rows: number, classes: number, seed = 3): Float32Array {
  const random = rng(seed);
  const q = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    if (r % 4 === 3) { q[r * classes + Math.floor(random() * classes)] = 1; continue; }
    let s = 0;
    for (let j = 0; j < classes; j++) s += q[r * classes + j] = Math.exp(2 * normal(random));
    for (let j = 0; j < classes; j++) q[r * classes + j]! /= s;
  }
  return q;
}

/** Targets in [0, 1] for the elementwise losses: a third 0, a third 1, a third fractional. */
export function makeUnitTargets(n: number, seed: number): Float32Array {
  const random = rng(seed);
  return new Float32Array(n).map(() => {
    const u = random();
    return u < 0.33 ? 0 : u > 0.67 ? 1 : random();
  });
}

/** For each value, the bits of the smallest float16 / bfloat16 at or above it (test data only). */
export function toHalfBits(values: Float32Array, dtype: 'f16' | 'bf16'): Uint16Array {
  const decode = dtype === 'f16' ? fromFloat16 : fromBfloat16;
  const table = Float64Array.from({ length: 65536 }, (_, b) => decode(b));
  const finite = [...table.keys()].filter((b) => Number.isFinite(table[b]!)).sort((a, b) => table[a]! - table[b]!);
  return Uint16Array.from(values, (v) => {
    let lo = 0, hi = finite.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (table[finite[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    return finite[lo]!;
  });
}
