// Fused cross-entropy with class indices: loss, log-sum-exp and gradient in three passes
// per row (max, exp-and-sum, scale), with PyTorch's weights, ignore_index and label
// smoothing, and Liger-Kernel's z-loss and soft-capping.
//
// Per counted row, with v the (soft-capped) logits, t the target, w the class weights
// (all ones when absent), W = sum_c w[c], eps the label smoothing, C the classes and
// lse = m + log s, m = max v, s = sum_c exp(v[c] - m):
//
//   loss = (1 - eps) w[t] (lse - v[t]) + (eps / C) sum_c w[c] (lse - v[c])
//
// (the z-loss term zLoss lse^2 is added to each row's loss by the caller, from lses) and
// with p = softmax(v), the gradient of loss + zLoss lse^2 with respect to v is
//
//   dloss/dv[j] = ceScale ((1 - eps) w[t] + eps W / C) p[j]      (every j)
//               + zScale 2 zLoss lse p[j]
//               - ceScale (eps / C) w[j]
//               - ceScale (1 - eps) w[t]                         (j = t only)
//
// where ceScale and zScale carry the reduction (1 / sum of target weights and 1 / count
// for 'mean') and gradScale. With soft-capping, v = cap tanh(x / cap) and the gradient
// with respect to x is the above times dv/dx = 1 - (v / cap)^2.
// (lse - v[t]) is computed as (m - v[t]) + log s, so huge logits keep their digits.

import { at } from '../math/lanes';
import { expMinus, expMinusScalar } from '../math/exp';
import { softcap, softcapScalar, softcapSlope, softcapSlopeScalar } from '../math/tanh';
import { rowMax } from './rmax';
import { rowSum, rowSumExp, SumExp, gapSum } from './sumexp';
import { scaleRow } from './softmax';
import { crossEntropyRows4, SMALL_CLASSES } from './cross-entropy-rows4';

/**
 * Cross-entropy of `rows` rows of `classes` logits x against int32 targets.
 * Writes losses[r] (without z-loss) and lses[r] (0 for ignored rows, which are not read), and the gradient
 * to grad when grad != 0 (grad may equal x: in place). weight = 0 means no class weights.
 * Preconditions: targets are ignoreIndex or in [0, classes); cap = 0 means no soft-capping.
 * Rows of up to SMALL_CLASSES classes without soft-capping or smoothing go four at a time
 * (cross-entropy-rows4.ts), the others one at a time (crossEntropyRowwise).
 */
export function crossEntropy(
  x: usize, target: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, ignoreIndex: i32, weightSum: f64,
  smoothing: f32, zLoss: f32, cap: f32, ceScale: f64, zScale: f64,
): void {
  if (classes <= SMALL_CLASSES && cap <= 0 && smoothing <= 0) {
    crossEntropyRows4(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, zLoss, ceScale, zScale);
  } else {
    crossEntropyRowwise(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, weightSum, smoothing, zLoss, cap, ceScale, zScale);
  }
}

/** crossEntropy one row at a time, for any row; arguments as crossEntropy's. */
export function crossEntropyRowwise(
  x: usize, target: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, ignoreIndex: i32, weightSum: f64,
  smoothing: f32, zLoss: f32, cap: f32, ceScale: f64, zScale: f64,
): void {
  const wantGrad = grad != 0, weighted = weight != 0, capped = cap > 0, smooth = smoothing > 0;
  const invCap: f32 = 1 / cap;
  const eps = <f64>smoothing;
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * classes);
    const g = at(grad, r * classes);
    const t = load<i32>(at(target, r));
    if (t == ignoreIndex) {
      store<f32>(at(losses, r), 0);
      store<f32>(at(lses, r), 0);
      if (wantGrad) memory.fill(g, 0, <usize>classes << 2);
      continue;
    }
    const wt = weighted ? <f64>load<f32>(at(weight, t)) : 1.0;
    const xt = load<f32>(at(row, t));

    // Pass 1: the max. With soft-capping every pass recomputes v = cap tanh(x / cap) from x,
    // which stays intact until pass 3 overwrites it element by element; tanh is monotonic,
    // so the max of v is the cap of the max of x.
    let m = rowMax(row, classes);
    let vt = xt;
    if (capped) {
      m = softcapScalar(m, cap, invCap);
      vt = softcapScalar(xt, cap, invCap);
    }

    // Pass 2: s, storing exp(v - m) to the gradient row when it will be scaled in place.
    const s = sumExpPass(row, g, weight, classes, m, cap, wantGrad && !capped, smooth, weighted, capped);
    const logS = Math.log(s);
    const lse = <f64>m + logS;
    let loss = (1 - eps) * wt * ((<f64>m - <f64>vt) + logS);
    if (smooth) loss += (eps / classes) * (gapSum + weightSum * logS);
    store<f32>(at(losses, r), <f32>loss);
    store<f32>(at(lses, r), <f32>lse);
    if (!wantGrad) continue;

    // Pass 3: the gradient, every class first, then the target's again on its own.
    const et = capped ? Math.exp(<f64>vt - <f64>m) : <f64>load<f32>(at(g, t));
    const rest = othersSum(capped ? row : g, classes, t, s, et, m, cap, capped);
    // The coefficient of p[j] is c + b W + z: from the target, smoothing and z-loss.
    const c = ceScale * (1 - eps) * wt;
    const b = ceScale * eps / classes;
    const z = zLoss != 0 ? zScale * 2 * <f64>zLoss * lse : 0;
    gradRow(row, g, weight, classes, <f32>((c + b * weightSum + z) / s), <f32>b, m, cap, capped, smooth, weighted);
    // (c + b W + z) p[t] - c - b w[t], written as b (W p[t] - w[t]) + z p[t] - c (1 - p[t])
    // with 1 - p[t] = rest / s: no cancellation when the target's probability is near 1.
    const pt = et / s;
    let gt = b * (weightSum * pt - wt) + z * pt - c * (rest / s);
    if (capped) gt *= softcapSlopeScalar(xt, invCap);
    store<f32>(at(g, t), <f32>gt);
  }
}

// Below this share of the sum, s - e[t] is summed again without the target's term.
// @ts-ignore: decorator
@inline const CANCELLATION_SHARE: f64 = 1.0 / 1024;

/**
 * s - e[t], the sum of every term but the target's. When the target dominates, its term
 * swamped the others in the f32 lanes, so they are summed again without it: from the
 * stored terms e in u, or, when `capped`, from the raw logits in u (recomputing v and exp).
 */
function othersSum(u: usize, n: i32, t: i32, s: f64, et: f64, m: f32, cap: f32, capped: bool): f64 {
  const rest = s - et;
  if (rest >= s * CANCELLATION_SHARE) return rest;
  const after = at(u, t + 1);
  if (capped) {
    return rowSumExp(u, 0, 0, t, m, 1, cap, SumExp.CAPPED)
         + rowSumExp(after, 0, 0, n - t - 1, m, 1, cap, SumExp.CAPPED);
  }
  return rowSum(u, t) + rowSum(after, n - t - 1);
}

/** rowSumExp with run-time choices turned into its compile-time flags, one branch per use. */
export function sumExpPass(
  v: usize, y: usize, weight: usize, n: i32, m: f32, cap: f32,
  store: bool, smooth: bool, weighted: bool, capped: bool,
): f64 {
  if (capped) {
    if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.CAPPED);
    if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.GAP | SumExp.WEIGHTED | SumExp.CAPPED);
    return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.GAP | SumExp.CAPPED);
  }
  if (store) {
    if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.STORE);
    if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.STORE | SumExp.GAP | SumExp.WEIGHTED);
    return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.STORE | SumExp.GAP);
  }
  if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.PLAIN);
  if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.GAP | SumExp.WEIGHTED);
  return rowSumExp(v, y, weight, n, m, 1, cap, SumExp.GAP);
}

/**
 * Pass 3 of a row, every class: g[j] = (pScale e[j] - smoothTerm w[j]) dv/dx[j], with e[j] =
 * exp(v[j] - m) as pass 2 stored it in g, or recomputed from the raw logits x when `capped`
 * (w[j] is read only when `smooth` and `weighted`). g may be x.
 */
export function gradRow(
  x: usize, g: usize, weight: usize, n: i32, pScale: f32, smoothTerm: f32, m: f32, cap: f32,
  capped: bool, smooth: bool, weighted: bool,
): void {
  if (capped) {
    if (smooth && weighted) gradPass(x, g, weight, n, pScale, smoothTerm, m, cap, true, true);
    else gradPass(x, g, weight, n, pScale, smoothTerm, m, cap, true, false);
  } else if (!smooth) {
    scaleRow(g, n, pScale); // no smoothing term: the common case is a plain scale
  } else {
    if (weighted) gradPass(g, g, weight, n, pScale, smoothTerm, m, cap, false, true);
    else gradPass(g, g, weight, n, pScale, smoothTerm, m, cap, false, false);
  }
}

/**
 * g[j] = pScale e[j] - smoothTerm w[j] (w = 1 unless `weighted`), where e[j] is what pass 2
 * stored in g (u = g); with `capped`, u holds the raw logits x, e[j] is recomputed as
 * exp(cap tanh(x[j] / cap) - m) and the result is times the cap's slope at x[j]. u may be g.
 */
// @ts-ignore: decorator
@inline function gradPass(
  u: usize, g: usize, weight: usize, n: i32, pScale: f32, smoothTerm: f32, m: f32, cap: f32,
  capped: bool, weighted: bool,
): void {
  const vp = f32x4.splat(pScale), vs = f32x4.splat(smoothTerm), vm = f32x4.splat(m);
  const vcap = f32x4.splat(cap), vinvCap = f32x4.splat(1 / cap), one = f32x4.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(u, i), q = at(g, i);
    v128.store(q, gradLanes(v128.load(p), weight, i, vp, vs, vm, vcap, vinvCap, one, capped, weighted));
    v128.store(q, gradLanes(v128.load(p, 16), weight, i + 4, vp, vs, vm, vcap, vinvCap, one, capped, weighted), 16);
    v128.store(q, gradLanes(v128.load(p, 32), weight, i + 8, vp, vs, vm, vcap, vinvCap, one, capped, weighted), 32);
    v128.store(q, gradLanes(v128.load(p, 48), weight, i + 12, vp, vs, vm, vcap, vinvCap, one, capped, weighted), 48);
  }
  for (; i + 4 <= n; i += 4) {
    v128.store(at(g, i), gradLanes(v128.load(at(u, i)), weight, i, vp, vs, vm, vcap, vinvCap, one, capped, weighted));
  }
  const invCap: f32 = 1 / cap;
  for (; i < n; i++) {
    const x = load<f32>(at(u, i));
    const w: f32 = weighted ? load<f32>(at(weight, i)) : 1;
    if (capped) {
      const e = expMinusScalar(softcapScalar(x, cap, invCap) - m);
      store<f32>(at(g, i), (pScale * e - smoothTerm * w) * softcapSlopeScalar(x, invCap));
    } else {
      store<f32>(at(g, i), pScale * x - smoothTerm * w);
    }
  }
}

/** Four lanes of gradPass: x is e (or the raw logits when capped), i the index of the first lane. */
// @ts-ignore: decorator
@inline function gradLanes(
  x: v128, weight: usize, i: i32, vp: v128, vs: v128, vm: v128, vcap: v128, vinvCap: v128, one: v128,
  capped: bool, weighted: bool,
): v128 {
  const w = weighted ? v128.load(at(weight, i)) : one;
  if (capped) {
    const e = expMinus(f32x4.sub(softcap(x, vcap, vinvCap), vm));
    return f32x4.mul(f32x4.sub(f32x4.mul(vp, e), f32x4.mul(vs, w)), softcapSlope(x, vinvCap));
  }
  return f32x4.sub(f32x4.mul(vp, x), f32x4.mul(vs, w));
}
