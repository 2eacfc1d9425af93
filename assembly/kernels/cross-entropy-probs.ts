// Fused cross-entropy with probability ("soft") targets q, as torch.nn.functional.cross_entropy
// computes it for a float target:
//
//   loss = sum_c w[c] q'[c] (lse - v[c]),   q' = (1 - eps) q + eps / C
//        = A + Q log s,  A = sum_c w[c] q'[c] (m - v[c]),  Q = sum_c w[c] q'[c]
//   d(loss + zLoss lse^2)/dv[j] = (ceScale Q + zScale 2 zLoss lse) p[j] - ceScale w[j] q'[j]
//
// (the caller adds the z-loss term zLoss lse^2 to each row's loss, from lses)
//
// times 1 - (v / cap)^2 with soft-capping, as in cross-entropy.ts. A has only terms >= 0 (for w >= 0),
// so huge logits keep their digits.

import { at, hsum } from '../math/lanes';
import { expMinus, expMinusScalar } from '../math/exp';
import { softcap, softcapScalar, softcapSlope, softcapSlopeScalar } from '../math/tanh';
import { rowMax } from './rmax';
import { rowSumExp, SumExp } from './sumexp';

// @ts-ignore: decorator
@inline const TARGET_BLOCK = 256;

/** Q of the row, the second result of targetPass. */
let targetMass: f64 = 0;

/**
 * Cross-entropy of `rows` rows of `classes` logits x against target probabilities q
 * (rows x classes). Writes losses[r] (without z-loss), lses[r], and the gradient to grad when grad != 0
 * (grad may equal x). weight = 0 means no class weights; cap = 0 means no soft-capping.
 */
export function crossEntropyProbs(
  x: usize, q: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, smoothing: f32, zLoss: f32, cap: f32, ceScale: f64, zScale: f64,
): void {
  const wantGrad = grad != 0, capped = cap > 0;
  const invCap: f32 = 1 / cap;
  const uniform = smoothing / <f32>classes;
  const keep: f32 = 1 - smoothing;
  for (let r = 0; r < rows; r++) {
    const offset = r * classes;
    const row = at(x, offset), g = at(grad, offset), qr = at(q, offset);
    // Soft-capping: every pass recomputes v = cap tanh(x / cap) from x, which stays intact
    // until the gradient pass overwrites it element by element (tanh is monotonic, so the
    // max of v is the cap of the max of x).
    let m = rowMax(row, classes);
    if (capped) m = softcapScalar(m, cap, invCap);
    // A and Q first: in place, the exp pass below overwrites the logits.
    const gapTotal = targetPass(row, qr, weight, classes, m, keep, uniform, cap, capped);
    const mass = targetMass;
    let s: f64;
    if (capped) s = rowSumExp(row, 0, 0, classes, m, 1, cap, SumExp.CAPPED);
    else if (wantGrad) s = rowSumExp(row, g, 0, classes, m, 1, cap, SumExp.STORE);
    else s = rowSumExp(row, 0, 0, classes, m, 1, cap, SumExp.PLAIN);
    const logS = Math.log(s);
    const lse = <f64>m + logS;
    let loss = gapTotal + mass * logS;
    store<f32>(at(losses, r), <f32>loss);
    store<f32>(at(lses, r), <f32>lse);
    if (!wantGrad) continue;

    let a = ceScale * mass;
    if (zLoss != 0) a += zScale * 2 * <f64>zLoss * lse;
    probsGradPass(capped ? row : g, g, qr, weight, classes, <f32>(a / s), <f32>ceScale, keep, uniform, m, cap, capped);
  }
}

/**
 * Returns A = sum_c w[c] q'[c] (m - v[c]) and sets targetMass = Q = sum_c w[c] q'[c],
 * where v = x, or cap tanh(x / cap) when `capped`.
 */
function targetPass(
  x: usize, q: usize, weight: usize, n: i32, m: f32, keep: f32, uniform: f32, cap: f32,
  capped: bool,
): f64 {
  const vm = f32x4.splat(m), vkeep = f32x4.splat(keep), vuniform = f32x4.splat(uniform);
  const vcap = f32x4.splat(cap), vinvCap = f32x4.splat(1 / cap), one = f32x4.splat(1);
  let gap: f64 = 0, mass: f64 = 0;
  let i = 0;
  // Blocks of TARGET_BLOCK values: each lane adds at most 64 terms in f32, as in rowSumExp.
  while (i + 4 <= n) {
    const end = min(i + TARGET_BLOCK, n - 3);
    let gapAcc = f32x4.splat(0), massAcc = gapAcc;
    for (; i < end; i += 4) {
      let v = v128.load(at(x, i));
      if (capped) v = softcap(v, vcap, vinvCap);
      const w = weight != 0 ? v128.load(at(weight, i)) : one;
      const wq = f32x4.mul(w, f32x4.add(f32x4.mul(vkeep, v128.load(at(q, i))), vuniform));
      gapAcc = f32x4.add(gapAcc, f32x4.mul(wq, f32x4.sub(vm, v)));
      massAcc = f32x4.add(massAcc, wq);
    }
    gap += <f64>hsum(gapAcc);
    mass += <f64>hsum(massAcc);
  }
  const invCap: f32 = 1 / cap;
  for (; i < n; i++) {
    let v = load<f32>(at(x, i));
    if (capped) v = softcapScalar(v, cap, invCap);
    const w: f32 = weight != 0 ? load<f32>(at(weight, i)) : 1;
    const wq = w * (keep * load<f32>(at(q, i)) + uniform);
    gap += <f64>(wq * (m - v));
    mass += <f64>wq;
  }
  targetMass = mass;
  return gap;
}

/**
 * g[j] = pScale e[j] - ceScale w[j] q'[j], where e[j] is what the exp pass stored in g (u = g);
 * with `capped`, u is the raw logits, e[j] = exp(cap tanh(u[j] / cap) - m), and the result is
 * times the slope of the cap. u may equal g.
 */
function probsGradPass(
  u: usize, g: usize, q: usize, weight: usize, n: i32, pScale: f32, ceScale: f32, keep: f32,
  uniform: f32, m: f32, cap: f32, capped: bool,
): void {
  const vp = f32x4.splat(pScale), vce = f32x4.splat(ceScale), vkeep = f32x4.splat(keep);
  const vuniform = f32x4.splat(uniform), vm = f32x4.splat(m);
  const vcap = f32x4.splat(cap), vinvCap = f32x4.splat(1 / cap), one = f32x4.splat(1);
  const invCap: f32 = 1 / cap;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(at(u, i));
    const w = weight != 0 ? v128.load(at(weight, i)) : one;
    const wq = f32x4.mul(w, f32x4.add(f32x4.mul(vkeep, v128.load(at(q, i))), vuniform));
    if (capped) {
      const e = expMinus(f32x4.sub(softcap(x, vcap, vinvCap), vm));
      v128.store(at(g, i), f32x4.mul(f32x4.sub(f32x4.mul(vp, e), f32x4.mul(vce, wq)), softcapSlope(x, vinvCap)));
    } else {
      v128.store(at(g, i), f32x4.sub(f32x4.mul(vp, x), f32x4.mul(vce, wq)));
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(at(u, i));
    const w: f32 = weight != 0 ? load<f32>(at(weight, i)) : 1;
    const wq = w * (keep * load<f32>(at(q, i)) + uniform);
    if (capped) {
      const e = expMinusScalar(softcapScalar(x, cap, invCap) - m);
      store<f32>(at(g, i), (pScale * e - ceScale * wq) * softcapSlopeScalar(x, invCap));
    } else {
      store<f32>(at(g, i), pScale * x - ceScale * wq);
    }
  }
}
