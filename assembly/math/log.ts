// log and log1p for f32, four lanes at a time, after musl's logf / log1pf (fdlibm):
//   u = 2^k * m,  m in [sqrt(2)/2, sqrt(2)),  f = m - 1,  s = f / (2 + f)
//   log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2))
//   log(u) = k ln2 + log(1 + f)
// with R a degree-4 polynomial in s^2 (|error| < 2^-34.24 on the interval) and ln2 split in
// two so that k ln2 is exact to ~2^-43. m and k come from the bits of u: adding
// 0x3f800000 - 0x3f3504f3 to them carries into the exponent exactly when m >= sqrt(2).
//
//   log1p(x)   x in (-1, 1], or NaN (-> NaN). u = fl(1 + x) loses the low bits of x; they are
//              c = x - (u - 1), exact for |x| <= 1 (Fast2Sum), and put back as c * (1 / u). Tiny x
//              gives c = x: log1p keeps its relative accuracy near 0.
//   logAny(x)  any x: subnormals scaled by 2^25 first; 0 -> -inf, x < 0 -> NaN, +inf -> +inf,
//              NaN -> NaN.
//
// Measured error (test/log.test.ts, against float64), in ulp of the exact result, both builds:
//   logAny  at most 0.83 over all positive normal and subnormal inputs (faithfully rounded;
//           correctly rounded for over 99% of inputs, 92% of those in [0.5, 2])
//   log1p   at most 0.79 on [0, 1], the range binary cross-entropy uses; at most 1.2 on
//           [-0.999, 0), just below 0 (see log1pOf)
//   log1pUnit(e)  e in [0, 1] only (binary cross-entropy's softplus(-|x|) = log(1 + exp(-|x|))):
//              e + e^2 R(e), R a degree-7 polynomial, with no division and no bit fiddling;
//              at most 1.9 ulp (1.6 with fused multiply-adds), exact near 0.
// Constants are exact f32 bit patterns; beside each, its value as a hex float and in decimal.
// ln2 and Lg1-Lg4 are musl's (src/math/logf.c: Lg1 = 0xaaaaaa.0p-24 is 0x1.555554p-1); R's
// were fitted for xent by scripts/fit-log1p.py, which also measures the error above.

import { madd, vconst, K } from './exp';
import { at, gatherTail, scatterTail } from './lanes';

// @ts-ignore: decorator
@inline const LN2_HI: f32 = reinterpret<f32>(0x3F317180);       // 0x1.62E3p-1 = 0.693138123 (low 7 bits zero)
// @ts-ignore: decorator
@inline const LN2_LO: f32 = reinterpret<f32>(0x3717F7D1);       // 0x1.2FEFA2p-17 = 9.05800061e-6
// @ts-ignore: decorator
@inline const LG1: f32 = reinterpret<f32>(0x3F2AAAAA);          // 0x1.555554p-1 = 0.666666627
// @ts-ignore: decorator
@inline const LG2: f32 = reinterpret<f32>(0x3ECCCE13);          // 0x1.999C26p-2 = 0.400009722
// @ts-ignore: decorator
@inline const LG3: f32 = reinterpret<f32>(0x3E91E9EE);          // 0x1.23D3DCp-2 = 0.284987867
// @ts-ignore: decorator
@inline const LG4: f32 = reinterpret<f32>(0x3E789E26);          // 0x1.F13C4Cp-3 = 0.242790788
// 0x3f800000 - 0x3f3504f3: moves [sqrt(2)/2, sqrt(2)) onto one binade of the exponent field.
// @ts-ignore: decorator
@inline const SQRT_HALF_OFFSET: i32 = 0x004AFB0D;
// @ts-ignore: decorator
@inline const SQRT_HALF_BITS: i32 = 0x3F3504F3;                 // 0.707106769
// @ts-ignore: decorator
@inline const MANTISSA_MASK: i32 = 0x007FFFFF;
// @ts-ignore: decorator
@inline const MIN_NORMAL: f32 = reinterpret<f32>(0x00800000);   // 0x1.0p-126 = 1.17549435e-38
// @ts-ignore: decorator
@inline const TWO_25: f32 = reinterpret<f32>(0x4C000000);       // 0x1.0p25 = 33554432
// R(e) of log1pUnit, c0 + c1 e + ... + c7 e^7:
// @ts-ignore: decorator
@inline const R0: f32 = reinterpret<f32>(0xBEFFFF8A);            // -0x1.FFFF14p-2 = -0.499996483
// @ts-ignore: decorator
@inline const R1: f32 = reinterpret<f32>(0x3EAA9AED);            // 0x1.5535DAp-2 = 0.33321324
// @ts-ignore: decorator
@inline const R2: f32 = reinterpret<f32>(0xBE7E8996);            // -0x1.FD132Cp-3 = -0.248571724
// @ts-ignore: decorator
@inline const R3: f32 = reinterpret<f32>(0x3E442248);            // 0x1.884490p-3 = 0.191537023
// @ts-ignore: decorator
@inline const R4: f32 = reinterpret<f32>(0xBE0CD71B);            // -0x1.19AE36p-3 = -0.137539312
// @ts-ignore: decorator
@inline const R5: f32 = reinterpret<f32>(0x3DA236F4);            // 0x1.446DE8p-4 = 0.0792063773
// @ts-ignore: decorator
@inline const R6: f32 = reinterpret<f32>(0xBCF64F4D);            // -0x1.EC9E9Ap-6 = -0.0300671104
// @ts-ignore: decorator
@inline const R7: f32 = reinterpret<f32>(0x3BAFCE8B);            // 0x1.5F9D16p-8 = 0.00536519801

// Vector constants, loaded from a table as exp.ts does (V8 re-materialises a v128.const on
// every loop iteration). Entry k holds a constant four times; lconst(k) is its splat. The last
// entries serve the kernels that use log: NaN and -inf to build PyTorch's NaN losses.
const LOG_CONSTANTS = memory.data<f32>([
  LN2_HI, LN2_HI, LN2_HI, LN2_HI,
  LN2_LO, LN2_LO, LN2_LO, LN2_LO,
  LG1, LG1, LG1, LG1,
  LG2, LG2, LG2, LG2,
  LG3, LG3, LG3, LG3,
  LG4, LG4, LG4, LG4,
  0.5, 0.5, 0.5, 0.5,
  reinterpret<f32>(SQRT_HALF_OFFSET), reinterpret<f32>(SQRT_HALF_OFFSET), reinterpret<f32>(SQRT_HALF_OFFSET), reinterpret<f32>(SQRT_HALF_OFFSET),
  reinterpret<f32>(SQRT_HALF_BITS), reinterpret<f32>(SQRT_HALF_BITS), reinterpret<f32>(SQRT_HALF_BITS), reinterpret<f32>(SQRT_HALF_BITS),
  reinterpret<f32>(MANTISSA_MASK), reinterpret<f32>(MANTISSA_MASK), reinterpret<f32>(MANTISSA_MASK), reinterpret<f32>(MANTISSA_MASK),
  MIN_NORMAL, MIN_NORMAL, MIN_NORMAL, MIN_NORMAL,
  TWO_25, TWO_25, TWO_25, TWO_25,
  reinterpret<f32>(-25), reinterpret<f32>(-25), reinterpret<f32>(-25), reinterpret<f32>(-25),   // i32 -25
  Infinity, Infinity, Infinity, Infinity,
  -Infinity, -Infinity, -Infinity, -Infinity,
  NaN, NaN, NaN, NaN,
  R0, R0, R0, R0,
  R1, R1, R1, R1,
  R2, R2, R2, R2,
  R3, R3, R3, R3,
  R4, R4, R4, R4,
  R5, R5, R5, R5,
  R6, R6, R6, R6,
  R7, R7, R7, R7,
], 16);

/** Indices into LOG_CONSTANTS. */
export namespace L {
  // @ts-ignore: decorator
  @inline export const LN2_HI: usize = 0;
  // @ts-ignore: decorator
  @inline export const LN2_LO: usize = 1;
  // @ts-ignore: decorator
  @inline export const LG1: usize = 2;
  // @ts-ignore: decorator
  @inline export const LG2: usize = 3;
  // @ts-ignore: decorator
  @inline export const LG3: usize = 4;
  // @ts-ignore: decorator
  @inline export const LG4: usize = 5;
  // @ts-ignore: decorator
  @inline export const HALF: usize = 6;
  // @ts-ignore: decorator
  @inline export const SQRT_HALF_OFFSET: usize = 7;
  // @ts-ignore: decorator
  @inline export const SQRT_HALF_BITS: usize = 8;
  // @ts-ignore: decorator
  @inline export const MANTISSA_MASK: usize = 9;
  // @ts-ignore: decorator
  @inline export const MIN_NORMAL: usize = 10;
  // @ts-ignore: decorator
  @inline export const TWO_25: usize = 11;
  // @ts-ignore: decorator
  @inline export const MINUS_25: usize = 12;
  // @ts-ignore: decorator
  @inline export const INF: usize = 13;
  // @ts-ignore: decorator
  @inline export const NEG_INF: usize = 14;
  // @ts-ignore: decorator
  @inline export const NAN: usize = 15;
  // @ts-ignore: decorator
  @inline export const R0: usize = 16;
  // @ts-ignore: decorator
  @inline export const R1: usize = 17;
  // @ts-ignore: decorator
  @inline export const R2: usize = 18;
  // @ts-ignore: decorator
  @inline export const R3: usize = 19;
  // @ts-ignore: decorator
  @inline export const R4: usize = 20;
  // @ts-ignore: decorator
  @inline export const R5: usize = 21;
  // @ts-ignore: decorator
  @inline export const R6: usize = 22;
  // @ts-ignore: decorator
  @inline export const R7: usize = 23;
}

/** The splat of constant k of LOG_CONSTANTS. */
// @ts-ignore: decorator
@inline export function lconst(k: usize): v128 {
  return v128.load(LOG_CONSTANTS + (k << 4));
}

/** The bits of a positive normal u = 2^k (1 + f), offset so that 1 + f lands in [sqrt(2)/2, sqrt(2)). */
// @ts-ignore: decorator
@inline function offsetBits(u: v128): v128 {
  return i32x4.add(u, lconst(L.SQRT_HALF_OFFSET));
}

/** k of offsetBits(u), lanes as i32. */
// @ts-ignore: decorator
@inline function exponentOf(ix: v128): v128 {
  return i32x4.sub(i32x4.shr_s(ix, 23), vconst(K.EXPONENT_BIAS));
}

/** f of offsetBits(u), exact (Sterbenz). */
// @ts-ignore: decorator
@inline function fractionOf(ix: v128): v128 {
  const m = i32x4.add(v128.and(ix, lconst(L.MANTISSA_MASK)), lconst(L.SQRT_HALF_BITS));
  return f32x4.sub(m, vconst(K.ONE));
}

/**
 * log(1 + f) + k ln2 + c, for f in [sqrt(2)/2 - 1, sqrt(2) - 1]: the common tail of both logs,
 * summed from the smallest terms up as musl does.
 */
// @ts-ignore: decorator
@inline function logTail(f: v128, k: v128, c: v128): v128 {
  const s = f32x4.div(f, f32x4.add(f, vconst(K.TWO)));
  const z = f32x4.mul(s, s);
  const w = f32x4.mul(z, z);
  const t1 = f32x4.mul(w, madd(w, lconst(L.LG4), lconst(L.LG2)));
  const t2 = f32x4.mul(z, madd(w, lconst(L.LG3), lconst(L.LG1)));
  const hfsq = f32x4.mul(f32x4.mul(lconst(L.HALF), f), f);
  const dk = f32x4.convert_i32x4_s(k);
  let y = madd(s, f32x4.add(hfsq, f32x4.add(t2, t1)), madd(dk, lconst(L.LN2_LO), c));
  y = f32x4.add(f32x4.sub(y, hfsq), f);
  return madd(dk, lconst(L.LN2_HI), y);
}

/** log(1 + x) for x in (-1, 1]; NaN stays NaN. */
// @ts-ignore: decorator
@inline export function log1p(x: v128): v128 {
  const u = f32x4.add(vconst(K.ONE), x);
  return log1pOf(x, u, f32x4.div(vconst(K.ONE), u));
}

/**
 * log1p(x) given u = 1 + x (rounded) and its reciprocal 1 / u, for callers that need 1 / u
 * anyway (sigmoid(-|x|) = 1 / (1 + e)): one division fewer. The reciprocal only scales the
 * correction c (at most half an ulp of u); its rounding adds under 0.1 ulp for x >= 0, but up
 * to 0.4 ulp for x just below 0, where f < 0 and c > 0 nearly cancel.
 */
// @ts-ignore: decorator
@inline export function log1pOf(x: v128, u: v128, invU: v128): v128 {
  const ix = offsetBits(u);
  const c = f32x4.mul(f32x4.sub(x, f32x4.sub(u, vconst(K.ONE))), invU);
  return logTail(fractionOf(ix), exponentOf(ix), c);
}

/**
 * log(1 + e) for e in [0, 1] (or NaN): e + e^2 R(e). Where 1 / (1 + e) is needed anyway (the
 * sigmoid), this costs about half of log1pOf: no division, no exponent and fraction taken
 * apart, no correction term. R's low and high halves go side by side, joined by e^4: two
 * chains of three multiply-adds where Horner's rule makes one of seven (binaryCrossEntropy's
 * raw kernel 4% faster, measured; 1.9 ulp against Horner's 1.8).
 */
// @ts-ignore: decorator
@inline export function log1pUnit(e: v128): v128 {
  const e2 = f32x4.mul(e, e), e4 = f32x4.mul(e2, e2);
  let low = madd(lconst(L.R3), e, lconst(L.R2));
  let high = madd(lconst(L.R7), e, lconst(L.R6));
  low = madd(low, e, lconst(L.R1));
  high = madd(high, e, lconst(L.R5));
  low = madd(low, e, lconst(L.R0));
  high = madd(high, e, lconst(L.R4));
  return madd(e2, madd(high, e4, low), e);
}

/** log(x) for any x. */
// @ts-ignore: decorator
@inline export function logAny(x: v128): v128 {
  const tiny = f32x4.lt(x, lconst(L.MIN_NORMAL));
  const scaled = v128.bitselect(f32x4.mul(x, lconst(L.TWO_25)), x, tiny);
  const ix = offsetBits(scaled);
  const k = i32x4.add(exponentOf(ix), v128.and(tiny, lconst(L.MINUS_25)));
  const y = logTail(fractionOf(ix), k, f32x4.splat(0));
  // Outside (0, +inf) the bits mean nothing: 0 -> -inf, +inf -> +inf, the rest NaN.
  const zero = f32x4.splat(0), inf = lconst(L.INF);
  const inside = v128.and(f32x4.gt(x, zero), f32x4.lt(x, inf));
  const edge = v128.bitselect(
    lconst(L.NEG_INF),
    v128.bitselect(x, lconst(L.NAN), f32x4.eq(x, inf)),
    f32x4.eq(x, zero),
  );
  return v128.bitselect(y, edge, inside);
}

/** Scalar twin of logTail. */
// @ts-ignore: decorator
@inline function logTailScalar(f: f32, k: i32, c: f32): f32 {
  const s: f32 = f / (f + 2);
  const z = s * s;
  const w = z * z;
  const t1 = w * (w * LG4 + LG2);
  const t2 = z * (w * LG3 + LG1);
  const hfsq: f32 = 0.5 * f * f;
  const dk = <f32>k;
  let y: f32 = s * (hfsq + (t2 + t1)) + (dk * LN2_LO + c);
  y = (y - hfsq) + f;
  return dk * LN2_HI + y;
}

/** Scalar twin of log1p: same constants, same steps. */
// @ts-ignore: decorator
@inline export function log1pScalar(x: f32): f32 {
  const u: f32 = 1 + x;
  return log1pOfScalar(x, u, 1 / u);
}

/** Scalar twin of log1pOf. */
// @ts-ignore: decorator
@inline export function log1pOfScalar(x: f32, u: f32, invU: f32): f32 {
  // u = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)); c = the bits of x that u lost.
  const ix = reinterpret<i32>(u) + SQRT_HALF_OFFSET;
  const k = (ix >> 23) - 127;
  const f: f32 = reinterpret<f32>((ix & MANTISSA_MASK) + SQRT_HALF_BITS) - 1;
  const c: f32 = (x - (u - 1)) * invU;
  return logTailScalar(f, k, c);
}

/** Scalar twin of logAny. */
// @ts-ignore: decorator
@inline export function logAnyScalar(x: f32): f32 {
  if (!(x > 0 && x < Infinity)) return x == 0 ? -Infinity : x == Infinity ? x : NaN;
  let k = 0;
  if (x < MIN_NORMAL) {
    x *= TWO_25;
    k = -25;
  }
  const ix = reinterpret<i32>(x) + SQRT_HALF_OFFSET;
  k += (ix >> 23) - 127;
  const f: f32 = reinterpret<f32>((ix & MANTISSA_MASK) + SQRT_HALF_BITS) - 1;
  return logTailScalar(f, k, 0);
}

// The array forms: the kernels behind test/log.test.ts.

/** y[i] = log(1 + x[i]) for i < n, x[i] in (-1, 1]. y may alias x. */
export function vlog1p(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), log1p(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), log1pScalar(load<f32>(at(x, i))));
}

/** y[i] = log(1 + x[i]) for i < n, x[i] in [0, 1]: log1pUnit, the last 1 to 3 through one vector. */
export function vlog1pUnit(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), log1pUnit(v128.load(at(x, i))));
  if (i < n) scatterTail(at(y, i), n - i, log1pUnit(gatherTail(at(x, i), n - i, f32x4.splat(0))));
}

/** y[i] = log(x[i]) for i < n, any x. y may alias x. */
export function vlog(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), logAny(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), logAnyScalar(load<f32>(at(x, i))));
}
