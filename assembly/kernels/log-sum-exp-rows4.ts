// Log-sum-exp of short rows, four at a time: the path lse (log-sum-exp.ts) and logProbs
// (log-probs.ts) take for 4 <= cols <= LSE_SMALL_COLS, so that their lses stay the same bits.
//
// The results of log-sum-exp.ts, with the layout of cross-entropy-rows4.ts: each row walked in
// blocks of four, the last of which ends at the row's end (its lanes that the block before
// covered masked out of the sum), and lane r of the group's max, sum and log belonging to row r,
// so one f32x4 log serves four rows. A group past the last row repeats that row in its spare
// lanes and stores the same bits to the same place. Each lane's arithmetic is the same whatever
// its lane: splitting the rows changes no bit.
//
// Accuracy: the sum of at most LSE_SMALL_COLS / 4 terms per lane in f32, and m + log s and the
// log-probs (x - m) - log s in f32 (log s within 0.83 ulp, math/log.ts), where log-sum-exp.ts and
// log-probs.ts finish in f64.

import { IOTA, at, lane0, lane1, lane2, lane3, max4, scatter4, sum4 } from '../math/lanes';
import { expMinus, vconst, K } from '../math/exp';
import { log1pOf } from '../math/log';
import { rowMax4 } from './rmax';
import { rowHasNaN } from './log-sum-exp';

/**
 * Rows of 4 to this many values go four at a time. Measured (raw kernels, 655360 values, ns per
 * element, row at a time -> four at a time, node 20 on x86-64):
 *   V = 4: 8.5 -> 2.0   V = 10: 4.8 -> 1.5   V = 32: 1.8 -> 1.1   V = 128: 0.95-1.07 -> 0.85-0.95
 *   V = 256: 0.94 -> 0.90
 * The bound is accuracy, as cross-entropy-rows4.ts's: 64 terms per f32 lane at most.
 */
// @ts-ignore: decorator
@inline export const LSE_SMALL_COLS: i32 = 256;

// One row's four lanes of sum exp(x - m), left by rowSum.
let rowSumLanes: v128 = f32x4(0, 0, 0, 0);

/** lse over all `rows` rows, four at a time. Arguments as lse's; 4 <= cols <= LSE_SMALL_COLS. */
export function lseRows4(x: usize, out: usize, rows: i32, cols: i32): void {
  const last = (<usize>cols << 2) - 16;
  const fresh = i32x4.ge_s(v128.load(IOTA), i32x4.splat(-cols & 3));
  const lastRow = rows - 1;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const result = groupLse(at(x, r0 * cols), at(x, r1 * cols), at(x, r2 * cols), at(x, r3 * cols), cols, last, fresh);
    if (r0 + 4 <= rows) v128.store(at(out, r0), result);
    else scatter4(at(out, r0), at(out, r1), at(out, r2), at(out, r3), result);
  }
}

/**
 * logProbs (log-probs.ts) over all `rows` rows, four at a time: lses as lseRows4 gives them, and
 * each log-prob (x[id] - m) - log s in f32. Arguments as logProbs'; 4 <= classes <= LSE_SMALL_COLS.
 */
export function logProbsRows4(
  x: usize, ids: usize, logprobs: usize, lses: usize,
  rows: i32, classes: i32, k: i32, ignoreIndex: i32,
): void {
  const last = (<usize>classes << 2) - 16;
  const fresh = i32x4.ge_s(v128.load(IOTA), i32x4.splat(-classes & 3));
  const lastRow = rows - 1;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const n = min(4, rows - r0);
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const p0 = at(x, r0 * classes), p1 = at(x, r1 * classes), p2 = at(x, r2 * classes), p3 = at(x, r3 * classes);
    const lse = groupLse(p0, p1, p2, p3, classes, last, fresh);
    if (n == 4) v128.store(at(lses, r0), lse);
    else scatter4(at(lses, r0), at(lses, r1), at(lses, r2), at(lses, r3), lse);
    const m = groupMax, logS = groupLogSum;
    gatherLogProbs(p0, at(ids, r0 * k), at(logprobs, r0 * k), k, ignoreIndex, f32x4.extract_lane(m, 0), f32x4.extract_lane(logS, 0));
    if (n > 1) gatherLogProbs(p1, at(ids, r1 * k), at(logprobs, r1 * k), k, ignoreIndex, f32x4.extract_lane(m, 1), f32x4.extract_lane(logS, 1));
    if (n > 2) gatherLogProbs(p2, at(ids, r2 * k), at(logprobs, r2 * k), k, ignoreIndex, f32x4.extract_lane(m, 2), f32x4.extract_lane(logS, 2));
    if (n > 3) gatherLogProbs(p3, at(ids, r3 * k), at(logprobs, r3 * k), k, ignoreIndex, f32x4.extract_lane(m, 3), f32x4.extract_lane(logS, 3));
  }
}

// The group's max and log s, left by groupLse beside the lse it returns.
let groupMax: v128 = f32x4(0, 0, 0, 0);
let groupLogSum: v128 = f32x4(0, 0, 0, 0);

/** Lane r = lse of the row at p_r (repeats allowed), as log-sum-exp.ts defines it. */
// @ts-ignore: decorator
@inline function groupLse(p0: usize, p1: usize, p2: usize, p3: usize, cols: i32, last: usize, fresh: v128): v128 {
  const m = max4(rowMax4(p0, last), rowMax4(p1, last), rowMax4(p2, last), rowMax4(p3, last));
  rowSum(p0, last, lane0(m), fresh);
  const s0 = rowSumLanes;
  rowSum(p1, last, lane1(m), fresh);
  const s1 = rowSumLanes;
  rowSum(p2, last, lane2(m), fresh);
  const s2 = rowSumLanes;
  rowSum(p3, last, lane3(m), fresh);
  const s = sum4(s0, s1, s2, rowSumLanes);
  // s >= 1 (the max's own term is exp(0) = 1) or NaN: log as in cross-entropy-rows4.ts.
  const logS = log1pOf(f32x4.sub(s, vconst(K.ONE)), s, f32x4.splat(0));
  groupMax = m;
  groupLogSum = logS;
  let result = f32x4.add(m, logS);
  // An infinite max is the answer, unless the row holds a NaN (log-sum-exp.ts).
  const infinite = f32x4.eq(f32x4.abs(m), f32x4.splat(Infinity));
  if (v128.any_true(infinite)) {
    result = v128.bitselect(m, result, infinite);
    if (i32x4.extract_lane(infinite, 0) != 0 && rowHasNaN(p0, cols)) result = f32x4.replace_lane(result, 0, NaN);
    if (i32x4.extract_lane(infinite, 1) != 0 && rowHasNaN(p1, cols)) result = f32x4.replace_lane(result, 1, NaN);
    if (i32x4.extract_lane(infinite, 2) != 0 && rowHasNaN(p2, cols)) result = f32x4.replace_lane(result, 2, NaN);
    if (i32x4.extract_lane(infinite, 3) != 0 && rowHasNaN(p3, cols)) result = f32x4.replace_lane(result, 3, NaN);
  }
  return result;
}

/** logprobs[i] = (x[ids[i]] - m) - logS for i < k, -inf where ids[i] == ignoreIndex. */
// @ts-ignore: decorator
@inline function gatherLogProbs(x: usize, ids: usize, logprobs: usize, k: i32, ignoreIndex: i32, m: f32, logS: f32): void {
  for (let i = 0; i < k; i++) {
    const id = load<i32>(at(ids, i));
    store<f32>(at(logprobs, i), id == ignoreIndex ? -Infinity : (load<f32>(at(x, id)) - m) - logS);
  }
}

/** Four lanes of sum exp(x - m) over the row at p, to rowSumLanes; m splat. */
// @ts-ignore: decorator
@inline function rowSum(p: usize, last: usize, m: v128, fresh: v128): void {
  let acc = v128.and(expMinus(f32x4.sub(v128.load(p + last), m)), fresh);
  for (let o: usize = 0; o < last; o += 16) acc = f32x4.add(acc, expMinus(f32x4.sub(v128.load(p + o), m)));
  rowSumLanes = acc;
}
