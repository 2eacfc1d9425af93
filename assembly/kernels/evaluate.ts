// Evaluation of class-index predictions in one kernel per row: negative log-likelihood,
// predictive entropy, argmax and the top k, from two passes over the logits.
//
// Per row of logits x, with m = max_j x[j] and
//
//   e[j] = exp(x[j] - m),   s = sum_j e[j],   lse = m + log s
//
//   nll     = lse - x[t] = (m - x[t]) + log s                       (0 for an ignored row)
//   entropy = -sum_j p[j] log p[j] = log s + (1 / s) sum_j e[j] (m - x[j])
//   top k   = the k largest x[j], logprob = (x[j] - m) - log s
//
// The entropy's sum has only terms >= 0 (no lse - sum p x cancellation), and m - x[j] is
// clamped at 88, past which e[j] is 0, so that a -inf logit adds 0 (PyTorch's entr(0) = 0)
// rather than 0 * inf.
// Order of the top k and the argmax: by value, largest first, NaN above everything (as
// torch.argmax), ties to the lowest index. Pass 1 selects them with a sorted buffer of k
// (a heap for k > SORTED_MAX_K) that a 16-wide compare against the k-th value keeps out of
// the way, starting from a floor that the k-th value is known not to be below (the least of
// k slice maxima, one quick max pass): m and the argmax are its first entry. Pass 2 is the
// exp-sum with the entropy sum.
// Ignored rows get nll 0 but their entropy, argmax and top k like any other row.

import { SUM_BLOCK, at, hsum } from '../math/lanes';
import { rowMax } from './rmax';
import { expMinus, expMinusScalar, madd } from '../math/exp';
import { EVALUATE_SMALL_CLASSES, evaluateRows4 } from './evaluate-rows4';

// Above this k, insertion into a sorted buffer (up to k moves) gives way to a heap (2 log2 k
// compares), which also bounds the worst case (k = classes, ascending rows) to n log k.
// Measured (random rows of 100, 1000 and 32000 classes): the sorted buffer is as fast or
// faster up to k = 64 (1000 classes: 11.2 against 17.9 ns per logit), even at k = 100.
// @ts-ignore: decorator
@inline const SORTED_MAX_K = 64;
// -(m - x) is clamped here: exp(-88) is below expMinus's flush-to-zero point (-87.34).
// @ts-ignore: decorator
@inline export const SPREAD_FLOOR: f32 = -88.0;
// Its splat, loaded rather than written as a v128.const (see math/exp.ts).
const SPREAD_FLOOR_X4 = memory.data<f32>([SPREAD_FLOOR, SPREAD_FLOOR, SPREAD_FLOOR, SPREAD_FLOOR], 16);

/** sum_j e[j] (x[j] - m), the second result of sumsPass (<= 0). */
let spread: f64 = 0;

/**
 * Evaluates `rows` rows of `classes` logits x against int32 targets. Writes nll[r] (0 where
 * target[r] == ignoreIndex), entropy[r] and argmax[r] (i32); with k > 0 also the k best
 * classes of each row, best first, to topIdx (i32, rows x k) and their log-probabilities to
 * topLogp (rows x k). Preconditions: targets are ignoreIndex or in [0, classes); k <= classes.
 * Rows of 4 to EVALUATE_SMALL_CLASSES classes go four at a time (evaluate-rows4.ts).
 */
export function evaluate(
  x: usize, target: usize, nll: usize, entropy: usize, argmax: usize, topIdx: usize, topLogp: usize,
  rows: i32, classes: i32, ignoreIndex: i32, k: i32,
): void {
  if (classes >= 4 && classes <= EVALUATE_SMALL_CLASSES) {
    evaluateRows4(x, target, nll, entropy, argmax, topIdx, topLogp, rows, classes, ignoreIndex, k);
  } else {
    evaluateRowwise(x, target, nll, entropy, argmax, topIdx, topLogp, rows, classes, ignoreIndex, k);
  }
}

/** evaluate one row at a time, for any row; arguments as evaluate's. */
export function evaluateRowwise(
  x: usize, target: usize, nll: usize, entropy: usize, argmax: usize, topIdx: usize, topLogp: usize,
  rows: i32, classes: i32, ignoreIndex: i32, k: i32,
): void {
  const K = k > 0 ? k : 1;
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * classes);
    // Without a top k, the top 1 is kept in the row's nll and argmax slots (the nll is
    // written last): no static scratch memory, which worker threads would share.
    const vals = k > 0 ? at(topLogp, r * k) : at(nll, r);
    const idxs = k > 0 ? at(topIdx, r * k) : at(argmax, r);
    // Pass 1: the top K, best first; its head is the max and the argmax.
    if (K <= SORTED_MAX_K) selectSorted(row, classes, vals, idxs, K);
    else selectHeap(row, classes, vals, idxs, K);
    const m = load<f32>(vals);
    store<i32>(at(argmax, r), load<i32>(idxs));
    // Pass 2: s and the entropy sum.
    const s = sumsPass(row, classes, m);
    const logS = Math.log(s);
    store<f32>(at(entropy, r), <f32>(logS - spread / s));
    const t = load<i32>(at(target, r));
    store<f32>(at(nll, r), t == ignoreIndex ? 0 : <f32>((<f64>m - <f64>load<f32>(at(row, t))) + logS));
    for (let j = 0; j < k; j++) {
      const p = at(vals, j);
      store<f32>(p, <f32>((<f64>load<f32>(p) - <f64>m) - logS));
    }
  }
}

/** v ranks above w: larger, or NaN where w is not (NaN counts as the largest value). */
// @ts-ignore: decorator
@inline function beats(v: f32, w: f32): bool {
  return v > w || (v != v && w == w);
}

/**
 * Puts (v, i) into the sorted buffer at or above `slot`, moving the entries it beats one down;
 * whatever was in `slot` is dropped. Equal values stay behind the ones already there.
 */
// @ts-ignore: decorator
@inline function insertSorted(vals: usize, idxs: usize, slot: i32, v: f32, i: i32): void {
  let j = slot;
  while (j > 0) {
    const w = load<f32>(at(vals, j - 1));
    if (!beats(v, w)) break;
    store<f32>(at(vals, j), w);
    store<i32>(at(idxs, j), load<i32>(at(idxs, j - 1)));
    j--;
  }
  store<f32>(at(vals, j), v);
  store<i32>(at(idxs, j), i);
}

/**
 * Bit j set for each x[j], j < 16, that may rank with w or above: not < w when `orEqual`, else
 * not <= w (larger, or NaN). 0 for most blocks, found with four compares and one all_true.
 */
// @ts-ignore: decorator
@inline function candidatesOf(p: usize, w: f32, orEqual: bool): i32 {
  const vw = f32x4.splat(w);
  const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
  const b0 = orEqual ? f32x4.lt(x0, vw) : f32x4.le(x0, vw), b1 = orEqual ? f32x4.lt(x1, vw) : f32x4.le(x1, vw);
  const b2 = orEqual ? f32x4.lt(x2, vw) : f32x4.le(x2, vw), b3 = orEqual ? f32x4.lt(x3, vw) : f32x4.le(x3, vw);
  if (i32x4.all_true(v128.and(v128.and(b0, b1), v128.and(b2, b3)))) return 0;
  const below = i32x4.bitmask(b0) | (i32x4.bitmask(b1) << 4) | (i32x4.bitmask(b2) << 8) | (i32x4.bitmask(b3) << 12);
  return ~below & 0xFFFF;
}

// selectSorted finds its floor (floorOfBest) when each of the k slices has this many values.
// @ts-ignore: decorator
@inline const FLOOR_MIN_SLICE = 16;

/**
 * A value that the k-th best of x[0 .. n) is not below: the least of the maxima of k slices of
 * the row (k values are at least that good). rowMax may or may not let a NaN win; either way
 * the bound holds: a NaN outranks every number, so a slice whose max comes out NaN is left out
 * (+inf when every slice's is), and one whose NaN lost still has a number below its best.
 */
function floorOfBest(x: usize, n: i32, k: i32): f32 {
  let floor: f32 = Infinity;
  for (let s = 0; s < k; s++) {
    const from = <i32>(<i64>s * n / k), to = <i32>(<i64>(s + 1) * n / k);
    const m = rowMax(at(x, from), to - from);
    if (m < floor) floor = m;
  }
  return floor;
}

/**
 * vals[0 .. k), idxs[0 .. k) = the k best of x[0 .. n), best first; 1 <= k <= n.
 * Values below floorOfBest cannot be among them. Blocks of 16 are compared at once with the
 * floor, and once k values are in, with the k-th best so far; only the values that pass are
 * looked at one at a time: on most rows, a few more than k. (From the first k values' least,
 * the k-th best would rise through about k ln(n / k) insertions, each a mispredicted branch.)
 */
function selectSorted(x: usize, n: i32, vals: usize, idxs: usize, k: i32): void {
  let worst: f32 = n >= FLOOR_MIN_SLICE * k ? floorOfBest(x, n, k) : -Infinity;
  let filled = 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    let candidates = filled < k ? candidatesOf(at(x, i), worst, true) : candidatesOf(at(x, i), worst, false);
    // The k-th best only rises: a value that does not beat it now never will in this block.
    while (candidates != 0) {
      const j = i + ctz(candidates);
      candidates &= candidates - 1;
      const v = load<f32>(at(x, j));
      if (filled < k) {
        insertSorted(vals, idxs, filled++, v, j);
        if (filled == k) worst = load<f32>(at(vals, k - 1));
      } else if (beats(v, worst)) {
        insertSorted(vals, idxs, k - 1, v, j);
        worst = load<f32>(at(vals, k - 1));
      }
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (filled < k) {
      if (v < worst) continue;
      insertSorted(vals, idxs, filled++, v, i);
      if (filled == k) worst = load<f32>(at(vals, k - 1));
    } else if (beats(v, worst)) {
      insertSorted(vals, idxs, k - 1, v, i);
      worst = load<f32>(at(vals, k - 1));
    }
  }
}

/**
 * argmax[r] = the index of row r's largest value (NaN above every number, ties to the lowest
 * index) for r < rows; best holds 4 bytes of scratch.
 */
export function argmaxRows(x: usize, argmax: usize, best: usize, rows: i32, classes: i32): void {
  for (let r = 0; r < rows; r++) selectSorted(at(x, r * classes), classes, best, at(argmax, r), 1);
}

/** (va, ia) ranks below (vb, ib): a smaller value, or an equal one at a higher index. */
// @ts-ignore: decorator
@inline function worse(va: f32, ia: i32, vb: f32, ib: i32): bool {
  return beats(vb, va) || (!beats(va, vb) && ia > ib);
}

/** Restores the heap below j (size entries): the worst entry at the root. */
function siftDown(vals: usize, idxs: usize, j: i32, size: i32): void {
  const v = load<f32>(at(vals, j)), i = load<i32>(at(idxs, j));
  while (true) {
    let c = 2 * j + 1;
    if (c >= size) break;
    let vc = load<f32>(at(vals, c)), ic = load<i32>(at(idxs, c));
    if (c + 1 < size) {
      const vr = load<f32>(at(vals, c + 1)), ir = load<i32>(at(idxs, c + 1));
      if (worse(vr, ir, vc, ic)) { c++; vc = vr; ic = ir; }
    }
    if (!worse(vc, ic, v, i)) break;
    store<f32>(at(vals, j), vc);
    store<i32>(at(idxs, j), ic);
    j = c;
  }
  store<f32>(at(vals, j), v);
  store<i32>(at(idxs, j), i);
}

/**
 * selectSorted for large k: the k best kept in a heap with the worst at the root, then
 * heap-sorted so that the best comes first. O(n + (insertions + k) log k).
 */
function selectHeap(x: usize, n: i32, vals: usize, idxs: usize, k: i32): void {
  for (let i = 0; i < k; i++) {
    store<f32>(at(vals, i), load<f32>(at(x, i)));
    store<i32>(at(idxs, i), i);
  }
  for (let j = (k >> 1) - 1; j >= 0; j--) siftDown(vals, idxs, j, k);
  let worst = load<f32>(vals);
  let i = k;
  for (; i + 16 <= n; i += 16) {
    let candidates = candidatesOf(at(x, i), worst, false);
    while (candidates != 0) {
      const j = i + ctz(candidates);
      candidates &= candidates - 1;
      const v = load<f32>(at(x, j));
      if (beats(v, worst)) {
        store<f32>(vals, v);
        store<i32>(idxs, j);
        siftDown(vals, idxs, 0, k);
        worst = load<f32>(vals);
      }
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (beats(v, worst)) {
      store<f32>(vals, v);
      store<i32>(idxs, i);
      siftDown(vals, idxs, 0, k);
      worst = load<f32>(vals);
    }
  }
  // Heap sort: the root (worst) goes to the end, the heap shrinks, the best is left first.
  for (let end = k - 1; end > 0; end--) {
    const v = load<f32>(at(vals, end)), i = load<i32>(at(idxs, end));
    store<f32>(at(vals, end), load<f32>(vals));
    store<i32>(at(idxs, end), load<i32>(idxs));
    store<f32>(vals, v);
    store<i32>(idxs, i);
    siftDown(vals, idxs, 0, end);
  }
}

/**
 * Returns s = sum_j exp(x[j] - m) and sets spread = sum_j exp(x[j] - m) max(x[j] - m, -88).
 * Loop: 16 per step, 4, then a scalar tail; never reads past n.
 */
// @ts-ignore: decorator
@inline function sumsPass(x: usize, n: i32, m: f32): f64 {
  const vm = f32x4.splat(m), floor = v128.load(SPREAD_FLOOR_X4), zero = f32x4.splat(0);
  let total: f64 = 0, spreadTotal: f64 = 0;
  let i = 0;
  while (i + 16 <= n) {
    const end = min(i + SUM_BLOCK, n - 15);
    let acc = zero, accD = zero;
    for (; i < end; i += 16) {
      const p = at(x, i);
      const d0 = f32x4.sub(v128.load(p), vm), d1 = f32x4.sub(v128.load(p, 16), vm);
      const d2 = f32x4.sub(v128.load(p, 32), vm), d3 = f32x4.sub(v128.load(p, 48), vm);
      const e0 = expMinus(d0), e1 = expMinus(d1), e2 = expMinus(d2), e3 = expMinus(d3);
      acc = f32x4.add(acc, f32x4.add(f32x4.add(e0, e1), f32x4.add(e2, e3)));
      const s01 = madd(e1, f32x4.pmax(d1, floor), f32x4.mul(e0, f32x4.pmax(d0, floor)));
      const s23 = madd(e3, f32x4.pmax(d3, floor), f32x4.mul(e2, f32x4.pmax(d2, floor)));
      accD = f32x4.add(accD, f32x4.add(s01, s23));
    }
    total += <f64>hsum(acc);
    spreadTotal += <f64>hsum(accD);
  }
  let acc = zero, accD = zero;
  for (; i + 4 <= n; i += 4) {
    const d = f32x4.sub(v128.load(at(x, i)), vm);
    const e = expMinus(d);
    acc = f32x4.add(acc, e);
    accD = madd(e, f32x4.pmax(d, floor), accD);
  }
  total += <f64>hsum(acc);
  spreadTotal += <f64>hsum(accD);
  for (; i < n; i++) {
    const d = load<f32>(at(x, i)) - m;
    const e = expMinusScalar(d);
    total += <f64>e;
    // d < floor (a -inf logit included) only where e = 0: the term is 0, not 0 * -inf.
    spreadTotal += <f64>(e * (d < SPREAD_FLOOR ? SPREAD_FLOOR : d));
  }
  spread = spreadTotal;
  return total;
}
