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
import { softcapScalar } from '../math/tanh';
import { rowMax } from './rmax';
import { rowSoftcapMax } from './softcap';
import { rowSum, rowSumExp, gapSum } from './sumexp';

/**
 * Cross-entropy of `rows` rows of `classes` logits x against int32 targets.
 * Writes losses[r] (without z-loss) and lses[r] (0 for ignored rows, which are not read), and the gradient
 * to grad when grad != 0 (grad may equal x: in place). weight = 0 means no class weights.
 * Preconditions: targets are ignoreIndex or in [0, classes); cap = 0 means no soft-capping.
 */
export function crossEntropy(
  x: usize, grad: usize, target: usize, weight: usize, losses: usize, lses: usize,
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
    let vt = load<f32>(at(row, t));

    // Pass 1: the max. With soft-capping and a gradient, the capped logits are stored in
    // the gradient row and the later passes read them there.
    let v = row;
    let m: f32;
    if (capped) {
      vt = softcapScalar(vt, cap, invCap);
      if (wantGrad) {
        m = rowSoftcapMax(row, g, classes, cap);
        v = g;
      } else {
        m = softcapScalar(rowMax(row, classes), cap, invCap);
      }
    } else {
      m = rowMax(row, classes);
    }

    // Pass 2: s, storing exp(v - m) to the gradient row when it will be scaled in place.
    const s = sumExpPass(v, g, weight, classes, m, cap,
      wantGrad && !capped, smooth, weighted, capped && !wantGrad);
    const logS = Math.log(s);
    const lse = <f64>m + logS;
    let loss = (1 - eps) * wt * ((<f64>m - <f64>vt) + logS);
    if (smooth) loss += (eps / classes) * (gapSum + weightSum * logS);
    store<f32>(at(losses, r), <f32>loss);
    store<f32>(at(lses, r), <f32>lse);
    if (!wantGrad) continue;

    // Pass 3: the gradient, every class first, then the target's again on its own.
    const stored = <f64>load<f32>(at(g, t)); // e[t], or v[t] when capped
    const et = capped ? Math.exp(stored - <f64>m) : stored;
    const rest = othersSum(g, classes, t, s, et, m, cap, capped);
    // The coefficient of p[j] is c + b W + z: from the target, smoothing and z-loss.
    const c = ceScale * (1 - eps) * wt;
    const b = ceScale * eps / classes;
    const z = zLoss != 0 ? zScale * 2 * <f64>zLoss * lse : 0;
    const pScale = <f32>((c + b * weightSum + z) / s);
    const smoothTerm = <f32>b;
    if (capped) {
      if (smooth && weighted) gradPass(g, weight, classes, pScale, smoothTerm, m, invCap, true, true);
      else gradPass(g, weight, classes, pScale, smoothTerm, m, invCap, true, false);
    } else {
      if (smooth && weighted) gradPass(g, weight, classes, pScale, smoothTerm, m, invCap, false, true);
      else gradPass(g, weight, classes, pScale, smoothTerm, m, invCap, false, false);
    }
    // (c + b W + z) p[t] - c - b w[t], written as b (W p[t] - w[t]) + z p[t] - c (1 - p[t])
    // with 1 - p[t] = rest / s: no cancellation when the target's probability is near 1.
    const pt = et / s;
    const smoothWt = weighted ? <f64>load<f32>(at(weight, t)) : 1;
    let gt = b * (weightSum * pt - smoothWt) + z * pt - c * (rest / s);
    if (capped) gt *= 1 - (stored * invCap) * (stored * invCap);
    store<f32>(at(g, t), <f32>gt);
  }
}

// Below this share of the sum, s - e[t] is summed again without the target's term.
// @ts-ignore: decorator
@inline const CANCELLATION_SHARE: f64 = 1.0 / 1024;

/**
 * s - e[t], the sum of every term but the target's. When the target dominates, its term
 * swamped the others in the f32 lanes, so they are summed again without it: from the
 * stored terms e, or from the capped logits v (recomputing exp) when `capped`.
 */
function othersSum(g: usize, n: i32, t: i32, s: f64, et: f64, m: f32, cap: f32, capped: bool): f64 {
  const rest = s - et;
  if (rest >= s * CANCELLATION_SHARE) return rest;
  const after = at(g, t + 1);
  if (capped) {
    return rowSumExp(g, 0, 0, t, m, 1, cap, false, false, false, false)
         + rowSumExp(after, 0, 0, n - t - 1, m, 1, cap, false, false, false, false);
  }
  return rowSum(g, t) + rowSum(after, n - t - 1);
}

/** rowSumExp with its flags turned into compile-time constants, one branch per use. */
function sumExpPass(
  v: usize, y: usize, weight: usize, n: i32, m: f32, cap: f32,
  store: bool, smooth: bool, weighted: bool, capped: bool,
): f64 {
  if (capped) {
    if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, false, false, false, true);
    if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, false, true, true, true);
    return rowSumExp(v, y, weight, n, m, 1, cap, false, true, false, true);
  }
  if (store) {
    if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, true, false, false, false);
    if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, true, true, true, false);
    return rowSumExp(v, y, weight, n, m, 1, cap, true, true, false, false);
  }
  if (!smooth) return rowSumExp(v, y, weight, n, m, 1, cap, false, false, false, false);
  if (weighted) return rowSumExp(v, y, weight, n, m, 1, cap, false, true, true, false);
  return rowSumExp(v, y, weight, n, m, 1, cap, false, true, false, false);
}

/**
 * g[j] = pScale e[j] - smoothTerm w[j] (w = 1 unless `weighted`), in place, where e[j] is
 * what pass 2 stored; with `capped`, g holds the capped logits v instead, e[j] is
 * recomputed as exp(v[j] - m) and the result is multiplied by 1 - (v[j] / cap)^2.
 */
// @ts-ignore: decorator
@inline function gradPass(
  g: usize, weight: usize, n: i32, pScale: f32, smoothTerm: f32, m: f32, invCap: f32,
  capped: bool, weighted: bool,
): void {
  const vp = f32x4.splat(pScale), vs = f32x4.splat(smoothTerm);
  const vm = f32x4.splat(m), vinvCap = f32x4.splat(invCap), one = f32x4.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(g, i);
    v128.store(p, gradLanes(v128.load(p), weight, i, vp, vs, vm, vinvCap, one, capped, weighted));
    v128.store(p, gradLanes(v128.load(p, 16), weight, i + 4, vp, vs, vm, vinvCap, one, capped, weighted), 16);
    v128.store(p, gradLanes(v128.load(p, 32), weight, i + 8, vp, vs, vm, vinvCap, one, capped, weighted), 32);
    v128.store(p, gradLanes(v128.load(p, 48), weight, i + 12, vp, vs, vm, vinvCap, one, capped, weighted), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const p = at(g, i);
    v128.store(p, gradLanes(v128.load(p), weight, i, vp, vs, vm, vinvCap, one, capped, weighted));
  }
  for (; i < n; i++) {
    const p = at(g, i);
    const u = load<f32>(p);
    const w: f32 = weighted ? load<f32>(at(weight, i)) : 1;
    if (capped) {
      const c = u * invCap;
      store<f32>(p, (pScale * expMinusScalar(u - m) - smoothTerm * w) * (1 - c * c));
    } else {
      store<f32>(p, pScale * u - smoothTerm * w);
    }
  }
}

/** Four lanes of gradPass: u is e (or v when capped), i the index of the first lane. */
// @ts-ignore: decorator
@inline function gradLanes(
  u: v128, weight: usize, i: i32, vp: v128, vs: v128, vm: v128, vinvCap: v128, one: v128,
  capped: bool, weighted: bool,
): v128 {
  const w = weighted ? v128.load(at(weight, i)) : one;
  if (capped) {
    const c = f32x4.mul(u, vinvCap);
    const d = f32x4.sub(one, f32x4.mul(c, c));
    return f32x4.mul(f32x4.sub(f32x4.mul(vp, expMinus(f32x4.sub(u, vm))), f32x4.mul(vs, w)), d);
  }
  return f32x4.sub(f32x4.mul(vp, u), f32x4.mul(vs, w));
}
