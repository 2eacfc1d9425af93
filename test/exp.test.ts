// The exp polynomial against float64 Math.exp, over the whole f32 range, in ulp.

import { describe, expect, it } from 'vitest';
import { BUILDS, rawKernels } from './support/engines.js';

/** Distance in representable f32 values between two finite f32 numbers of equal sign. */
function ulpDistance(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

/** About a million f32 values from `lo` to `hi`, evenly spaced in bit patterns, plus `hi`. */
function sweep(lo: number, hi: number): Float32Array {
  const bits = new Int32Array(new Float32Array([lo, hi]).buffer);
  const out: number[] = [];
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  // Walk in order of value: negative floats have decreasing bit patterns.
  const toKey = (b: number) => (b < 0 ? -(b & 0x7fffffff) : b);
  const fromKey = (k: number) => (k < 0 ? (-k | 0x80000000) : k);
  const step = Math.floor((toKey(bits[1]!) - toKey(bits[0]!)) / 1_000_000) | 1; // odd: varied low bits
  for (let k = toKey(bits[0]!); k <= toKey(bits[1]!); k += step) {
    i[0] = fromKey(k);
    out.push(f[0]!);
  }
  out.push(hi);
  return new Float32Array(out);
}

describe.each(BUILDS)('exp [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build, 256);

  function run(kernel: 'vexp' | 'vexpMinus', x: Float32Array): Float32Array {
    new Float32Array(memory.buffer, base, x.length).set(x);
    kernels[kernel](base, base + x.length * 4, x.length);
    return new Float32Array(memory.buffer, base + x.length * 4, x.length).slice();
  }

  it('expAny is within 2 ulp of exp over every normal result, and exact at the ends', () => {
    const x = sweep(-87.3, 88.7); // exp(x) normal and finite throughout
    const y = run('vexp', x);
    let worst = 0;
    let worstAt = 0;
    for (let k = 0; k < x.length; k++) {
      const d = ulpDistance(y[k]!, Math.fround(Math.exp(x[k]!)));
      if (d > worst) [worst, worstAt] = [d, x[k]!];
    }
    expect(worst, `worst at x = ${worstAt}`).toBeLessThanOrEqual(2);
    expect(x.length).toBeGreaterThan(900_000);
  });

  it('expAny is within 1 ulp of exp over subnormal results, and underflows to 0', () => {
    const x = sweep(-104, -87.3);
    const y = run('vexp', x);
    let worst = 0;
    for (let k = 0; k < x.length; k++) worst = Math.max(worst, ulpDistance(y[k]!, Math.fround(Math.exp(x[k]!))));
    expect(worst).toBeLessThanOrEqual(1);
    expect(Array.from(run('vexp', new Float32Array([-104, -200, -1e30, -Infinity])))).toEqual([0, 0, 0, 0]);
  });

  it('expAny: overflow to +inf, NaN stays NaN, exp(0) = 1 exactly', () => {
    const y = run('vexp', new Float32Array([88.8, 89, 1000, Infinity, NaN, 0, -0, 1]));
    expect(Array.from(y.subarray(0, 4))).toEqual([Infinity, Infinity, Infinity, Infinity]);
    expect(y[4]).toBeNaN();
    expect(y[5]).toBe(1);
    expect(y[6]).toBe(1);
    expect(ulpDistance(y[7]!, Math.fround(Math.E))).toBeLessThanOrEqual(1);
  });

  it('expMinus matches expAny on [-87.33, 0] and flushes below to 0', () => {
    const x = sweep(-87.33, 0);
    const a = run('vexpMinus', x);
    let worst = 0;
    for (let k = 0; k < x.length; k++) worst = Math.max(worst, ulpDistance(a[k]!, Math.fround(Math.exp(x[k]!))));
    expect(worst).toBeLessThanOrEqual(2);
    const y = run('vexpMinus', new Float32Array([-87.5, -100, -Infinity, NaN, 0]));
    expect(Array.from(y.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(y[3]).toBeNaN();
    expect(y[4]).toBe(1);
  });

  it('the scalar tail gives the same values as the vector lanes', () => {
    // 7 values: lanes 0-3 go through the f32x4 path, 4-6 through the scalar twin.
    const x = new Float32Array([-1.5, 0.25, 3, -50, -1.5, 0.25, 3]);
    const y = run('vexp', x);
    for (let k = 0; k < 3; k++) expect(ulpDistance(y[k]!, y[k + 4]!)).toBeLessThanOrEqual(build === 'relaxed' ? 1 : 0);
  });
});
