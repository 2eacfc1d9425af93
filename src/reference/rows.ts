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

/**
 * The logits as float64 values: f32 and f64 arrays as they are, and a Uint16Array of float16
 * or bfloat16 bits (dtype 'f16' / 'bf16') decoded exactly.
 */
export function logitValues(op: string, logits: unknown, dtype: unknown): FloatArray {
  if (dtype === undefined || dtype === 'f32') return logits as FloatArray;
  if (dtype !== 'f16' && dtype !== 'bf16') {
    throw new XentError('BAD_OPTION', `${op}: dtype must be 'f32', 'f16' or 'bf16', got ${describe(dtype)}`);
  }
  if (!(logits instanceof Uint16Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: dtype '${dtype}' logits must be a Uint16Array of their bits, got ${describe(logits)}`);
  }
  return Float64Array.from(logits, dtype === 'f16' ? fromFloat16 : fromBfloat16);
}

/** IEEE binary16: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
export function fromFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16: the top 16 bits of a float32. */
export function fromBfloat16(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;
}
