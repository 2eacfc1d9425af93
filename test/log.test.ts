// The log and log1p of assembly/math/log.ts against float64 Math.log / Math.log1p, in ulp of
// the exact result. Measured in both builds: logAny at most 0.83 ulp, log1p at most 0.79 ulp
// on [0, 1] and 1.2 ulp on [-0.999, 0); the bounds tested are 0.9 and 1.25. log1pUnit, the
// polynomial on [0, 1]: at most 1.89 ulp (scripts/fit-log1p.py), bound 2.

import { describe, expect, it } from 'vitest';
import { BUILDS, rawKernels } from './support/engines.js';

/** Largest error allowed, in ulp of the exact result. */
const BOUND = 0.9;

/** Distance in representable f32 values between two finite f32 numbers of equal sign. */
function ulpDistance(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

/** Error of an f32 result against the exact value, in units of the exact value's f32 ulp. */
function ulpError(got: number, exact: number): number {
  if (got === exact) return 0;
  const e = Math.fround(exact);
  // The ulp of the f32 nearest the exact value: the gap to its neighbour away from zero.
  const f = new Float32Array([Math.abs(e)]);
  const i = new Int32Array(f.buffer);
  i[0]! += 1;
  const ulp = f[0]! - Math.abs(e);
  return Math.abs(got - exact) / ulp;
}

/** About `count` f32 values from `lo` to `hi` (same sign or zero), evenly spaced in bit patterns. */
function sweep(lo: number, hi: number, count = 1_000_000): Float32Array {
  const bits = new Int32Array(new Float32Array([lo, hi]).buffer);
  const toKey = (b: number) => (b < 0 ? -(b & 0x7fffffff) : b);
  const fromKey = (k: number) => (k < 0 ? (-k | 0x80000000) : k);
  const a = toKey(bits[0]!), b = toKey(bits[1]!);
  const step = Math.floor((b - a) / count) | 1; // odd: varied low bits
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  const out: number[] = [];
  for (let k = a; k <= b; k += step) {
    i[0] = fromKey(k);
    out.push(f[0]!);
  }
  out.push(hi);
  return new Float32Array(out);
}

/** Largest error in ulp of kernel(x) against exact(x), and where. */
function worstUlp(y: Float32Array, x: Float32Array, exact: (v: number) => number): { ulp: number; at: number } {
  let worst = { ulp: 0, at: NaN };
  for (let k = 0; k < x.length; k++) {
    const u = ulpError(y[k]!, exact(x[k]!));
    if (u > worst.ulp) worst = { ulp: u, at: x[k]! };
  }
  return worst;
}

describe.each(BUILDS)('log [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build, 256);

  function run(kernel: 'vlog' | 'vlog1p' | 'vlog1pUnit', x: Float32Array): Float32Array {
    new Float32Array(memory.buffer, base, x.length).set(x);
    kernels[kernel](base, base + x.length * 4, x.length);
    return new Float32Array(memory.buffer, base + x.length * 4, x.length).slice();
  }

  it('logAny is within 0.9 ulp of log over every positive normal f32', () => {
    const x = sweep(1.1754944e-38, 3.4028235e38);
    const { ulp, at } = worstUlp(run('vlog', x), x, Math.log);
    expect(ulp, `worst at x = ${at}`).toBeLessThan(BOUND);
    expect(x.length).toBeGreaterThan(900_000);
  });

  it('logAny is within 0.9 ulp near 1, where log(x) is tiny', () => {
    const x = sweep(0.5, 2);
    const { ulp, at } = worstUlp(run('vlog', x), x, Math.log);
    expect(ulp, `worst at x = ${at}`).toBeLessThan(BOUND);
  });

  it('logAny is within 0.9 ulp over subnormal inputs', () => {
    const x = sweep(1.4e-45, 1.1754942e-38, 200_000);
    const { ulp, at } = worstUlp(run('vlog', x), x, Math.log);
    expect(ulp, `worst at x = ${at}`).toBeLessThan(BOUND);
  });

  it('logAny: log(0) = -inf, log(+inf) = +inf, log(1) = 0, negative and NaN give NaN', () => {
    const y = run('vlog', new Float32Array([0, -0, Infinity, 1, -1, -Infinity, NaN, 1e-45]));
    expect(Array.from(y.subarray(0, 4))).toEqual([-Infinity, -Infinity, Infinity, 0]);
    expect(y.subarray(4, 7).every(Number.isNaN)).toBe(true);
    expect(ulpError(y[7]!, Math.log(Math.fround(1e-45)))).toBeLessThan(BOUND);
  });

  it('log1p is within 0.9 ulp of log1p on [0, 1], the range binary cross-entropy uses', () => {
    const x = sweep(0, 1);
    const { ulp, at } = worstUlp(run('vlog1p', x), x, Math.log1p);
    expect(ulp, `worst at x = ${at}`).toBeLessThan(BOUND);
  });

  it('log1p is within 1.25 ulp on [-0.999, 0) and keeps tiny arguments exact', () => {
    const x = sweep(-0.999, -1e-30);
    const { ulp, at } = worstUlp(run('vlog1p', x), x, Math.log1p);
    // Just below 0 the rounding of 1 / (1 + x) shows (see log1pOf in assembly/math/log.ts).
    expect(ulp, `worst at x = ${at}`).toBeLessThan(1.25);
    const tiny = new Float32Array([1e-30, 1e-10, -1e-10, 2 ** -24, 0, -0]);
    const y = run('vlog1p', tiny);
    for (let k = 0; k < 4; k++) expect(ulpError(y[k]!, Math.log1p(tiny[k]!))).toBeLessThan(BOUND);
    expect(Object.is(y[4], 0)).toBe(true);
  });

  it('log1p: NaN stays NaN, log1p(1) = ln 2 to 0.9 ulp', () => {
    const y = run('vlog1p', new Float32Array([NaN, 1, NaN, 1, NaN]));
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Number.isNaN(y[4])).toBe(true); // the scalar twin
    expect(ulpError(y[1]!, Math.LN2)).toBeLessThan(BOUND);
    expect(ulpError(y[3]!, Math.LN2)).toBeLessThan(BOUND);
  });

  it('log1pUnit is within 2 ulp of log1p on [0, 1], and keeps tiny arguments exact', () => {
    for (const [lo, hi] of [[0, 1], [0.25, 1], [1e-12, 1e-3]] as const) {
      const x = sweep(lo, hi);
      const { ulp, at } = worstUlp(run('vlog1pUnit', x), x, Math.log1p);
      expect(ulp, `worst at x = ${at}`).toBeLessThan(2);
    }
    const y = run('vlog1pUnit', new Float32Array([1e-30, 2 ** -24, 0, 1, NaN]));
    expect(y[0]).toBe(Math.fround(1e-30));
    expect(ulpError(y[1]!, Math.log1p(2 ** -24))).toBeLessThan(BOUND);
    expect(Object.is(y[2], 0)).toBe(true);
    expect(ulpError(y[3]!, Math.LN2)).toBeLessThan(2);
    expect(Number.isNaN(y[4])).toBe(true); // a lane of the gathered tail
  });

  it('the scalar tail gives the same values as the vector lanes', () => {
    // 7 values: lanes 0-3 go through the f32x4 path, 4-6 through the scalar twin.
    for (const kernel of ['vlog', 'vlog1p', 'vlog1pUnit'] as const) {
      const x = new Float32Array([0.3, 0.71, 0.999, 1e-20, 0.3, 0.71, 0.999]);
      const y = run(kernel, x);
      for (let k = 0; k < 3; k++) expect(ulpDistance(y[k]!, y[k + 4]!)).toBeLessThanOrEqual(build === 'relaxed' ? 1 : 0);
    }
  });
});
