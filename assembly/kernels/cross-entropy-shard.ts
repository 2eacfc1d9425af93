// Cross-entropy over logits split by columns (a sharded vocabulary): each shard's per-row
// partial results, and the gradient of a shard's columns given the whole rows' lse.
//
// A shard holds classes [offset, offset + classes) of C = totalClasses. With v the
// (soft-capped) logits of a row, its target t, class weights w (ones when absent), W the sum
// of w over all C classes and eps the label smoothing, cross-entropy.ts's loss of a row is
//
//   (1 - eps) w[t] (lse - v[t]) + (eps / C) sum_c w[c] (lse - v[c])
//
// Its pieces add up across shards (mergeCrossEntropyShards in src/ops/shards.ts): with m_i,
// s_i the max and sum_c exp(v[c] - m_i) of shard i, M = max_i m_i, S = sum_i s_i exp(m_i - M):
//
//   lse = M + log S,   lse - v[t] = (M - v[t]) + log S,
//   sum_c w[c] (lse - v[c]) = sum_i [gap_i + W_i ((M - m_i) + log S)],
//   gap_i = sum_{c in shard i} w[c] (m_i - v[c]),  W_i = sum_{c in shard i} w[c],
//
// every term >= 0, so nothing cancels. The gradient of a column is cross-entropy.ts's, with
// p[j] = exp(v[j] - lse) from the merged lse instead of this shard's own sum.

import { at } from '../math/lanes';
import { softcapScalar, softcapSlopeScalar } from '../math/tanh';
import { rowMax } from './rmax';
import { gapSum, rowSumExp, SumExp } from './sumexp';
import { gradRow, sumExpPass } from './cross-entropy';

/** Address of the i-th f64 after p. */
// @ts-ignore: decorator
@inline function at64(p: usize, i: i32): usize {
  return p + (<usize>i << 3);
}

/**
 * Per row of the shard x (`rows` rows of `classes` logits, `stride` floats apart), for targets
 * t in [0, C) or ignoreIndex:
 *   maxes[r] = m = max_c v[c]; sums[r] = sum_c exp(v[c] - m) (f64; with m = -inf, 0, or NaN
 *   if a logit is NaN);
 *   targetLogits[r] = v[t - offset] when the target is in this shard, else 0;
 *   gaps[r] (f64, only when gaps != 0) = sum_c w[c] (m - v[c]), w = weight or ones; where
 *   m = -inf every class's -log p is +inf, and the gap is weightSum * inf;
 *   exps (only when exps != 0 and there is no soft-capping): exp(v[c] - m) per element, laid
 *   out as x, for crossEntropyShardGrad to scale in place of computing it again (exps may be x).
 * Ignored rows get zeros. weightSum is sum_c w[c] over the shard; cap = 0: no soft-capping.
 */
export function crossEntropyShard(
  x: usize, target: usize, weight: usize, maxes: usize, sums: usize, targetLogits: usize, gaps: usize, exps: usize,
  rows: i32, classes: i32, stride: i32, offset: i32, ignoreIndex: i32, weightSum: f64, cap: f32,
): void {
  const capped = cap > 0, smooth = gaps != 0, weighted = weight != 0, keepExps = exps != 0 && !capped;
  const invCap: f32 = 1 / cap;
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * stride);
    const t = load<i32>(at(target, r));
    let m: f32 = 0, vt: f32 = 0;
    let s: f64 = 0, gap: f64 = 0;
    if (t != ignoreIndex) {
      const local = t - offset;
      if (<u32>local < <u32>classes) {
        vt = load<f32>(at(row, local)); // before exps may overwrite it
        if (capped) vt = softcapScalar(vt, cap, invCap);
      }
      m = rowMax(row, classes);
      if (capped) m = softcapScalar(m, cap, invCap);
      // A shard of only -inf and NaN: exp(v - 0) sums to 0, or to NaN as the whole row would.
      const shift: f32 = m == -Infinity ? 0 : m;
      s = sumExpPass(row, at(exps, r * stride), weight, classes, shift, cap, keepExps, smooth, weighted, capped);
      gap = m == -Infinity ? weightSum * Infinity : gapSum;
    } else if (keepExps) {
      memory.fill(at(exps, r * stride), 0, <usize>classes << 2);
    }
    store<f32>(at(maxes, r), m);
    store<f64>(at64(sums, r), s);
    store<f32>(at(targetLogits, r), vt);
    if (smooth) store<f64>(at64(gaps, r), gap);
  }
}

/**
 * The gradient of the loss with respect to the shard's logits x (`rows` rows of `classes`
 * logits, `stride` floats apart, columns [offset, offset + classes) of totalClasses), given
 * each row's lse over all classes: lses[r] (f64), or, when logSums != 0, lses[r] + logSums[r],
 * the merged max M and log S of mergeCrossEntropyShards kept apart so that v - lse is computed
 * as (v - M) - log S, exact where M is 1e30 and log S 10. As cross-entropy.ts, with
 * p[j] = exp(v[j] - lse):
 *
 *   g[j] = (ceScale ((1 - eps) w[t] + eps W / C) + zScale 2 zLoss lse) p[j] - ceScale (eps / C) w[j]
 *          - ceScale (1 - eps) w[t]   (j = t only),   times dv/dx[j] with soft-capping.
 *
 * weight is the whole class-weight vector (length C, 0 for none): a row's scale needs its
 * target's weight, wherever the target is. With maxes != 0 (and no soft-capping), grad already
 * holds exp(v[j] - maxes[r]) from crossEntropyShard's exps, and targetLogits[r] the target's
 * logit (x may have been overwritten): p[j] = exp(v[j] - m) exp(m - lse), the second factor
 * going into the scale. Otherwise exp(v - hi) is computed here, lse split as hi + lo with hi its
 * f32 rounding and exp(-lo) in the scale, so logits of 1e4 keep the digits an f32 lse would
 * lose. The target's column uses 1 - p[t] = -expm1(v[t] - lse), which does not cancel when
 * p[t] is near 1. Ignored rows get zeros. grad may equal x.
 */
export function crossEntropyShardGrad(
  x: usize, target: usize, weight: usize, lses: usize, logSums: usize, maxes: usize, targetLogits: usize, grad: usize,
  rows: i32, classes: i32, stride: i32, offset: i32, totalClasses: i32, ignoreIndex: i32, weightSum: f64,
  smoothing: f32, zLoss: f32, cap: f32, ceScale: f64, zScale: f64,
): void {
  const capped = cap > 0, smooth = smoothing > 0, weighted = weight != 0, stored = maxes != 0 && !capped;
  const invCap: f32 = 1 / cap;
  const eps = <f64>smoothing;
  const slice = at(weight, offset);
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * stride);
    const g = at(grad, r * stride);
    const t = load<i32>(at(target, r));
    if (t == ignoreIndex) {
      memory.fill(g, 0, <usize>classes << 2);
      continue;
    }
    const local = t - offset;
    const inShard = <u32>local < <u32>classes;
    let xt: f32 = 0; // read before g overwrites it
    if (inShard) xt = stored ? load<f32>(at(targetLogits, r)) : load<f32>(at(row, local));
    const top = load<f64>(at64(lses, r));
    const logS = logSums != 0 ? load<f64>(at64(logSums, r)) : 0;
    const lse = top + logS;
    const wt = weighted ? <f64>load<f32>(at(weight, t)) : 1.0;
    const c = ceScale * (1 - eps) * wt;
    const b = ceScale * eps / totalClasses;
    const z = zLoss != 0 ? zScale * 2 * <f64>zLoss * lse : 0;
    // e[j] = exp(v[j] - base) in g, as pass 2 of cross-entropy.ts leaves it (recomputed in gradRow when capped).
    const base = stored ? load<f32>(at(maxes, r)) : <f32>top;
    if (!stored && !capped) rowSumExp(row, g, 0, classes, base, 1, cap, SumExp.STORE);
    const rescale = Math.exp((<f64>base - top) - logS);
    gradRow(row, g, slice, classes, <f32>((c + b * weightSum + z) * rescale), <f32>b, base, cap, capped, smooth, weighted);
    if (!inShard) continue;
    // (c + b W + z) p[t] - c - b w[t] = b (W p[t] - w[t]) + z p[t] - c (1 - p[t])
    const vt = capped ? softcapScalar(xt, cap, invCap) : xt;
    const d = (<f64>vt - top) - logS;
    const pt = Math.exp(d);
    let gt = b * (weightSum * pt - wt) + z * pt + c * Math.expm1(d);
    if (capped) gt *= softcapSlopeScalar(xt, invCap);
    store<f32>(at(g, local), <f32>gt);
  }
}
