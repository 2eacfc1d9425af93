// Evaluation of short rows, four at a time: the path evaluate (evaluate.ts) takes for
// 4 <= classes <= EVALUATE_SMALL_CLASSES.
//
// The math and the order of evaluate.ts. At V = 10 a row's fixed costs there (a scalar insertion
// sort for the top k, scalar tails, horizontal sums in f64, an f64 log) are most of its time.
// Here a row's (at most four) blocks of four are held in registers as ordered integer keys and
// the top k taken in k rounds of a vector max (no scalar loop over the row), the four rows'
// rounds side by side, and the sums of four rows go through one f32x4 log, lane r holding row
// r, as in cross-entropy-rows4.ts.
//
// The keys order floats as `beats` (evaluate.ts) does: -0 is made +0 (they tie), every NaN is
// the largest key (NaN above everything, NaNs tie), and for the rest the float's bits with a
// negative float's magnitude bits flipped compare as signed integers like the floats. A round
// takes the largest key, the lowest column among equal ones (ties to the lowest index), and
// knocks it out with the smallest integer, which no float's key is. The value reported is the
// logit itself.
//
// A row's blocks: those before the last at 0, 16, 32 bytes; the last ends at the row's end,
// its lanes that the block before covered masked out (of the keys and of the sums), so no
// column counts twice and nothing past the row is read. A group past the last row repeats
// that row in its spare lanes (their values are the row's own) and walks only its real rows.
// Each lane's arithmetic is the same whatever its lane: splitting rows changes no bit.
//
// Accuracy: sums of at most four terms per lane in f32; nll, entropy and log-probabilities
// finished in f32 (log s within 0.83 ulp, math/log.ts), where evaluate.ts uses f64.

import { IOTA, at, gather4, scatter4, sum4 } from '../math/lanes';
import { expMinus, madd, vconst, K } from '../math/exp';
import { log1pOf } from '../math/log';
import { SPREAD_FLOOR } from './evaluate';

/**
 * Rows of 4 to this many classes (four blocks of four, held in registers) go four at a time.
 * Measured (raw kernels, 65536 rows, ns per element, row at a time -> four at a time, top-5
 * (top-4 at V = 4) / no top k, node 20 on x86-64):
 *   V = 4: 19.9 -> 12.6 / 14.0 -> 5.8   V = 10: 18.2 -> 7.1 / 8.8 -> 3.3   V = 16: 15.9 -> 4.8 / 6.4 -> 2.3
 * and with the four rows' rounds side by side (another machine, same method):
 *   V = 10: 7.3 -> 4.0 / 3.3 -> 2.25   V = 16: 3.8 -> 2.8 / 1.78 -> 1.65   V = 4, no top k: 4.4 -> 3.7
 */
// @ts-ignore: decorator
@inline export const EVALUATE_SMALL_CLASSES: i32 = 16;

// One row's four lanes of s and of the spread sum, left by rowSums.
let sumE: v128 = f32x4(0, 0, 0, 0);
let sumSpread: v128 = f32x4(0, 0, 0, 0);

/**
 * evaluate over all `rows` rows, four at a time. Arguments as evaluate's;
 * 4 <= classes <= EVALUATE_SMALL_CLASSES.
 */
export function evaluateRows4(
  x: usize, target: usize, nll: usize, entropy: usize, argmax: usize, topIdx: usize, topLogp: usize,
  rows: i32, classes: i32, ignoreIndex: i32, k: i32,
): void {
  const last = (<usize>classes << 2) - 16;
  const fresh = i32x4.ge_s(v128.load(IOTA), i32x4.splat(-classes & 3));
  const vIgnore = i32x4.splat(ignoreIndex);
  const lastRow = rows - 1;

  for (let r0 = 0; r0 < rows; r0 += 4) {
    const n = min(4, rows - r0);
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const p0 = at(x, r0 * classes), p1 = at(x, r1 * classes), p2 = at(x, r2 * classes), p3 = at(x, r3 * classes);

    // Pass 1: each row's top k (or top 1), its head the max and the argmax. A spare row repeats
    // the last real one, writing what that row writes.
    selectTop4(p0, p1, p2, p3, classes, last, fresh, topIdx, topLogp, argmax, r0, r1, r2, r3, k);
    const m = gather4(
      at(p0, load<i32>(at(argmax, r0))), at(p1, load<i32>(at(argmax, r1))),
      at(p2, load<i32>(at(argmax, r2))), at(p3, load<i32>(at(argmax, r3))),
    );

    // Pass 2: s and the spread sum, row by row (a spare lane repeats the last real row's).
    rowSums(p0, last, f32x4.splat(f32x4.extract_lane(m, 0)), fresh);
    const e0 = sumE, d0 = sumSpread;
    if (n > 1) rowSums(p1, last, f32x4.splat(f32x4.extract_lane(m, 1)), fresh);
    const e1 = sumE, d1 = sumSpread;
    if (n > 2) rowSums(p2, last, f32x4.splat(f32x4.extract_lane(m, 2)), fresh);
    const e2 = sumE, d2 = sumSpread;
    if (n > 3) rowSums(p3, last, f32x4.splat(f32x4.extract_lane(m, 3)), fresh);
    const s = sum4(e0, e1, e2, sumE), spread = sum4(d0, d1, d2, sumSpread);

    // s >= 1 (the max's own term is exp(0) = 1) or NaN: log as in cross-entropy-rows4.ts.
    const logS = log1pOf(f32x4.sub(s, vconst(K.ONE)), s, f32x4.splat(0));
    const ent = f32x4.sub(logS, f32x4.div(spread, s));
    const tv = gather4(at(target, r0), at(target, r1), at(target, r2), at(target, r3));
    const ignored = i32x4.eq(tv, vIgnore);
    // Ignored rows look at column 0 instead of an index that may be out of range.
    const t = v128.andnot(tv, ignored);
    const xt = gather4(
      at(p0, i32x4.extract_lane(t, 0)), at(p1, i32x4.extract_lane(t, 1)),
      at(p2, i32x4.extract_lane(t, 2)), at(p3, i32x4.extract_lane(t, 3)),
    );
    // (m - x[t]) + log s rather than lse - x[t]: huge logits keep their digits.
    const loss = v128.andnot(f32x4.add(f32x4.sub(m, xt), logS), ignored);
    if (n == 4) {
      v128.store(at(entropy, r0), ent);
      v128.store(at(nll, r0), loss);
    } else {
      scatter4(at(entropy, r0), at(entropy, r1), at(entropy, r2), at(entropy, r3), ent);
      scatter4(at(nll, r0), at(nll, r1), at(nll, r2), at(nll, r3), loss);
    }
    // The top k's values become log-probabilities, (v - m) - log s.
    if (k > 0) {
      logProbsOf(at(topLogp, r0 * k), k, f32x4.extract_lane(m, 0), f32x4.extract_lane(logS, 0));
      if (n > 1) logProbsOf(at(topLogp, r1 * k), k, f32x4.extract_lane(m, 1), f32x4.extract_lane(logS, 1));
      if (n > 2) logProbsOf(at(topLogp, r2 * k), k, f32x4.extract_lane(m, 2), f32x4.extract_lane(logS, 2));
      if (n > 3) logProbsOf(at(topLogp, r3 * k), k, f32x4.extract_lane(m, 3), f32x4.extract_lane(logS, 3));
    }
  }
}

/** The ordered integer keys of four floats (see the header). */
// @ts-ignore: decorator
@inline function keysOf(v: v128): v128 {
  const bits = f32x4.add(v, f32x4.splat(0));
  const ordered = v128.xor(bits, i32x4.shr_u(i32x4.shr_s(bits, 31), 1));
  return v128.bitselect(i32x4.splat(i32.MAX_VALUE), ordered, f32x4.ne(v, v));
}

/** Block b (0 to 3) of a row's keys: the last block masked where it overlaps the one before. */
// @ts-ignore: decorator
@inline function blockKeys(p: usize, b: i32, blocks: i32, last: usize, fresh: v128): v128 {
  if (b >= blocks) return i32x4.splat(i32.MIN_VALUE);
  if (b == blocks - 1) return v128.bitselect(keysOf(v128.load(p + last)), i32x4.splat(i32.MIN_VALUE), fresh);
  return keysOf(v128.load(p + (<usize>b << 4)));
}

/**
 * The top max(k, 1) of the four rows at p0 .. p3, best first: argmax[r] = the first's column
 * and, with k > 0, the columns and values to topIdx and topLogp at row r. A round is one chain
 * of dependent steps per row (a max, a compare, a bitmask, a load); the four rows' chains are
 * taken side by side, round by round, so that one's steps fill the others' waits.
 */
// @ts-ignore: decorator
@inline function selectTop4(
  p0: usize, p1: usize, p2: usize, p3: usize, classes: i32, last: usize, fresh: v128,
  topIdx: usize, topLogp: usize, argmax: usize, r0: i32, r1: i32, r2: i32, r3: i32, k: i32,
): void {
  const blocks = (classes + 3) >> 2;
  let a0 = blockKeys(p0, 0, blocks, last, fresh), a1 = blockKeys(p0, 1, blocks, last, fresh);
  let a2 = blockKeys(p0, 2, blocks, last, fresh), a3 = blockKeys(p0, 3, blocks, last, fresh);
  let b0 = blockKeys(p1, 0, blocks, last, fresh), b1 = blockKeys(p1, 1, blocks, last, fresh);
  let b2 = blockKeys(p1, 2, blocks, last, fresh), b3 = blockKeys(p1, 3, blocks, last, fresh);
  let c0 = blockKeys(p2, 0, blocks, last, fresh), c1 = blockKeys(p2, 1, blocks, last, fresh);
  let c2 = blockKeys(p2, 2, blocks, last, fresh), c3 = blockKeys(p2, 3, blocks, last, fresh);
  let d0 = blockKeys(p3, 0, blocks, last, fresh), d1 = blockKeys(p3, 1, blocks, last, fresh);
  let d2 = blockKeys(p3, 2, blocks, last, fresh), d3 = blockKeys(p3, 3, blocks, last, fresh);
  // The key positions of each block's lanes, 4 b + lane.
  const q0 = v128.load(IOTA), q1 = i32x4.add(q0, i32x4.splat(4));
  const q2 = i32x4.add(q0, i32x4.splat(8)), q3 = i32x4.add(q0, i32x4.splat(12));
  const rounds = k > 0 ? k : 1;
  for (let j = 0; j < rounds; j++) {
    const qa = takeBest(p0, classes, a0, a1, a2, a3, topIdx, topLogp, argmax, r0, k, j);
    const qb = takeBest(p1, classes, b0, b1, b2, b3, topIdx, topLogp, argmax, r1, k, j);
    const qc = takeBest(p2, classes, c0, c1, c2, c3, topIdx, topLogp, argmax, r2, k, j);
    const qd = takeBest(p3, classes, d0, d1, d2, d3, topIdx, topLogp, argmax, r3, k, j);
    a0 = knockOut(a0, q0, qa); a1 = knockOut(a1, q1, qa); a2 = knockOut(a2, q2, qa); a3 = knockOut(a3, q3, qa);
    b0 = knockOut(b0, q0, qb); b1 = knockOut(b1, q1, qb); b2 = knockOut(b2, q2, qb); b3 = knockOut(b3, q3, qb);
    c0 = knockOut(c0, q0, qc); c1 = knockOut(c1, q1, qc); c2 = knockOut(c2, q2, qc); c3 = knockOut(c3, q3, qc);
    d0 = knockOut(d0, q0, qd); d1 = knockOut(d1, q1, qd); d2 = knockOut(d2, q2, qd); d3 = knockOut(d3, q3, qd);
  }
}

/**
 * Round j of one row (keys k0 .. k3, key position q = 4 b + lane): the largest key, the lowest
 * position among equal ones, its column and value stored; returns the position.
 */
// @ts-ignore: decorator
@inline function takeBest(
  p: usize, classes: i32, k0: v128, k1: v128, k2: v128, k3: v128,
  topIdx: usize, topLogp: usize, argmax: usize, r: i32, k: i32, j: i32,
): i32 {
  let best = i32x4.max_s(i32x4.max_s(k0, k1), i32x4.max_s(k2, k3));
  best = i32x4.max_s(best, i32x4.shuffle(best, best, 2, 3, 0, 1));
  best = i32x4.max_s(best, i32x4.shuffle(best, best, 1, 0, 3, 2));
  const hits = i32x4.bitmask(i32x4.eq(k0, best)) | (i32x4.bitmask(i32x4.eq(k1, best)) << 4)
             | (i32x4.bitmask(i32x4.eq(k2, best)) << 8) | (i32x4.bitmask(i32x4.eq(k3, best)) << 12);
  const q = ctz(hits);
  // Position q is lane q & 3 of a block at 4 (q >> 2) columns, or of the last block, at
  // classes - 4: the smaller of the two is the block's start either way.
  const col = min(q & ~3, classes - 4) + (q & 3);
  if (j == 0) store<i32>(at(argmax, r), col);
  if (k > 0) {
    store<f32>(at(topLogp, r * k + j), load<f32>(at(p, col)));
    store<i32>(at(topIdx, r * k + j), col);
  }
  return q;
}

/**
 * A block's keys, at key `positions`, with position q knocked out (the smallest integer, which
 * no float's key is).
 */
// @ts-ignore: decorator
@inline function knockOut(keys: v128, positions: v128, q: i32): v128 {
  return v128.bitselect(i32x4.splat(i32.MIN_VALUE), keys, i32x4.eq(positions, i32x4.splat(q)));
}

/** One row's four lanes of s = sum exp(x - m) and of sum exp(x - m) max(x - m, -88), to sumE and sumSpread. */
// @ts-ignore: decorator
@inline function rowSums(p: usize, last: usize, m: v128, fresh: v128): void {
  const floor = f32x4.splat(SPREAD_FLOOR);
  const dL = f32x4.sub(v128.load(p + last), m);
  const eL = v128.and(expMinus(dL), fresh);
  let accE = eL, accD = f32x4.mul(eL, f32x4.pmax(dL, floor));
  for (let o: usize = 0; o < last; o += 16) {
    const d = f32x4.sub(v128.load(p + o), m);
    const e = expMinus(d);
    accE = f32x4.add(accE, e);
    accD = madd(e, f32x4.pmax(d, floor), accD);
  }
  sumE = accE;
  sumSpread = accD;
}

/** vals[j] = (vals[j] - m) - logS for j < k. */
// @ts-ignore: decorator
@inline function logProbsOf(vals: usize, k: i32, m: f32, logS: f32): void {
  for (let j = 0; j < k; j++) store<f32>(at(vals, j), (load<f32>(at(vals, j)) - m) - logS);
}
