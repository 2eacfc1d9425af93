// Half-precision logits widened to f32, so that every kernel reads f32: the engine copies
// 16-bit values (half the bytes of f32) into engine memory a chunk at a time and widens each
// chunk here, in cache, right before the kernel runs on it.
//
// float16 (IEEE binary16): sign, 5 exponent bits (bias 15), 10 mantissa bits. Shifting the
// low 15 bits up by 13 puts exponent and mantissa in f32 position; then
//   normal numbers      add (127 - 15) << 23 to the exponent,
//   infinity and NaN    add (255 - 31) << 23 (exponent all ones),
//   zero and subnormals are m * 2^-24: computed exactly as (2^-14 (1 + m/1024)) - 2^-14.
// bfloat16 is the top half of an f32: shift it up by 16.
// Both conversions are exact; test/dtype.test.ts checks all 65536 bit patterns.

import { at } from '../math/lanes';

const WIDEN_CONSTANTS = memory.data<u32>([
  0x7FFF, 0x7FFF, 0x7FFF, 0x7FFF,                 // exponent and mantissa of a half
  0x8000, 0x8000, 0x8000, 0x8000,                 // its sign
  0x38000000, 0x38000000, 0x38000000, 0x38000000, // (127 - 15) << 23
  0x70000000, 0x70000000, 0x70000000, 0x70000000, // (255 - 31) << 23
  0x38800000, 0x38800000, 0x38800000, 0x38800000, // 113 << 23, the f32 2^-14
  0x7C00, 0x7C00, 0x7C00, 0x7C00,                 // the smallest infinity / NaN pattern
  0x0400, 0x0400, 0x0400, 0x0400,                 // the smallest normal pattern
], 16);

// @ts-ignore: decorator
@inline function widenConst(k: usize): v128 {
  return v128.load(WIDEN_CONSTANTS + (k << 4));
}

/** Four float16 values, one per u32 lane, as f32. */
// @ts-ignore: decorator
@inline function halfLanes(h: v128): v128 {
  const em = v128.and(h, widenConst(0));
  const sign = i32x4.shl(v128.and(h, widenConst(1)), 16);
  const o = i32x4.shl(em, 13);
  const normal = i32x4.add(o, widenConst(2));
  const special = i32x4.add(o, widenConst(3));
  const tiny = f32x4.sub(i32x4.add(o, widenConst(4)), widenConst(4));
  let y = v128.bitselect(special, normal, i32x4.ge_u(em, widenConst(5)));
  y = v128.bitselect(tiny, y, i32x4.lt_u(em, widenConst(6)));
  return v128.or(y, sign);
}

/** Scalar twin of halfLanes. */
// @ts-ignore: decorator
@inline function halfScalar(h: u32): f32 {
  const em = h & 0x7FFF;
  const o = em << 13;
  let bits: u32;
  if (em >= 0x7C00) bits = o + 0x70000000;
  else if (em >= 0x0400) bits = o + 0x38000000;
  else bits = reinterpret<u32>(reinterpret<f32>(o + 0x38800000) - reinterpret<f32>(<u32>0x38800000));
  return reinterpret<f32>(bits | ((h & 0x8000) << 16));
}

/** y[i] = float16 x[i] as f32, for i < n; x holds u16 values. */
export function widenF16(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(x + (<usize>i << 1));
    v128.store(at(y, i), halfLanes(i32x4.extend_low_i16x8_u(h)));
    v128.store(at(y, i), halfLanes(i32x4.extend_high_i16x8_u(h)), 16);
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
