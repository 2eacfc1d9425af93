// Row maximum: the shift that keeps every exp(x - max) <= 1.

import { at, hmax } from '../math/lanes';

/**
 * max_i x[i] for i < n, n >= 1.
 * Uses pmax (one instruction on x86, where max needs several); a NaN may or may not
 * win, which is harmless: every caller also sums exp(x[i] - max), and a NaN there
 * makes the row NaN either way.
 * Loop: 16 per step in four accumulators, then 4, then a scalar tail; never reads past n.
 */
// @ts-ignore: decorator
@inline export function rowMax(x: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0, m2 = m0, m3 = m0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(x, i);
    m0 = f32x4.pmax(m0, v128.load(p));
    m1 = f32x4.pmax(m1, v128.load(p, 16));
    m2 = f32x4.pmax(m2, v128.load(p, 32));
    m3 = f32x4.pmax(m3, v128.load(p, 48));
  }
  m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(at(x, i)));
  let m = hmax(m0);
  for (; i < n; i++) m = max(m, load<f32>(at(x, i)));
  return m;
}

/**
 * Four lanes whose max is that of a row of at least four values at p, walked as the four-rows
 * kernels walk it: blocks of four from 0, the last one at byte `last`, where it ends at the
 * row's end (pmax: as rowMax's).
 */
// @ts-ignore: decorator
@inline export function rowMax4(p: usize, last: usize): v128 {
  let m = v128.load(p + last);
  for (let o: usize = 0; o < last; o += 16) m = f32x4.pmax(m, v128.load(p + o));
  return m;
}
