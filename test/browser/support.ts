// What the browser tests share: the builds, engines made in the page, and the float64
// reference with its tolerance table (test/support/compare.ts runs unchanged in Chromium).
// Nothing here touches node:* modules, so Vite can serve it to the page.

import { expect } from 'vitest';
import { createEngine, type Engine, type EngineOptions } from '../../src/index.js';

export { expectField, expectLogProbs, expectLoss, expectLosses, TOLERANCE } from '../support/compare.js';
export { makeLogits, makeProbs, makeTargets, rng } from '../support/data.js';
export * as reference from '../../src/reference/index.js';

/** Both shipped builds: Chromium has relaxed SIMD, so both run in every browser test. */
export const BUILDS = ['baseline', 'relaxed'] as const;
export type Build = (typeof BUILDS)[number];

export function makeEngine(build: Build, options: EngineOptions = {}): Promise<Engine> {
  return createEngine({ simd: build, ...options });
}

/** Row lengths around the kernels' unroll (16) and vector width (4), one class, and a vocabulary. */
export const CLASSES = [1, 3, 4, 5, 16, 17, 33, 1000, 1025, 32000] as const;

/** rows for a row length: a few rows, fewer for long ones, so the suite stays quick. */
export function rowsFor(classes: number): number {
  return classes >= 10_000 ? 2 : classes >= 1000 ? 5 : 7;
}

/** A copy of a Float32Array; the engine's in-place modes must leave `before` untouched. */
export function copy(x: Float32Array): Float32Array {
  return new Float32Array(x);
}

/** Runs `fn` and returns the XentError it throws, failing if it throws anything else or nothing. */
export function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error && 'code' in error) return error as Error & { code: string };
    throw error;
  }
  throw new Error('expected an XentError, but the call returned');
}

/**
 * got and want hold the same float32 bit patterns (NaN payloads included). Much faster than
 * toEqual on millions of values, and it names the first differing index.
 */
export function expectBitIdentical(got: Float32Array, want: Float32Array, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect.fail(`${label}: first difference at index ${i}: got ${got[i]}, expected ${want[i]}`);
  }
}
