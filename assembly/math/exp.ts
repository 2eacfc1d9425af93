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
// Constants are exact f32 bit patterns; beside each, the hex float that XNNPACK's source writes
// (src/f32-raddstoreexpminusmax/gen/f32-raddstoreexpminusmax-wasmsimd-rr2-p5-*.c), and its decimal value.

// @ts-ignore: decorator
@inline export const LOG2E: f32 = reinterpret<f32>(0x3FB8AA3B);          // 0x1.715476p0 = 1.44269502
// 1.5 * 2^23 + 127: adding it rounds to an integer n and leaves n + 127 in the low
// mantissa bits, so (bits << 23) is 2^n.
// @ts-ignore: decorator
@inline export const MAGIC_BIAS: f32 = reinterpret<f32>(0x4B40007F);     // 0x1.8000FEp23 = 12583039
// 1.5 * 2^23 alone: leaves n itself (two's complement) in the low bits.
// @ts-ignore: decorator
@inline const ROUND_BIAS: f32 = reinterpret<f32>(0x4B400000);     // 0x1.8p23 = 12582912
// @ts-ignore: decorator
@inline export const MINUS_LN2_HI: f32 = reinterpret<f32>(0xBF317200);   // -0x1.62E4p-1 = -0.693145752 (7 low bits zero)
// @ts-ignore: decorator
@inline export const MINUS_LN2_LO: f32 = reinterpret<f32>(0xB5BFBE8E);   // -0x1.7F7D1Cp-20 = -1.42860677e-6
// @ts-ignore: decorator
@inline const C5: f32 = reinterpret<f32>(0x3C07CFCE);             // 0x1.0F9F9Cp-7 = 8.28929059e-3
// @ts-ignore: decorator
@inline const C4: f32 = reinterpret<f32>(0x3D2B9D0D);             // 0x1.573A1Ap-5 = 4.18978222e-2
// @ts-ignore: decorator
@inline const C3: f32 = reinterpret<f32>(0x3E2AAD40);             // 0x1.555A8p-3 = 1.66676521e-1
// @ts-ignore: decorator
@inline const C2: f32 = reinterpret<f32>(0x3EFFFEE3);             // 0x1.FFFDC6p-2 = 4.99991506e-1
// @ts-ignore: decorator
@inline const C1: f32 = reinterpret<f32>(0x3F7FFFFB);             // 0x1.FFFFF6p-1 = 9.99999702e-1
// Below this exp(x) is subnormal; expMinus returns 0 there.
// @ts-ignore: decorator
@inline const DENORM_CUTOFF: f32 = reinterpret<f32>(0xC2AEAC4F);  // -0x1.5D589Ep6 = -87.3365402
// expAny clamps its input to [EXP_MIN, EXP_MAX]: exp(-104) rounds to 0 and exp(89) to +inf,
// and the clamp keeps n inside the range where the two-half scaling is exact.
// @ts-ignore: decorator
@inline const EXP_MIN: f32 = -104.0;
// @ts-ignore: decorator
@inline const EXP_MAX: f32 = 89.0;
// tanh(9) rounds to 1 in f32; math/tanh.ts clamps -2|u| here, which keeps 2^n normal.
// @ts-ignore: decorator
@inline export const EXPM1_MIN: f32 = -18.0;

// The vector constants live in a table in linear memory and are loaded from it, not written
// as v128.const: V8 11 (Node 20) re-materialises a v128.const on every loop iteration, and
// the loads made the bare exp pass 1.5x faster (measured in a scratch build, 2026-11-23).
// Entry k holds a constant four times; vconst(k) is its splat.
const VECTOR_CONSTANTS = memory.data<f32>([
  LOG2E, LOG2E, LOG2E, LOG2E,
  MAGIC_BIAS, MAGIC_BIAS, MAGIC_BIAS, MAGIC_BIAS,
  MINUS_LN2_HI, MINUS_LN2_HI, MINUS_LN2_HI, MINUS_LN2_HI,
  MINUS_LN2_LO, MINUS_LN2_LO, MINUS_LN2_LO, MINUS_LN2_LO,
  C5, C5, C5, C5,
  C4, C4, C4, C4,
  C3, C3, C3, C3,
  C2, C2, C2, C2,
  C1, C1, C1, C1,
  DENORM_CUTOFF, DENORM_CUTOFF, DENORM_CUTOFF, DENORM_CUTOFF,
  ROUND_BIAS, ROUND_BIAS, ROUND_BIAS, ROUND_BIAS,
  EXP_MIN, EXP_MIN, EXP_MIN, EXP_MIN,
  EXP_MAX, EXP_MAX, EXP_MAX, EXP_MAX,
  1, 1, 1, 1,
  2, 2, 2, 2,
  EXPM1_MIN, EXPM1_MIN, EXPM1_MIN, EXPM1_MIN,
  -0.0, -0.0, -0.0, -0.0,                      // the sign bit alone
  reinterpret<f32>(127), reinterpret<f32>(127), reinterpret<f32>(127), reinterpret<f32>(127), // i32 127
], 16);

/** Indices into VECTOR_CONSTANTS. */
export namespace K {
  // @ts-ignore: decorator
  @inline export const LOG2E: usize = 0;
  // @ts-ignore: decorator
  @inline export const MAGIC_BIAS: usize = 1;
  // @ts-ignore: decorator
  @inline export const MINUS_LN2_HI: usize = 2;
  // @ts-ignore: decorator
  @inline export const MINUS_LN2_LO: usize = 3;
  // @ts-ignore: decorator
  @inline export const C5: usize = 4;
  // @ts-ignore: decorator
  @inline export const C4: usize = 5;
  // @ts-ignore: decorator
  @inline export const C3: usize = 6;
  // @ts-ignore: decorator
  @inline export const C2: usize = 7;
  // @ts-ignore: decorator
  @inline export const C1: usize = 8;
  // @ts-ignore: decorator
  @inline export const DENORM_CUTOFF: usize = 9;
  // @ts-ignore: decorator
  @inline export const ROUND_BIAS: usize = 10;
  // @ts-ignore: decorator
  @inline export const EXP_MIN: usize = 11;
  // @ts-ignore: decorator
  @inline export const EXP_MAX: usize = 12;
  // @ts-ignore: decorator
  @inline export const ONE: usize = 13;
  // @ts-ignore: decorator
  @inline export const TWO: usize = 14;
  // @ts-ignore: decorator
  @inline export const EXPM1_MIN: usize = 15;
  // @ts-ignore: decorator
  @inline export const SIGN_MASK: usize = 16;
  // @ts-ignore: decorator
  @inline export const EXPONENT_BIAS: usize = 17;
}

/** The splat of constant k of VECTOR_CONSTANTS. */
// @ts-ignore: decorator
@inline export function vconst(k: usize): v128 {
  return v128.load(VECTOR_CONSTANTS + (k << 4));
}

/** a * b + c; one fused instruction in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** p(t) = c1 + t(c2 + t(c3 + t(c4 + t c5))), so that exp(t) ~ 1 + t p(t) on |t| <= ln2 / 2. */
// @ts-ignore: decorator
@inline export function polynomialTerm(t: v128): v128 {
  let p = madd(vconst(K.C5), t, vconst(K.C4));
  p = madd(p, t, vconst(K.C3));
  p = madd(p, t, vconst(K.C2));
  p = madd(p, t, vconst(K.C1));
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
  return expMinusWith(
    x, vconst(K.LOG2E), vconst(K.MAGIC_BIAS), vconst(K.MINUS_LN2_HI), vconst(K.MINUS_LN2_LO),
    vconst(K.C5), vconst(K.C4), vconst(K.C3), vconst(K.C2), vconst(K.C1), vconst(K.DENORM_CUTOFF),
  );
}

/** -|x|, expMinus's argument for any x: the sign bit set (one instruction, where V8 builds
 *  f32x4.neg's and f32x4.abs's masks anew each time). */
// @ts-ignore: decorator
@inline export function minusAbs(x: v128): v128 {
  return v128.or(x, vconst(K.SIGN_MASK));
}

/** |x|: the sign bit cleared (one instruction, as minusAbs). */
// @ts-ignore: decorator
@inline export function absOf(x: v128): v128 {
  return v128.andnot(x, vconst(K.SIGN_MASK));
}

/**
 * expMinus with its constants passed in. A loop that loads them into locals before it
 * starts keeps them in registers; V8 11 reloads a table constant on every iteration of a
 * loop that stores to memory (measured: the bare exp pass 5% faster, relaxed build 13%).
 */
// @ts-ignore: decorator
@inline export function expMinusWith(
  x: v128, log2e: v128, magicBias: v128, minusLn2Hi: v128, minusLn2Lo: v128,
  c5: v128, c4: v128, c3: v128, c2: v128, c1: v128, denormCutoff: v128,
): v128 {
  let n = madd(x, log2e, magicBias);
  const s = i32x4.shl(n, 23);                                   // 2^n
  n = f32x4.sub(n, magicBias);
  let t = madd(n, minusLn2Hi, x);                               // t = x - n ln2, in two steps
  t = madd(n, minusLn2Lo, t);
  let p = madd(c5, t, c4);                                      // p(t), as polynomialTerm
  p = madd(p, t, c3);
  p = madd(p, t, c2);
  p = madd(p, t, c1);
  t = f32x4.mul(t, s);
  const y = madd(t, p, s);                                      // 2^n (1 + t p(t))
  return v128.andnot(y, f32x4.lt(x, denormCutoff));
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
  x = f32x4.pmin(f32x4.pmax(x, vconst(K.EXP_MIN)), vconst(K.EXP_MAX));
  const bias = vconst(K.ROUND_BIAS);
  let n = madd(x, vconst(K.LOG2E), bias);
  const k = i32x4.sub(n, bias);                                 // n as an integer, in [-150, 128]
  n = f32x4.sub(n, bias);
  let t = madd(n, vconst(K.MINUS_LN2_HI), x);
  t = madd(n, vconst(K.MINUS_LN2_LO), t);
  const p = polynomialTerm(t);
  // 2^n = 2^k1 * 2^k2 with both halves normal numbers, so the first product is exact
  // and the second rounds once, into the subnormals or to +inf when it must.
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const bias127 = vconst(K.EXPONENT_BIAS);
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
