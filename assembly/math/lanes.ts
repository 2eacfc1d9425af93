// Addressing and horizontal reductions shared by the row kernels.

// A row's sums add at most SUM_BLOCK / 16 terms per f32 lane before the block's total moves into
// an f64, so their rounding error stays a few ulp whatever the row length (V = 128256 included).
// @ts-ignore: decorator
@inline export const SUM_BLOCK = 1024;

/** Address of the i-th f32 (or i32) after p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1))
       + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Largest of the four lanes. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
             max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// Four rows at a time (cross-entropy-rows4.ts, kl-rows4.ts): lane r of a per-row vector
// belongs to row r of the group.

// i32 lanes 0, 1, 2, 3: the column of each lane within a block. A table, not a v128.const,
// for the reason given in math/exp.ts.
export const IOTA = memory.data<i32>([0, 1, 2, 3], 16);

/** Lane r of v in all four lanes: lane0 ... lane3 (shuffle lanes must be literals). */
// @ts-ignore: decorator
@inline export function lane0(v: v128): v128 { return i32x4.shuffle(v, v, 0, 0, 0, 0); }
// @ts-ignore: decorator
@inline export function lane1(v: v128): v128 { return i32x4.shuffle(v, v, 1, 1, 1, 1); }
// @ts-ignore: decorator
@inline export function lane2(v: v128): v128 { return i32x4.shuffle(v, v, 2, 2, 2, 2); }
// @ts-ignore: decorator
@inline export function lane3(v: v128): v128 { return i32x4.shuffle(v, v, 3, 3, 3, 3); }

/** Lane r = (a_r[0] + a_r[2]) + (a_r[1] + a_r[3]): a 4x4 transpose folded into the sums. */
// @ts-ignore: decorator
@inline export function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u01 = f32x4.add(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const u23 = f32x4.add(i32x4.shuffle(a2, a3, 0, 4, 1, 5), i32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return f32x4.add(i64x2.shuffle(u01, u23, 0, 2), i64x2.shuffle(u01, u23, 1, 3));
}

/** Lane r = max of the lanes of a_r, as sum4 (pmax: a NaN may be dropped, see rmax.ts). */
// @ts-ignore: decorator
@inline export function max4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u01 = f32x4.pmax(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const u23 = f32x4.pmax(i32x4.shuffle(a2, a3, 0, 4, 1, 5), i32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return f32x4.pmax(i64x2.shuffle(u01, u23, 0, 2), i64x2.shuffle(u01, u23, 1, 3));
}

/** Lane r = the 32 bits at a_r. */
// @ts-ignore: decorator
@inline export function gather4(a0: usize, a1: usize, a2: usize, a3: usize): v128 {
  let v = v128.load32_zero(a0);
  v = v128.load32_lane(a1, v, 1);
  v = v128.load32_lane(a2, v, 2);
  return v128.load32_lane(a3, v, 3);
}

/** Lane r of v to a_r. */
// @ts-ignore: decorator
@inline export function scatter4(a0: usize, a1: usize, a2: usize, a3: usize, v: v128): void {
  v128.store32_lane(a0, v, 0);
  v128.store32_lane(a1, v, 1);
  v128.store32_lane(a2, v, 2);
  v128.store32_lane(a3, v, 3);
}

/** The `count` (1 to 3) f32 at p in the first lanes, `fill` in the others. */
// @ts-ignore: decorator
@inline export function gatherTail(p: usize, count: i32, fill: v128): v128 {
  let v = f32x4.replace_lane(fill, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the first `count` (1 to 3) lanes of v to p. */
// @ts-ignore: decorator
@inline export function scatterTail(p: usize, count: i32, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
