// Half-precision logits widened to f32, so that every kernel reads f32: the engine copies
// 16-bit values (half the bytes of f32) into engine memory a chunk at a time and widens each
// chunk here, in cache, right before the kernel runs on it.
//
// float16 (IEEE binary16): sign, 5 exponent bits (bias 15), 10 mantissa bits. Shifting the
// low 15 bits up by 13 puts exponent and mantissa in f32 position, as an f32 2^112 times too
// small; one multiply by 2^112 rescales normal and subnormal halves alike, exactly (a power of
// two, no overflow or underflow). Infinity and NaN come out of it with exponent 143 and their
// mantissa intact; or-ing in an all-ones exponent restores them. (After F. Giesen's
// "half_to_float_fast5", 2012; 9 SIMD instructions per four values, against 24 for a
// version that added exponent biases and selected between three cases. Subnormal halves make
// the multiply's operand subnormal: no slower here (AMD EPYC), a slow path on some Intel cores.)
// bfloat16 is the top half of an f32: shift it up by 16.
// Both conversions are exact; test/dtype.test.ts checks all 65536 bit patterns.

import { at } from '../math/lanes';

// @ts-ignore: decorator
@inline const EXP_MANT: u32 = 0x7FFF;                // exponent and mantissa of a half
// @ts-ignore: decorator
@inline const TWO_POW_112: u32 = 0x77800000;         // (127 + 112) << 23
// @ts-ignore: decorator
@inline const LARGEST_FINITE: u32 = 0x7BFF;          // above it, infinity or NaN
// @ts-ignore: decorator
@inline const ALL_ONES_EXPONENT: u32 = 0x7F800000;

const WIDEN_CONSTANTS = memory.data<u32>([
  EXP_MANT, EXP_MANT, EXP_MANT, EXP_MANT,
  TWO_POW_112, TWO_POW_112, TWO_POW_112, TWO_POW_112,
  LARGEST_FINITE, LARGEST_FINITE, LARGEST_FINITE, LARGEST_FINITE,
  ALL_ONES_EXPONENT, ALL_ONES_EXPONENT, ALL_ONES_EXPONENT, ALL_ONES_EXPONENT,
], 16);

// @ts-ignore: decorator
@inline function widenConst(k: usize): v128 {
  return v128.load(WIDEN_CONSTANTS + (k << 4));
}

/** Four float16 values, one per u32 lane, as f32; the constants are WIDEN_CONSTANTS'. */
// @ts-ignore: decorator
@inline function halfLanes(h: v128, expMant: v128, scale: v128, largestFinite: v128, allOnes: v128): v128 {
  const em = v128.and(h, expMant);
  const sign = i32x4.shl(v128.xor(h, em), 16);
  const scaled = f32x4.mul(i32x4.shl(em, 13), scale);
  const infNan = v128.and(i32x4.gt_s(em, largestFinite), allOnes);
  return v128.or(scaled, v128.or(sign, infNan));
}

/** Scalar twin of halfLanes. */
// @ts-ignore: decorator
@inline function halfScalar(h: u32): f32 {
  const em = h & EXP_MANT;
  const scaled = reinterpret<u32>(reinterpret<f32>(em << 13) * reinterpret<f32>(TWO_POW_112));
  return reinterpret<f32>(scaled | ((h ^ em) << 16) | (em > LARGEST_FINITE ? ALL_ONES_EXPONENT : 0));
}

/** y[i] = float16 x[i] as f32, for i < n; x holds u16 values. */
export function widenF16(x: usize, y: usize, n: i32): void {
  // In registers for the whole loop (see expMinusWith in math/exp.ts).
  const expMant = widenConst(0), scale = widenConst(1), largestFinite = widenConst(2), allOnes = widenConst(3);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(x + (<usize>i << 1));
    v128.store(at(y, i), halfLanes(i32x4.extend_low_i16x8_u(h), expMant, scale, largestFinite, allOnes));
    v128.store(at(y, i), halfLanes(i32x4.extend_high_i16x8_u(h), expMant, scale, largestFinite, allOnes), 16);
  }
  for (; i < n; i++) store<f32>(at(y, i), halfScalar(<u32>load<u16>(x + (<usize>i << 1))));
}

/** y[i] = bfloat16 x[i] as f32, for i < n; x holds u16 values. */
export function widenBf16(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(x + (<usize>i << 1));
    v128.store(at(y, i), i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
    v128.store(at(y, i), i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
  }
  for (; i < n; i++) store<u32>(at(y, i), (<u32>load<u16>(x + (<usize>i << 1))) << 16);
}
