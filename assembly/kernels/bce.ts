// Binary cross-entropy with logits, as torch.nn.functional.binary_cross_entropy_with_logits:
// loss and gradient in one pass over the elements.
//
// Per element, with x the logit, t the target in [0, 1], w the weight (1 when absent), P the
// positive weight (1 when absent), A = 1 - t and B = P t (the negative and positive terms'
// weights, both >= 0, so lw = 1 + (P - 1) t = A + B has no cancellation):
//
//   e = exp(-|x|),   h = 1 / (1 + e),   sp = log(1 + e) = softplus(-|x|),   r = e h
//   p = sigmoid(x) = h or r,   p1 = sigmoid(-x) = r or h        (x >= 0 or x < 0)
//
// PyTorch's loss, A x + (A + B) softplus(-x), split at x = 0 so that both terms are >= 0
// (no cancellation: |x| = 1e4 keeps every digit), is
//
//   loss = w (a |x| + (A + B) sp),     a = A  (x >= 0),   a = B  (x < 0)
//
// and its derivative, PyTorch's (A + B) sigmoid(x) - B, is the difference of two terms >= 0
//
//   dloss/dx = scale w (A p - B p1)
//
// with `scale` carrying the reduction (1 / elements for 'mean') and gradScale. At x = -inf
// PyTorch computes inf - inf, so the loss is NaN there as well; the gradient stays finite.
// Without a positive weight (P = 1, the common case) B = t and A + B = 1: the loss is
// a |x| + sp, one multiply-add. sp is log1pUnit(e), a polynomial in e without division.
// Accuracy: exp is within 2 ulp and log1pUnit within 1.9 ulp (math/), so each loss and
// gradient is within a few ulp. The caller sums the losses: rows may run on several threads.

import { at, gatherTail, scatterTail } from '../math/lanes';
import { absOf, expMinus, madd, minusAbs, vconst, K } from '../math/exp';
import { log1pUnit, lconst, L } from '../math/log';

/**
 * Binary cross-entropy of `rows * cols` logits x against targets t (same layout). Writes
 * losses[i] and, when grad != 0, the gradient (grad may equal x).
 * weight = 0: no per-element weights. posWeight = 0: the scalar posWeightScalar for every
 * element, else posWeight[j] for column j of each row (per class).
 */
export function binaryCrossEntropy(
  x: usize, target: usize, weight: usize, posWeight: usize, grad: usize, losses: usize,
  rows: i32, cols: i32, posWeightScalar: f32, scale: f32,
): void {
  const weighted = weight != 0, wantGrad = grad != 0;
  if (posWeight == 0) {
    // Elementwise: the whole chunk is one span, whatever the row length.
    span(x, target, weight, 0, grad, losses, rows * cols, posWeightScalar, scale, weighted, posWeightScalar == 1, false, wantGrad);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    span(at(x, o), at(target, o), at(weight, o), posWeight, at(grad, o), at(losses, o),
      cols, posWeightScalar, scale, weighted, false, true, wantGrad);
  }
}

/**
 * bceSpan with its modes turned into compile-time constants, one copy per combination. How the
 * positive weight enters is two flags: posOne (P = 1, none given) and posPerClass (P[j] for
 * column j), neither for one P everywhere. Flags rather than one mode number: binaryen folded
 * the copies that differed in a mode number back into one copy that compares it in the loop
 * (the raw kernel 21% slower, measured 2026-12-04).
 */
function span(
  x: usize, t: usize, w: usize, P: usize, g: usize, l: usize, n: i32, pScalar: f32, scale: f32,
  weighted: bool, posOne: bool, posPerClass: bool, wantGrad: bool,
): void {
  if (posOne) spanWith(x, t, w, P, g, l, n, pScalar, scale, weighted, true, false, wantGrad);
  else if (!posPerClass) spanWith(x, t, w, P, g, l, n, pScalar, scale, weighted, false, false, wantGrad);
  else spanWith(x, t, w, P, g, l, n, pScalar, scale, weighted, false, true, wantGrad);
}

// @ts-ignore: decorator
@inline function spanWith(
  x: usize, t: usize, w: usize, P: usize, g: usize, l: usize, n: i32, pScalar: f32, scale: f32,
  weighted: bool, posOne: bool, posPerClass: bool, wantGrad: bool,
): void {
  if (weighted) {
    if (wantGrad) bceSpan(x, t, w, P, g, l, n, pScalar, scale, true, posOne, posPerClass, true);
    else bceSpan(x, t, w, P, g, l, n, pScalar, scale, true, posOne, posPerClass, false);
  } else if (wantGrad) bceSpan(x, t, w, P, g, l, n, pScalar, scale, false, posOne, posPerClass, true);
  else bceSpan(x, t, w, P, g, l, n, pScalar, scale, false, posOne, posPerClass, false);
}

/**
 * l[i] = loss of element i for i < n, g[i] its gradient when `wantGrad`.
 * Loop: 16 per step (four vectors), 4, then the last 1 to 3 elements through the same vector
 * code, gathered into lanes one by one; never reads past n. (A scalar twin would differ in the
 * last bit in the relaxed build, whose multiply-adds are fused: an element's result would then
 * depend on where chunks and worker threads happen to split the array.)
 */
// @ts-ignore: decorator
@inline function bceSpan(
  x: usize, t: usize, w: usize, P: usize, g: usize, l: usize, n: i32, pScalar: f32, scale: f32,
  weighted: bool, posOne: bool, posPerClass: bool, wantGrad: bool,
): void {
  const vp = f32x4.splat(pScalar), vscale = f32x4.splat(scale);
  let i = 0;
  for (; i + 16 <= n; i += 16) bceQuad(x, t, w, P, g, l, i, vp, vscale, weighted, posOne, posPerClass, wantGrad);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    const vt = v128.load(at(t, i));
    const vw = weighted ? v128.load(at(w, i)) : vconst(K.ONE);
    const p = posPerClass ? v128.load(at(P, i)) : vp;
    const e = expMinus(minusAbs(v));
    const h = f32x4.div(vconst(K.ONE), f32x4.add(vconst(K.ONE), e));
    v128.store(at(l, i), bceLoss(v, vt, vw, p, e, weighted, posOne));
    if (wantGrad) v128.store(at(g, i), bceGrad(v, vt, vw, p, e, h, vscale, weighted, posOne));
  }
  const rest = n - i;
  if (rest == 0) return;
  const one = vconst(K.ONE), zero = f32x4.splat(0);
  const v = gatherTail(at(x, i), rest, zero);
  const vt = gatherTail(at(t, i), rest, zero);
  const vw = weighted ? gatherTail(at(w, i), rest, one) : one;
  const p = posPerClass ? gatherTail(at(P, i), rest, one) : vp;
  const e = expMinus(minusAbs(v));
  const h = f32x4.div(one, f32x4.add(one, e));
  scatterTail(at(l, i), rest, bceLoss(v, vt, vw, p, e, weighted, posOne));
  if (wantGrad) scatterTail(at(g, i), rest, bceGrad(v, vt, vw, p, e, h, vscale, weighted, posOne));
}

/**
 * Elements i .. i + 15 as four vectors taken step by step: the exps, then the divisions, then
 * the rest, so that each step's four independent chains are in flight together rather than one
 * vector's long chain at a time.
 */
// @ts-ignore: decorator
@inline function bceQuad(
  x: usize, t: usize, w: usize, P: usize, g: usize, l: usize, i: i32, vp: v128, vscale: v128,
  weighted: bool, posOne: bool, posPerClass: bool, wantGrad: bool,
): void {
  const one = vconst(K.ONE);
  const px = at(x, i), pt = at(t, i), pw = at(w, i), pp = at(P, i);
  const v0 = v128.load(px), v1 = v128.load(px, 16), v2 = v128.load(px, 32), v3 = v128.load(px, 48);
  const e0 = expMinus(minusAbs(v0)), e1 = expMinus(minusAbs(v1));
  const e2 = expMinus(minusAbs(v2)), e3 = expMinus(minusAbs(v3));
  const t0 = v128.load(pt), t1 = v128.load(pt, 16), t2 = v128.load(pt, 32), t3 = v128.load(pt, 48);
  const w0 = weighted ? v128.load(pw) : one, w1 = weighted ? v128.load(pw, 16) : one;
  const w2 = weighted ? v128.load(pw, 32) : one, w3 = weighted ? v128.load(pw, 48) : one;
  const p0 = posPerClass ? v128.load(pp) : vp, p1 = posPerClass ? v128.load(pp, 16) : vp;
  const p2 = posPerClass ? v128.load(pp, 32) : vp, p3 = posPerClass ? v128.load(pp, 48) : vp;
  const pl = at(l, i);
  v128.store(pl, bceLoss(v0, t0, w0, p0, e0, weighted, posOne));
  v128.store(pl, bceLoss(v1, t1, w1, p1, e1, weighted, posOne), 16);
  v128.store(pl, bceLoss(v2, t2, w2, p2, e2, weighted, posOne), 32);
  v128.store(pl, bceLoss(v3, t3, w3, p3, e3, weighted, posOne), 48);
  if (!wantGrad) return;
  const h0 = f32x4.div(one, f32x4.add(one, e0)), h1 = f32x4.div(one, f32x4.add(one, e1));
  const h2 = f32x4.div(one, f32x4.add(one, e2)), h3 = f32x4.div(one, f32x4.add(one, e3));
  const pg = at(g, i);
  v128.store(pg, bceGrad(v0, t0, w0, p0, e0, h0, vscale, weighted, posOne));
  v128.store(pg, bceGrad(v1, t1, w1, p1, e1, h1, vscale, weighted, posOne), 16);
  v128.store(pg, bceGrad(v2, t2, w2, p2, e2, h2, vscale, weighted, posOne), 32);
  v128.store(pg, bceGrad(v3, t3, w3, p3, e3, h3, vscale, weighted, posOne), 48);
}

/** w (a |x| + (A + B) log(1 + e)), a = A (x >= 0) or B (x < 0); NaN at x = -inf. */
// @ts-ignore: decorator
@inline function bceLoss(v: v128, vt: v128, vw: v128, p: v128, e: v128, weighted: bool, posOne: bool): v128 {
  const positive = f32x4.ge(v, f32x4.splat(0));
  const nt = f32x4.sub(vconst(K.ONE), vt);                                  // A
  const sp = log1pUnit(e);
  let loss: v128;
  const ax = absOf(v);
  if (posOne) loss = madd(v128.bitselect(nt, vt, positive), ax, sp);
  else {
    const pt = f32x4.mul(p, vt);                                            // B
    loss = madd(v128.bitselect(nt, pt, positive), ax, f32x4.mul(f32x4.add(nt, pt), sp));
  }
  loss = v128.or(loss, v128.and(f32x4.eq(v, lconst(L.NEG_INF)), lconst(L.NAN)));  // PyTorch: inf - inf
  return weighted ? f32x4.mul(loss, vw) : loss;
}

/** scale w (A sigmoid(x) - B sigmoid(-x)), the sigmoids h = sigmoid(|x|) and r = e h. */
// @ts-ignore: decorator
@inline function bceGrad(v: v128, vt: v128, vw: v128, p: v128, e: v128, h: v128, vscale: v128, weighted: bool, posOne: bool): v128 {
  const positive = f32x4.ge(v, f32x4.splat(0));
  const nt = f32x4.sub(vconst(K.ONE), vt);
  const pt = posOne ? vt : f32x4.mul(p, vt);
  const r = f32x4.mul(e, h);
  // sigmoid(x), sigmoid(-x) = h, r where x >= 0, else r, h (swapped by flipping the bits they differ in)
  const swap = v128.and(v128.xor(h, r), positive);
  const d = f32x4.sub(f32x4.mul(nt, v128.xor(r, swap)), f32x4.mul(pt, v128.xor(h, swap)));
  return f32x4.mul(d, weighted ? f32x4.mul(vw, vscale) : vscale);
}
