// Evaluation of short rows, four at a time: the path evaluate (evaluate.ts) takes for
// 4 <= classes <= EVALUATE_SMALL_CLASSES.
//
// The math and the order of evaluate.ts. At V = 10 a row's fixed costs there (a scalar insertion
// sort for the top k, scalar tails, horizontal sums in f64, an f64 log) are most of its time.
// Here a row's (at most four) blocks of four are held in registers as ordered integer keys and
// the top k taken in k rounds of a vector max (no scalar loop over the row), and the sums of
// four rows go through one f32x4 log, lane r holding row r, as in cross-entropy-rows4.ts.
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

    // Pass 1: each real row's top k (or top 1), its head the max and the argmax.
    let m = f32x4.splat(selectTop(p0, classes, last, fresh, topIdx, topLogp, argmax, r0, k));
    if (n > 1) m = f32x4.replace_lane(m, 1, selectTop(p1, classes, last, fresh, topIdx, topLogp, argmax, r1, k));
    else m = f32x4.replace_lane(m, 1, f32x4.extract_lane(m, 0));
    if (n > 2) m = f32x4.replace_lane(m, 2, selectTop(p2, classes, last, fresh, topIdx, topLogp, argmax, r2, k));
    else m = f32x4.replace_lane(m, 2, f32x4.extract_lane(m, 1));
    if (n > 3) m = f32x4.replace_lane(m, 3, selectTop(p3, classes, last, fresh, topIdx, topLogp, argmax, r3, k));
    else m = f32x4.replace_lane(m, 3, f32x4.extract_lane(m, 2));

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

/**
 * The top max(k, 1) of the row at p, best first: argmax[r] = the first's column and, with
 * k > 0, the columns and values to topIdx and topLogp at row r. Returns the max (the first's
 * value).
 */
// @ts-ignore: decorator
@inline function selectTop(
  p: usize, classes: i32, last: usize, fresh: v128, topIdx: usize, topLogp: usize, argmax: usize, r: i32, k: i32,
): f32 {
  const none = i32x4.splat(i32.MIN_VALUE);
  const blocks = (classes + 3) >> 2;
  // Block b < blocks - 1 at 16 b bytes; block blocks - 1 is the last one.
  const k0 = blocks == 1 ? v128.bitselect(keysOf(v128.load(p + last)), none, fresh) : keysOf(v128.load(p));
  const k1 = blocks < 2 ? none : blocks == 2 ? v128.bitselect(keysOf(v128.load(p + last)), none, fresh) : keysOf(v128.load(p, 16));
  const k2 = blocks < 3 ? none : blocks == 3 ? v128.bitselect(keysOf(v128.load(p + last)), none, fresh) : keysOf(v128.load(p, 32));
  const k3 = blocks < 4 ? none : v128.bitselect(keysOf(v128.load(p + last)), none, fresh);
  return topRounds(p, classes, k0, k1, k2, k3, topIdx, topLogp, argmax, r, k);
}

/** selectTop's rounds over the keys of the row's four blocks (key position q = 4 b + lane). */
// @ts-ignore: decorator
@inline function topRounds(
  p: usize, classes: i32, k0: v128, k1: v128, k2: v128, k3: v128,
  topIdx: usize, topLogp: usize, argmax: usize, r: i32, k: i32,
): f32 {
  const none = i32x4.splat(i32.MIN_VALUE);
  const iota = v128.load(IOTA);
  const q1 = i32x4.add(iota, i32x4.splat(4)), q2 = i32x4.add(iota, i32x4.splat(8)), q3 = i32x4.add(iota, i32x4.splat(12));
  const vals = at(topLogp, r * k), idxs = at(topIdx, r * k);
  const rounds = k > 0 ? k : 1;
  let m: f32 = 0;
  for (let j = 0; j < rounds; j++) {
    let best = i32x4.max_s(i32x4.max_s(k0, k1), i32x4.max_s(k2, k3));
    best = i32x4.max_s(best, i32x4.shuffle(best, best, 2, 3, 0, 1));
    best = i32x4.max_s(best, i32x4.shuffle(best, best, 1, 0, 3, 2));
    const hits = i32x4.bitmask(i32x4.eq(k0, best)) | (i32x4.bitmask(i32x4.eq(k1, best)) << 4)
               | (i32x4.bitmask(i32x4.eq(k2, best)) << 8) | (i32x4.bitmask(i32x4.eq(k3, best)) << 12);
    const q = ctz(hits);
    // Position q is lane q & 3 of a block at 4 (q >> 2) columns, or of the last block, at
    // classes - 4: the smaller of the two is the block's start either way.
    const col = min(q & ~3, classes - 4) + (q & 3);
    const v = load<f32>(at(p, col));
    if (j == 0) {
      m = v;
      store<i32>(at(argmax, r), col);
    }
    if (k > 0) {
      store<f32>(at(vals, j), v);
      store<i32>(at(idxs, j), col);
    }
    const taken = i32x4.splat(q);
    k0 = v128.bitselect(none, k0, i32x4.eq(iota, taken));
    k1 = v128.bitselect(none, k1, i32x4.eq(q1, taken));
    k2 = v128.bitselect(none, k2, i32x4.eq(q2, taken));
    k3 = v128.bitselect(none, k3, i32x4.eq(q3, taken));
  }
  return m;
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
