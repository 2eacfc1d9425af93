// The exp-and-sum pass of softmax: XNNPACK's "raddstoreexpminusmax", with the extras that
// cross-entropy needs in the same pass (the label-smoothing sum, soft-capped logits).

import { SUM_BLOCK, at, hsum } from '../math/lanes';
import { K, expMinusScalar, expMinusWith, madd, vconst } from '../math/exp';
import { softcap, softcapScalar } from '../math/tanh';

/** The second result of rowSumExp with SumExp.GAP: sum_i w[i] (shift - v[i]) * scale. */
export let gapSum: f64 = 0;

/** What rowSumExp does besides summing: flags, or-ed, a compile-time constant at every call. */
export namespace SumExp {
  /** The sum alone. */
  // @ts-ignore: decorator
  @inline export const PLAIN: i32 = 0;
  /** Each term stored to y[i] (y may alias x). */
  // @ts-ignore: decorator
  @inline export const STORE: i32 = 1;
  /** gapSum set as well: sum_i (shift - v[i]) * scale. */
  // @ts-ignore: decorator
  @inline export const GAP: i32 = 2;
  /** With GAP: its terms weighted, w[i] (shift - v[i]) * scale. */
  // @ts-ignore: decorator
  @inline export const WEIGHTED: i32 = 4;
  /** v[i] = cap tanh(x[i] / cap) instead of x[i]. */
  // @ts-ignore: decorator
  @inline export const CAPPED: i32 = 8;
}

/**
 * sum_i exp((v[i] - shift) * scale) over i < n, v[i] = x[i] (or capped, see SumExp), and what
 * `flags` add. The gap's terms are >= 0, so it keeps its digits where a sum of raw logits
 * would not. Preconditions: (v[i] - shift) * scale <= 0 or NaN; scale > 0.
 */
// @ts-ignore: decorator
@inline export function rowSumExp(
  x: usize, y: usize, weight: usize, n: i32, shift: f32, scale: f32, cap: f32, flags: i32,
): f64 {
  const storeTerms = (flags & SumExp.STORE) != 0, gap = (flags & SumExp.GAP) != 0;
  const weighted = (flags & SumExp.WEIGHTED) != 0, capped = (flags & SumExp.CAPPED) != 0;
  const vshift = f32x4.splat(shift);
  const vscale = f32x4.splat(scale);
  // No multiply by 1: a literal 1 folds this away, and a runtime one is a predictable branch.
  const unit = scale == 1;
  const vcap = f32x4.splat(cap);
  const vinvCap = f32x4.splat(1 / cap);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  // exp's constants, in registers for the whole row (see expMinusWith).
  const log2e = vconst(K.LOG2E), bias = vconst(K.MAGIC_BIAS), hi = vconst(K.MINUS_LN2_HI), lo = vconst(K.MINUS_LN2_LO);
  const c5 = vconst(K.C5), c4 = vconst(K.C4), c3 = vconst(K.C3), c2 = vconst(K.C2), c1 = vconst(K.C1);
  const cutoff = vconst(K.DENORM_CUTOFF);
  let total: f64 = 0;
  let gapTotal: f64 = 0;
  let i = 0;
  while (i + 16 <= n) {
    const end = min(i + SUM_BLOCK, n - 15);
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let g0 = zero, g1 = zero, g2 = zero, g3 = zero;
    for (; i < end; i += 16) {
      const p = at(x, i);
      let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      if (capped) {
        v0 = softcap(v0, vcap, vinvCap); v1 = softcap(v1, vcap, vinvCap);
        v2 = softcap(v2, vcap, vinvCap); v3 = softcap(v3, vcap, vinvCap);
      }
      const d0 = unit ? f32x4.sub(v0, vshift) : f32x4.mul(f32x4.sub(v0, vshift), vscale);
      const d1 = unit ? f32x4.sub(v1, vshift) : f32x4.mul(f32x4.sub(v1, vshift), vscale);
      const d2 = unit ? f32x4.sub(v2, vshift) : f32x4.mul(f32x4.sub(v2, vshift), vscale);
      const d3 = unit ? f32x4.sub(v3, vshift) : f32x4.mul(f32x4.sub(v3, vshift), vscale);
      const e0 = expMinusWith(d0, log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff);
      const e1 = expMinusWith(d1, log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff);
      const e2 = expMinusWith(d2, log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff);
      const e3 = expMinusWith(d3, log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff);
      if (storeTerms) {
        const q = at(y, i);
        v128.store(q, e0); v128.store(q, e1, 16); v128.store(q, e2, 32); v128.store(q, e3, 48);
      }
      a0 = f32x4.add(a0, e0); a1 = f32x4.add(a1, e1); a2 = f32x4.add(a2, e2); a3 = f32x4.add(a3, e3);
      if (gap) {
        const w = at(weight, i);
        g0 = madd(weighted ? v128.load(w) : one, d0, g0);
        g1 = madd(weighted ? v128.load(w, 16) : one, d1, g1);
        g2 = madd(weighted ? v128.load(w, 32) : one, d2, g2);
        g3 = madd(weighted ? v128.load(w, 48) : one, d3, g3);
      }
    }
    total += <f64>hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    if (gap) gapTotal += <f64>hsum(f32x4.add(f32x4.add(g0, g1), f32x4.add(g2, g3)));
  }
  let a = zero, g = zero;
  for (; i + 4 <= n; i += 4) {
    let v = v128.load(at(x, i));
    if (capped) v = softcap(v, vcap, vinvCap);
    const d = unit ? f32x4.sub(v, vshift) : f32x4.mul(f32x4.sub(v, vshift), vscale);
    const e = expMinusWith(d, log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff);
    if (storeTerms) v128.store(at(y, i), e);
    a = f32x4.add(a, e);
    if (gap) g = madd(weighted ? v128.load(at(weight, i)) : one, d, g);
  }
  total += <f64>hsum(a);
  if (gap) gapTotal += <f64>hsum(g);
  const invCap: f32 = 1 / cap;
  for (; i < n; i++) {
    let v = load<f32>(at(x, i));
    if (capped) v = softcapScalar(v, cap, invCap);
    const d = (v - shift) * scale;
    const e = expMinusScalar(d);
    if (storeTerms) store<f32>(at(y, i), e);
    total += <f64>e;
    if (gap) gapTotal += <f64>((weighted ? load<f32>(at(weight, i)) : 1) * d);
  }
  if (gap) gapSum = -gapTotal;
  return total;
}

/** sum_i x[i] over i < n, n >= 0, blocked like rowSumExp. */
export function rowSum(x: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(i + SUM_BLOCK / 4, n - 3);
    let a = f32x4.splat(0);
    for (; i < end; i += 4) a = f32x4.add(a, v128.load(at(x, i)));
    total += <f64>hsum(a);
  }
  for (; i < n; i++) total += <f64>load<f32>(at(x, i));
  return total;
}
