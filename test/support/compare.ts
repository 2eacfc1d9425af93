// Comparison against an oracle with the tolerances of docs/API.md, kept in one table. A failure
// names what was compared and shows the first few mismatches with their row and column.

import { expect } from 'vitest';
import { XentError } from '../../src/errors.js';

/** docs/API.md's accuracy promise. */
export const TOLERANCE = {
  /** per-row and reduced losses: |x - ref| <= tol * max(1, |ref|) */
  loss: 1e-5,
  /** gradients, softmax: max |x - ref| <= tol * max |ref| over the output */
  field: 1e-5,
  /** log-softmax and logProbs, per element: |x - ref| <= tol * max(1, |ref|) (expectLosses) */
  logProb: 1e-5,
} as const;

export interface Where {
  /** e.g. 'crossEntropy [simd128] 8x1000 N(0,1) grad' */
  label: string;
  classes?: number;
  /**
   * For gradients that are differences of larger terms: the size of those terms. Where every
   * gradient of a call is a near-perfect cancellation (a model that fits its targets), f32
   * cannot resolve it below about 1e-7 of this; the tolerance does not go below 1e-6 of it.
   */
  termScale?: number;
}

/** Two numbers equal in the IEEE sense that matters here: same NaN-ness, same infinity. */
function sameSpecial(got: number, want: number): boolean | undefined {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  return undefined;
}

/** Scalar losses: |got - want| <= loss tolerance * max(1, |want|). */
export function expectLoss(got: number, want: number, where: Where, tol: number = TOLERANCE.loss): void {
  const special = sameSpecial(got, want);
  const ok = special ?? Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
  if (!ok) expect.fail(`${where.label}: got ${got}, expected ${want} (tolerance ${tol} * max(1, |ref|))`);
}

/** Per-row losses: each element like expectLoss. */
export function expectLosses(got: ArrayLike<number>, want: ArrayLike<number>, where: Where, tol: number = TOLERANCE.loss): void {
  expect(got.length, `${where.label}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = sameSpecial(g, w) ?? Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok && bad.length < 5) bad.push(`row ${i}: got ${g}, expected ${w}`);
  }
  if (bad.length) expect.fail(`${where.label}: values differ beyond ${tol} * max(1, |ref|):\n  ${bad.join('\n  ')}`);
}

/** Log-softmax and log-probs, per element: |got - want| <= tol * max(1, |want|). */
export function expectLogProbs(got: ArrayLike<number>, want: ArrayLike<number>, where: Where): void {
  expectLosses(got, want, where, TOLERANCE.logProb);
}

/** Below f32's smallest normal number an f32 output cannot follow a float64 reference. */
const F32_MIN_NORMAL = 2 ** -126;

/**
 * Whole outputs (gradients, softmax): max |got - want| <= tol * max |want| (but at least
 * F32_MIN_NORMAL), specials exact.
 */
export function expectField(got: ArrayLike<number>, want: ArrayLike<number>, where: Where, tol: number = TOLERANCE.field): void {
  expect(got.length, `${where.label}: length`).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  const limit = Math.max(tol * scale, F32_MIN_NORMAL, 1e-6 * (where.termScale ?? 0));
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = sameSpecial(g, w) ?? Math.abs(g - w) <= limit;
    if (!ok && bad.length < 5) {
      const at = where.classes ? `row ${Math.floor(i / where.classes)}, column ${i % where.classes}` : `index ${i}`;
      bad.push(`${at}: got ${g}, expected ${w}`);
    }
  }
  if (bad.length) {
    expect.fail(`${where.label}: differs beyond ${tol} * max|ref| = ${limit}:\n  ${bad.join('\n  ')}`);
  }
}

/** A loss's three outputs: the reduced loss, the per-row (or per-element) losses, the gradient. */
export interface LossOutputs {
  loss: number;
  losses: ArrayLike<number>;
  grad?: ArrayLike<number> | undefined;
}

/** expectLoss, expectLosses and expectField at once; tol, when given, for all three. */
export function expectLossOutputs(got: LossOutputs, want: LossOutputs, where: Where, tol?: number): void {
  expectLoss(got.loss, want.loss, where, tol);
  expectLosses(got.losses, want.losses, where, tol);
  expectField(got.grad!, want.grad!, where, tol);
}

/**
 * The same bytes: what the engine promises between one thread and several, or one chunk and
 * many. A plain byte loop (no Buffer) so that it runs in Chromium too; vitest's deep equality
 * is slow at the sizes it is used on.
 */
export function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * got and want hold the same bytes (NaN payloads included); names the first differing element.
 * Much faster than toEqual on millions of values.
 */
export function expectBitIdentical(got: Float32Array | Int32Array, want: Float32Array | Int32Array, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect.fail(`${label}: first difference at index ${i}: got ${got[i]}, expected ${want[i]}`);
  }
}

/** The XentError fn throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): XentError {
  try {
    fn();
  } catch (error) {
    expect(error, 'expected a XentError').toBeInstanceOf(XentError);
    return error as XentError;
  }
  return expect.fail('expected a XentError, but nothing was thrown');
}

/** fn throws a XentError with this code and a message that matches. */
export function expectXentError(fn: () => unknown, code: string, message: RegExp): void {
  const error = thrown(fn);
  expect(error.code, `expected XentError ${code}`).toBe(code);
  expect(error.message).toMatch(message);
}
