// Sigmoid focal loss, as torchvision.ops.sigmoid_focal_loss: loss and gradient in one pass
// over the elements (the caller sums the losses).
//
// Per element, with x the logit, t the target in [0, 1], and as in bce.ts
//
//   e = exp(-|x|),  sp = log(1 + e),  h = 1 / (1 + e) = sigmoid(|x|),  r = e h = sigmoid(-|x|)
//   p = sigmoid(x) = h or r, 1 - p = r or h      (x >= 0 or x < 0: no 1 - p cancellation)
//   ce = a |x| + sp,   a = 1 - t (x >= 0), t (x < 0)      (binary cross-entropy, NaN at -inf)
//   q = 1 - p_t = p (1 - t) + (1 - p) t                     (two terms >= 0)
//   at = alpha t + (1 - alpha)(1 - t)                       (two terms >= 0; 1 when alpha < 0)
//   loss = at ce q^gamma
//
// and the gradient, from dce/dx = p - t = sign(x) (a - r) and dq/dx = (1 - 2t) p (1 - p):
//
//   dloss/dx = scale at ((p - t) q^gamma + gamma ce q^(gamma - 1) (1 - 2t) p (1 - p))
//
// gamma 0, 1 and 2 are exact special cases; any other gamma takes q^gamma = exp(gamma log q)
// and q^(gamma - 1) = q^gamma / q. Where q = 0 (p_t = 1: a binary target and a saturated p)
// the second term is 0, its limit: for fractional gamma < 1, q^(gamma - 1) is +inf there and
// the product would be NaN.
// Accuracy: a few ulp for gamma 0, 1, 2; for other gamma, exp(gamma log q) carries the
// rounding of gamma log q, about |gamma log q| ulp (1e-6 relative at q = 1e-3, gamma 1.5).

import { at, gatherTail, scatterTail } from '../math/lanes';
import { absOf, expMinus, madd, minusAbs, vconst, K } from '../math/exp';
import { log1pUnit, logAny, lconst, L } from '../math/log';

// The ways to raise q to gamma, compile-time constants at each call of focalSpan.
// @ts-ignore: decorator
@inline const GAMMA_ZERO = 0;
// @ts-ignore: decorator
@inline const GAMMA_ONE = 1;
// @ts-ignore: decorator
@inline const GAMMA_TWO = 2;
// @ts-ignore: decorator
@inline const GAMMA_ANY = 3;

/**
 * Sigmoid focal loss of `rows * cols` logits x against targets t (same layout). Writes
 * losses[i] and, when grad != 0, the gradient (grad may equal x). The caller sums the losses.
 * The alpha weight is alphaPos t + alphaNeg (1 - t): alpha and 1 - alpha, or 1 and 1 when
 * alpha is disabled (t + (1 - t) rounds to exactly 1 for every t in [0, 1]); gamma >= 0.
 */
export function sigmoidFocalLoss(
  x: usize, target: usize, grad: usize, losses: usize, rows: i32, cols: i32,
  alphaPos: f32, alphaNeg: f32, gamma: f32, scale: f32,
): void {
  const n = rows * cols;
  if (grad != 0) {
    if (gamma == 0) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ZERO, true);
    else if (gamma == 1) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ONE, true);
    else if (gamma == 2) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_TWO, true);
    else focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ANY, true);
  } else if (gamma == 0) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ZERO, false);
  else if (gamma == 1) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ONE, false);
  else if (gamma == 2) focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_TWO, false);
  else focalSpan(x, target, grad, losses, n, alphaPos, alphaNeg, gamma, scale, GAMMA_ANY, false);
}

// What focalVec returns (compile-time constants): the loss, storing the gradient when asked
// for; or the gradient alone.
// @ts-ignore: decorator
@inline const LOSS = 0;
// @ts-ignore: decorator
@inline const GRAD = 1;

/**
 * l[i] = loss of element i for i < n, g[i] its gradient when `wantGrad`.
 * Loop: 16 per step, 4, then the last 1 to 3 elements through the same vector code, gathered
 * into lanes one by one (see bce.ts: no scalar twin, so that no result depends on where the
 * array is split); never reads past n.
 */
// @ts-ignore: decorator
@inline function focalSpan(
  x: usize, t: usize, g: usize, l: usize, n: i32, alphaPos: f32, alphaNeg: f32, gamma: f32, scale: f32,
  mode: i32, wantGrad: bool,
): void {
  const vpos = f32x4.splat(alphaPos), vneg = f32x4.splat(alphaNeg);
  const vgamma = f32x4.splat(gamma), vscale = f32x4.splat(scale);
  let i = 0;
  for (; i + 16 <= n; i += 16) focalQuad(x, t, g, l, i, vpos, vneg, vgamma, vscale, mode, wantGrad);
  const one = vconst(K.ONE);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    const e = expMinus(minusAbs(v));
    const loss = focalVec(v, v128.load(at(t, i)), e, f32x4.div(one, f32x4.add(one, e)), vpos, vneg, vgamma, vscale, mode, wantGrad, at(g, i), LOSS);
    v128.store(at(l, i), loss);
  }
  const rest = n - i;
  if (rest == 0) return;
  const zero = f32x4.splat(0);
  const v = gatherTail(at(x, i), rest, zero);
  const vt = gatherTail(at(t, i), rest, zero);
  const e = expMinus(minusAbs(v));
  const h = f32x4.div(one, f32x4.add(one, e));
  scatterTail(at(l, i), rest, focalVec(v, vt, e, h, vpos, vneg, vgamma, vscale, mode, false, 0, LOSS));
  if (wantGrad) scatterTail(at(g, i), rest, focalVec(v, vt, e, h, vpos, vneg, vgamma, vscale, mode, true, 0, GRAD));
}

/**
 * Elements i .. i + 15, their exps and divisions taken across the four vectors before the
 * rest of each (as bce.ts's bceQuad), so that four independent chains are in flight together.
 */
// @ts-ignore: decorator
@inline function focalQuad(
  x: usize, t: usize, g: usize, l: usize, i: i32, vpos: v128, vneg: v128, vgamma: v128, vscale: v128,
  mode: i32, wantGrad: bool,
): void {
  const one = vconst(K.ONE);
  const px = at(x, i), pt = at(t, i), pg = at(g, i), pl = at(l, i);
  const v0 = v128.load(px), v1 = v128.load(px, 16), v2 = v128.load(px, 32), v3 = v128.load(px, 48);
  const e0 = expMinus(minusAbs(v0)), e1 = expMinus(minusAbs(v1));
  const e2 = expMinus(minusAbs(v2)), e3 = expMinus(minusAbs(v3));
  const h0 = f32x4.div(one, f32x4.add(one, e0)), h1 = f32x4.div(one, f32x4.add(one, e1));
  const h2 = f32x4.div(one, f32x4.add(one, e2)), h3 = f32x4.div(one, f32x4.add(one, e3));
  const t0 = v128.load(pt), t1 = v128.load(pt, 16), t2 = v128.load(pt, 32), t3 = v128.load(pt, 48);
  // Every logit is loaded above: a gradient computed in place (g = x) may now overwrite them.
  v128.store(pl, focalVec(v0, t0, e0, h0, vpos, vneg, vgamma, vscale, mode, wantGrad, pg, LOSS));
  v128.store(pl, focalVec(v1, t1, e1, h1, vpos, vneg, vgamma, vscale, mode, wantGrad, pg + 16, LOSS), 16);
  v128.store(pl, focalVec(v2, t2, e2, h2, vpos, vneg, vgamma, vscale, mode, wantGrad, pg + 32, LOSS), 32);
  v128.store(pl, focalVec(v3, t3, e3, h3, vpos, vneg, vgamma, vscale, mode, wantGrad, pg + 48, LOSS), 48);
}

/**
 * Four elements of logits v and targets vt, given e = exp(-|v|) and h = 1 / (1 + e):
 * returns their losses and stores their gradients to g when `wantGrad` (out = LOSS), or
 * returns the gradients (out = GRAD).
 */
// @ts-ignore: decorator
@inline function focalVec(
  v: v128, vt: v128, e: v128, h: v128, vpos: v128, vneg: v128, vgamma: v128, vscale: v128,
  mode: i32, wantGrad: bool, g: usize, out: i32,
): v128 {
  // The sigmoids from e: p = sigmoid(x), p1 = 1 - p, each without cancellation.
  const one = vconst(K.ONE);
  const ax = absOf(v);
  const r = f32x4.mul(e, h);
  const pos = f32x4.ge(v, f32x4.splat(0));
  const swap = v128.and(v128.xor(h, r), pos);                   // p, p1 = h, r where x >= 0, else r, h
  const p = v128.xor(r, swap);
  const p1 = v128.xor(h, swap);
  // ce: binary cross-entropy, two terms >= 0; NaN at -inf as in PyTorch.
  const nt = f32x4.sub(one, vt);
  const a = v128.bitselect(nt, vt, pos);
  let ce = madd(a, ax, log1pUnit(e));
  ce = v128.or(ce, v128.and(f32x4.eq(v, lconst(L.NEG_INF)), lconst(L.NAN)));
  // q = 1 - p_t, the modulating factor q^gamma and the alpha weight.
  const q = madd(p, nt, f32x4.mul(p1, vt));
  const alphaT = madd(vpos, vt, f32x4.mul(vneg, nt));
  let mod = one;
  if (mode == GAMMA_ONE) mod = q;
  else if (mode == GAMMA_TWO) mod = f32x4.mul(q, q);
  else if (mode == GAMMA_ANY) mod = expMinus(f32x4.mul(vgamma, logAny(q)));
  const loss = f32x4.mul(alphaT, mode == GAMMA_ZERO ? ce : f32x4.mul(ce, mod));
  if (!wantGrad) return loss;
  // (p - t) q^gamma + gamma ce q^(gamma - 1) (1 - 2t) p (1 - p), with p - t = sign(x) (a - r)
  const ad = f32x4.sub(a, r);
  const dce = v128.xor(ad, v128.andnot(vconst(K.SIGN_MASK), pos));
  let d = dce;
  if (mode != GAMMA_ZERO) {
    const dq = f32x4.mul(f32x4.sub(one, f32x4.add(vt, vt)), f32x4.mul(p, p1));
    if (mode == GAMMA_ONE) d = madd(dce, q, f32x4.mul(ce, dq));
    else if (mode == GAMMA_TWO) d = f32x4.mul(q, madd(dce, q, f32x4.mul(f32x4.add(ce, ce), dq)));
    else {
      const below = v128.and(f32x4.div(mod, q), f32x4.gt(q, f32x4.splat(0)));  // q^(gamma - 1), 0 at q = 0
      d = madd(dce, mod, f32x4.mul(f32x4.mul(vgamma, ce), f32x4.mul(below, dq)));
    }
  }
  const grad = f32x4.mul(d, f32x4.mul(alphaT, vscale));
  if (out == GRAD) return grad;
  v128.store(g, grad);
  return loss;
}
