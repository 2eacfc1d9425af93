// exp for f32, four lanes at a time, after XNNPACK's "rr2_p5" scheme:
//   x = n ln2 + t,  n = round(x / ln2),  |t| <= ln2 / 2
//   exp(x) = 2^n * (1 + t p(t)),  p a degree-4 minimax polynomial
// with ln2 split in two ("rr2", Cody-Waite) so that t is exact to ~2^-32.
// Measured error (test/exp.test.ts): at most 2 ulp over the normal range.
//
// Two flavours:
//   expMinus(x)  x <= 0 only, the hot path of softmax (x - max <= 0). Results below
//                2^-126 (x < -87.34) are flushed to 0, as XNNPACK does: their
//                contribution to a sum that includes exp(0) = 1 is far below an ulp.
//   expAny(x)    any x: -inf -> 0, subnormal results rounded correctly, overflow -> +inf,
//                NaN -> NaN. 2^n is applied in two halves so that n in [-150, 128] works.
//
// Constants are exact f32 bit patterns; the decimal value is beside each.

// @ts-ignore: decorator
@inline export const LOG2E: f32 = reinterpret<f32>(0x3FB8AA3B);          // 1.44269502
// 1.5 * 2^23 + 127: adding it rounds to an integer n and leaves n + 127 in the low
// mantissa bits, so (bits << 23) is 2^n.
// @ts-ignore: decorator
@inline export const MAGIC_BIAS: f32 = reinterpret<f32>(0x4B40007F);     // 12583039
// 1.5 * 2^23 alone: leaves n itself (two's complement) in the low bits.
// @ts-ignore: decorator
@inline const ROUND_BIAS: f32 = reinterpret<f32>(0x4B400000);     // 12582912
// @ts-ignore: decorator
@inline export const MINUS_LN2_HI: f32 = reinterpret<f32>(0xBF317200);   // -0.693145752 (7 low bits zero)
// @ts-ignore: decorator
@inline export const MINUS_LN2_LO: f32 = reinterpret<f32>(0xB5BFBE8E);   // -1.42860677e-6
// @ts-ignore: decorator
@inline const C5: f32 = reinterpret<f32>(0x3C07CFCE);             // 8.28929059e-3
// @ts-ignore: decorator
@inline const C4: f32 = reinterpret<f32>(0x3D2B9D0D);             // 4.18978222e-2
// @ts-ignore: decorator
@inline const C3: f32 = reinterpret<f32>(0x3E2AAD40);             // 1.66676521e-1
// @ts-ignore: decorator
@inline const C2: f32 = reinterpret<f32>(0x3EFFFEE3);             // 4.99991506e-1
// @ts-ignore: decorator
@inline const C1: f32 = reinterpret<f32>(0x3F7FFFFB);             // 9.99999702e-1
// Below this exp(x) is subnormal; expMinus returns 0 there.
// @ts-ignore: decorator
@inline const DENORM_CUTOFF: f32 = reinterpret<f32>(0xC2AEAC4F);  // -87.3365402
// expAny clamps its input to [EXP_MIN, EXP_MAX]: exp(-104) rounds to 0 and exp(89) to +inf,
// and the clamp keeps n inside the range where the two-half scaling is exact.
// @ts-ignore: decorator
@inline const EXP_MIN: f32 = -104.0;
// @ts-ignore: decorator
@inline const EXP_MAX: f32 = 89.0;

/** a * b + c; one fused instruction in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** p(t) = c1 + t(c2 + t(c3 + t(c4 + t c5))), so that exp(t) ~ 1 + t p(t) on |t| <= ln2 / 2. */
// @ts-ignore: decorator
@inline export function polynomialTerm(t: v128): v128 {
  let p = madd(f32x4.splat(C5), t, f32x4.splat(C4));
  p = madd(p, t, f32x4.splat(C3));
  p = madd(p, t, f32x4.splat(C2));
  p = madd(p, t, f32x4.splat(C1));
  return p;
}

/** Scalar twin of polynomialTerm. */
// @ts-ignore: decorator
@inline export function polynomialTermScalar(t: f32): f32 {
  let p = C5 * t + C4;
  p = p * t + C3;
  p = p * t + C2;
  p = p * t + C1;
  return p;
}

/** exp(x) for x <= 0 (or NaN); 0 where x < -87.34. */
// @ts-ignore: decorator
@inline export function expMinus(x: v128): v128 {
  let n = madd(x, f32x4.splat(LOG2E), f32x4.splat(MAGIC_BIAS));
  const s = i32x4.shl(n, 23);                                   // 2^n
  n = f32x4.sub(n, f32x4.splat(MAGIC_BIAS));
  let t = madd(n, f32x4.splat(MINUS_LN2_HI), x);                // t = x - n ln2, in two steps
  t = madd(n, f32x4.splat(MINUS_LN2_LO), t);
  const p = polynomialTerm(t);
  t = f32x4.mul(t, s);
  const y = madd(t, p, s);                                      // 2^n (1 + t p(t))
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(DENORM_CUTOFF)));
}

/** Scalar twin of expMinus: same constants, same steps. */
// @ts-ignore: decorator
@inline export function expMinusScalar(x: f32): f32 {
  let n = x * LOG2E + MAGIC_BIAS;
  const s = reinterpret<f32>(reinterpret<i32>(n) << 23);
  n -= MAGIC_BIAS;
  let t = n * MINUS_LN2_HI + x;
  t = n * MINUS_LN2_LO + t;
  const p = polynomialTermScalar(t);
  t *= s;
  const y = t * p + s;
  return x < DENORM_CUTOFF ? 0 : y;
}

/** exp(x) for any x. */
// @ts-ignore: decorator
@inline export function expAny(x: v128): v128 {
  // pmax/pmin return their first operand when it is NaN, so NaN survives the clamp.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const bias = f32x4.splat(ROUND_BIAS);
  let n = madd(x, f32x4.splat(LOG2E), bias);
  const k = i32x4.sub(n, bias);                                 // n as an integer, in [-150, 128]
  n = f32x4.sub(n, bias);
  let t = madd(n, f32x4.splat(MINUS_LN2_HI), x);
  t = madd(n, f32x4.splat(MINUS_LN2_LO), t);
  const p = polynomialTerm(t);
  // 2^n = 2^k1 * 2^k2 with both halves normal numbers, so the first product is exact
  // and the second rounds once, into the subnormals or to +inf when it must.
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const bias127 = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(k1, bias127), 23);
  const s2 = i32x4.shl(i32x4.add(k2, bias127), 23);
  const y = madd(f32x4.mul(t, s1), p, s1);
  return f32x4.mul(y, s2);
}

/** Scalar twin of expAny. */
// @ts-ignore: decorator
@inline export function expAnyScalar(x: f32): f32 {
  if (!(x >= EXP_MIN)) x = x != x ? x : EXP_MIN;
  if (x > EXP_MAX) x = EXP_MAX;
  let n = x * LOG2E + ROUND_BIAS;
  const k = reinterpret<i32>(n) - reinterpret<i32>(ROUND_BIAS);
  n -= ROUND_BIAS;
  let t = n * MINUS_LN2_HI + x;
  t = n * MINUS_LN2_LO + t;
  const p = polynomialTermScalar(t);
  const k1 = k >> 1;
  const k2 = k - k1;
  const s1 = reinterpret<f32>((k1 + 127) << 23);
  const s2 = reinterpret<f32>((k2 + 127) << 23);
  return ((t * s1) * p + s1) * s2;
}
