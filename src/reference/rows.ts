// The stages every kernel shares, in float64 and plain loops: row max, shifted sum of exp,
// log-sum-exp. The reference functions are built from these so that a mismatch with a
// kernel points at one stage.

import { XentError } from '../errors.js';
import { describe, flatShape, type Shape } from '../options.js';

/** Logits as the reference takes them: a flat row-major array of float32 or float64. */
export type FloatArray = Float32Array | Float64Array;

export function logitsShape(op: string, logits: unknown, classes: unknown): Shape {
  if (!(logits instanceof Float32Array || logits instanceof Float64Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: logits must be a Float32Array or Float64Array, got ${describe(logits)}`);
  }
  return flatShape(op, 'logits', logits.length, classes);
}

/** Row r of a rows x classes array, as a view. */
export function row(values: FloatArray, r: number, classes: number): FloatArray {
  return values.subarray(r * classes, (r + 1) * classes);
}

/** max_j v[j]; NaN if any v[j] is NaN. */
export function rowMax(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let j = 0; j < v.length; j++) m = Math.max(m, v[j]!);
  return m;
}

/** sum_j exp((v[j] - shift) * scale). */
export function sumExp(v: ArrayLike<number>, shift: number, scale = 1): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += Math.exp((v[j]! - shift) * scale);
  return s;
}

/** cap * tanh(x / cap): Gemma 2's logit soft-capping. */
export function softcap(x: number, cap: number): number {
  return cap * Math.tanh(x / cap);
}
