// tanh for f32x4, built on the exp polynomial of exp.ts, for logit soft-capping.
//
//   tanh(u) = sign(u) * -m / (m + 2),  m = exp(-2|u|) - 1
//
// m comes from the same range reduction as exp, z = n ln2 + t, but is assembled as
//   exp(z) - 1 = (2^n - 1) + 2^n t p(t)
// so that for small |u| (n = 0) it is t p(t) with no cancellation: tanh keeps its
// relative accuracy near 0 instead of an absolute error of an ulp of 1.

import {
  madd, expMinus, expMinusScalar, polynomialTerm, polynomialTermScalar, vconst, K, EXPM1_MIN, MAGIC_BIAS, LOG2E,
  MINUS_LN2_HI, MINUS_LN2_LO,
} from './exp';

/** exp(z) - 1 for z <= 0 (or NaN). */
// @ts-ignore: decorator
@inline function expm1Minus(z: v128): v128 {
  z = f32x4.pmax(z, vconst(K.EXPM1_MIN));
  let n = madd(z, vconst(K.LOG2E), vconst(K.MAGIC_BIAS));
  const s = i32x4.shl(n, 23);
  n = f32x4.sub(n, vconst(K.MAGIC_BIAS));
  let t = madd(n, vconst(K.MINUS_LN2_HI), z);
  t = madd(n, vconst(K.MINUS_LN2_LO), t);
  const p = polynomialTerm(t);
  return madd(f32x4.mul(t, s), p, f32x4.sub(s, vconst(K.ONE)));
}

/** cap * tanh(x / cap), given invCap = 1 / cap. */
// @ts-ignore: decorator
@inline export function softcap(x: v128, cap: v128, invCap: v128): v128 {
  const u = f32x4.mul(x, invCap);
  const sign = v128.and(u, vconst(K.SIGN_MASK));
  const m = expm1Minus(f32x4.neg(f32x4.add(f32x4.abs(u), f32x4.abs(u))));
  const th = f32x4.div(f32x4.neg(m), f32x4.add(m, vconst(K.TWO)));
  return f32x4.mul(v128.or(th, sign), cap);
}

/** Scalar twin of softcap, for row tails and single values (a target's logit). */
// @ts-ignore: decorator
@inline export function softcapScalar(x: f32, cap: f32, invCap: f32): f32 {
  const u = x * invCap;
  let z: f32 = -2 * Mathf.abs(u);
  if (z < EXPM1_MIN) z = EXPM1_MIN;
  let n = z * LOG2E + MAGIC_BIAS;
  const s = reinterpret<f32>(reinterpret<i32>(n) << 23);
  n -= MAGIC_BIAS;
  let t = n * MINUS_LN2_HI + z;
  t = n * MINUS_LN2_LO + t;
  const m = (t * s) * polynomialTermScalar(t) + (s - 1);
  return copysign<f32>(-m / (m + 2), u) * cap;
}

/**
 * d/dx of cap * tanh(x / cap) = 1 - tanh(u)^2, u = x / cap, computed as 4e / (1 + e)^2 with
 * e = exp(-2|u|): 1 - tanh^2 written that way does not cancel where tanh is near +-1 (a
 * saturated logit), so the gradient of a capped logit keeps its digits there.
 */
// @ts-ignore: decorator
@inline export function softcapSlope(x: v128, invCap: v128): v128 {
  const a = f32x4.abs(f32x4.mul(x, invCap));
  const e = expMinus(f32x4.neg(f32x4.add(a, a)));
  const d = f32x4.add(vconst(K.ONE), e);
  return f32x4.div(f32x4.mul(f32x4.add(e, e), vconst(K.TWO)), f32x4.mul(d, d));
}

/** Scalar twin of softcapSlope. */
// @ts-ignore: decorator
@inline export function softcapSlopeScalar(x: f32, invCap: f32): f32 {
  const a = Mathf.abs(x * invCap);
  const e = expMinusScalar(-(a + a));
  const d: f32 = 1 + e;
  return ((e + e) * 2) / (d * d);
}
