// Cross-entropy for short rows, four at a time: the path crossEntropy (cross-entropy.ts) takes for
// classes <= SMALL_CLASSES when there is no soft-capping and no label smoothing.
//
// The math of cross-entropy.ts with eps = 0 and no cap. Per counted row, with x its logits, t its
// target, m = max_j x[j], e[j] = exp(x[j] - m), s = sum_j e[j] and lse = m + log s:
//
//   loss = w[t] ((m - x[t]) + log s)
//   dloss/dx[j] = (c + z) e[j] / s                      (j != t)
//   dloss/dx[t] = z e[t] / s - c rest / s,   rest = sum_{j != t} e[j]
//
// with c = ceScale w[t] and z = zScale 2 zLoss lse. rest is summed with the target's term
// masked out, never taken as s - e[t], so the target's gradient -c (1 - p[t]) keeps its
// digits when p[t] is near 1.
//
// Why a second path: at V = 10 the row-at-a-time kernel spends more on each row's fixed
// costs (scalar tails, horizontal sums, an f64 log, branches) than on the row's ten exps.
// Here lane r of every per-row quantity (m, s, rest, lse, loss, the gradient's scales)
// belongs to row r of a group of four, so one f32x4 log and one store of losses serve four
// rows. The passes walk each row in 4-wide blocks, keeping four lanes of partial max and sum
// per row, and a 4x4 transpose of the four rows' partials finishes the reductions (measured
// against building column vectors of the four rows by lane loads at V = 10: about as fast
// forward, 1.7x faster forward + backward). The last block of a row ends at the row's end and
// so overlaps the one before unless 4 | V; its repeated lanes are masked out of the sums: no
// scalar tail. With V < 4 no block fits in a row, and column j of the four rows is gathered
// lane by lane instead (narrowRows).
//
// Every row takes this path, rows % 4 included: past the last row, a group's lanes repeat
// the last row, compute its values again and store the same bits to the same places. Each
// lane's arithmetic is the same whatever its lane, so a row's results do not depend on where
// it sits, and splitting the rows (threads, chunks) changes no bit. Every block a pass
// stores to was loaded, for all four lanes, before the first store, so repeated rows and
// g = x (in place) are safe. Nothing outside the given rows is read or written. Ignored rows
// are read with the others but every result of theirs is replaced: loss and lse 0, gradient
// row +0.
//
// Accuracy: sums of e in f32 (V / 4 terms per lane, the reason for SMALL_CLASSES' bound);
// the last steps in f32 where cross-entropy.ts uses f64: log s to 0.83 ulp (math/log.ts), loss and
// lse to a few ulp, gradients to a few ulp of the largest. NaN and infinities come out as
// in cross-entropy.ts: a NaN logit or a +inf one, or a row of -inf, make the row's loss and gradient
// NaN; a -inf target logit costs +inf; a -inf elsewhere is a class with probability 0 and
// gradient 0.

import { IOTA, at, gather4, lane0, lane1, lane2, lane3, max4, scatter4, sum4 } from '../math/lanes';
import { expMinus, vconst, K } from '../math/exp';
import { log1pOf } from '../math/log';

/**
 * Rows of at most this many classes go four at a time through crossEntropyRows4.
 * Measured (raw kernel, min of 2 x 60 runs or more, node 20 on x86-64, ns per element,
 * forward / forward + backward, row at a time -> four at a time, baseline build):
 *   V = 10: 4.8 / 6.3 -> 1.2 / 1.7       V = 32: 1.8 / 2.5 -> 0.84 / 1.14
 *   V = 128: 0.99 / 1.42 -> 0.78 / 0.93  V = 256: 0.88 / 1.17 -> 0.76 / 0.92
 * (relaxed build alike), and a build allowed up to V = 2048 was no slower there either. So
 * the bound is accuracy, not speed: each lane sums V / 4 terms in f32 with no f64 blocking,
 * and V = 256 keeps that to the 64 terms per lane that rowSumExp (sumexp.ts) allows itself.
 */
// @ts-ignore: decorator
@inline export const SMALL_CLASSES: i32 = 256;

/**
 * crossEntropy over all `rows` rows, four at a time. Arguments as crossEntropy's;
 * 1 <= classes <= SMALL_CLASSES, no cap or smoothing.
 */
export function crossEntropyRows4(
  x: usize, target: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, ignoreIndex: i32, zLoss: f32, ceScale: f64, zScale: f64,
): void {
  if (classes >= 4) {
    if (grad != 0) wideRows(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, zLoss, ceScale, zScale, true);
    else wideRows(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, zLoss, ceScale, zScale, false);
  } else {
    if (grad != 0) narrowRows(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, zLoss, ceScale, zScale, true);
    else narrowRows(x, target, weight, grad, losses, lses, rows, classes, ignoreIndex, zLoss, ceScale, zScale, false);
  }
}

/** exp(x - m) for the block of four logits at p. */
// @ts-ignore: decorator
@inline function expBlock(p: usize, m: v128): v128 {
  return expMinus(f32x4.sub(v128.load(p), m));
}

/** The gradient of a block of e: e k, or +0 in an ignored row (whose e may be NaN). */
// @ts-ignore: decorator
@inline function scaled(e: v128, k: v128, ignored: v128): v128 {
  return v128.andnot(f32x4.mul(e, k), ignored);
}

/** acc plus the lanes of e that are not the target: lane l of a block at col is col + l. */
// @ts-ignore: decorator
@inline function addOthers(acc: v128, e: v128, col: v128, targetMinusLane: v128): v128 {
  return f32x4.add(acc, v128.andnot(e, i32x4.eq(col, targetMinusLane)));
}

/**
 * The four rows' losses and lses (0 where ignored), from their max m, sum s, target logit
 * xt and target weight wt, to rows r0, r1, r2, r3 (`full`: r0 .. r0 + 3); returns lse.
 */
// @ts-ignore: decorator
@inline function storeLosses(
  losses: usize, lses: usize, r0: i32, r1: i32, r2: i32, r3: i32, full: bool,
  m: v128, s: v128, xt: v128, wt: v128, ignored: v128,
): v128 {
  // log s as log1p(s - 1): s >= 1 (the max's own term is exp(0) = 1) or NaN, so s - 1 and
  // 1 + (s - 1) are exact, log1pOf's correction term is 0 (hence no 1 / u), and this is
  // logAny(s) without its tests for zero, subnormal, infinite and negative input.
  const logS = log1pOf(f32x4.sub(s, vconst(K.ONE)), s, f32x4.splat(0));
  const lse = f32x4.add(m, logS);
  // (m - x[t]) + log s rather than lse - x[t]: huge logits keep their digits.
  const loss = v128.andnot(f32x4.mul(wt, f32x4.add(f32x4.sub(m, xt), logS)), ignored);
  const lseOut = v128.andnot(lse, ignored);
  if (full) {
    v128.store(at(losses, r0), loss);
    v128.store(at(lses, r0), lseOut);
  } else {
    scatter4(at(losses, r0), at(losses, r1), at(losses, r2), at(losses, r3), loss);
    scatter4(at(lses, r0), at(lses, r1), at(lses, r2), at(lses, r3), lseOut);
  }
  return lse;
}

/** Rows of classes >= 4, in groups of four; see the header. */
// @ts-ignore: decorator
@inline function wideRows(
  x: usize, target: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, ignoreIndex: i32, zLoss: f32, ceScale: f64, zScale: f64,
  wantGrad: bool,
): void {
  // Byte offset of the last block, which ends at the row's end.
  const last = (<usize>classes << 2) - 16;
  const iota = v128.load(IOTA);
  // Lanes of the last block that the block before it did not cover.
  const fresh = i32x4.ge_s(iota, i32x4.splat(-classes & 3));
  const vIgnore = i32x4.splat(ignoreIndex);
  const zero = f32x4.splat(0);
  const weighted = weight != 0;
  const cScale = <f32>ceScale;
  const zCoef = <f32>(zScale * 2 * <f64>zLoss);
  const withZ = zLoss != 0;
  const lastRow = rows - 1;

  for (let r0 = 0; r0 < rows; r0 += 4) {
    // Past the last row, lanes repeat it (see the header).
    const full = r0 + 4 <= rows;
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const p0 = at(x, r0 * classes), p1 = at(x, r1 * classes);
    const p2 = at(x, r2 * classes), p3 = at(x, r3 * classes);
    const tv = gather4(at(target, r0), at(target, r1), at(target, r2), at(target, r3));
    const ignored = i32x4.eq(tv, vIgnore);
    // Ignored rows look at column 0 instead of an index that may be out of range; whatever
    // they find there is masked out.
    const t = v128.andnot(tv, ignored);
    const c0 = i32x4.extract_lane(t, 0), c1 = i32x4.extract_lane(t, 1);
    const c2 = i32x4.extract_lane(t, 2), c3 = i32x4.extract_lane(t, 3);
    const xt = gather4(at(p0, c0), at(p1, c1), at(p2, c2), at(p3, c3));
    const wt = weighted ? gather4(at(weight, c0), at(weight, c1), at(weight, c2), at(weight, c3)) : vconst(K.ONE);

    // Pass 1: the max, four lanes per row; the last block first, then the others.
    let m0 = v128.load(p0 + last), m1 = v128.load(p1 + last);
    let m2 = v128.load(p2 + last), m3 = v128.load(p3 + last);
    for (let o: usize = 0; o < last; o += 16) {
      m0 = f32x4.pmax(m0, v128.load(p0 + o));
      m1 = f32x4.pmax(m1, v128.load(p1 + o));
      m2 = f32x4.pmax(m2, v128.load(p2 + o));
      m3 = f32x4.pmax(m3, v128.load(p3 + o));
    }
    const m = max4(m0, m1, m2, m3);
    const mb0 = lane0(m), mb1 = lane1(m), mb2 = lane2(m), mb3 = lane3(m);

    // Pass 2: the sums of e = exp(x - m), storing e to the gradient rows. Blocks clear of
    // the last one in the loop; then the block overlapping it (if any) and the last one.
    const g0 = wantGrad ? at(grad, r0 * classes) : 0, g1 = wantGrad ? at(grad, r1 * classes) : 0;
    const g2 = wantGrad ? at(grad, r2 * classes) : 0, g3 = wantGrad ? at(grad, r3 * classes) : 0;
    let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
    let o: usize = 0;
    for (; o + 16 <= last; o += 16) {
      const e0 = expBlock(p0 + o, mb0), e1 = expBlock(p1 + o, mb1);
      const e2 = expBlock(p2 + o, mb2), e3 = expBlock(p3 + o, mb3);
      s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
      s2 = f32x4.add(s2, e2); s3 = f32x4.add(s3, e3);
      if (wantGrad) {
        v128.store(g0 + o, e0); v128.store(g1 + o, e1);
        v128.store(g2 + o, e2); v128.store(g3 + o, e3);
      }
    }
    const overlap = o < last;
    const eb0 = expBlock(p0 + last, mb0), eb1 = expBlock(p1 + last, mb1);
    const eb2 = expBlock(p2 + last, mb2), eb3 = expBlock(p3 + last, mb3);
    if (overlap) {
      const ea0 = expBlock(p0 + o, mb0), ea1 = expBlock(p1 + o, mb1);
      const ea2 = expBlock(p2 + o, mb2), ea3 = expBlock(p3 + o, mb3);
      s0 = f32x4.add(s0, ea0); s1 = f32x4.add(s1, ea1);
      s2 = f32x4.add(s2, ea2); s3 = f32x4.add(s3, ea3);
      if (wantGrad) {
        v128.store(g0 + o, ea0); v128.store(g1 + o, ea1);
        v128.store(g2 + o, ea2); v128.store(g3 + o, ea3);
      }
    }
    if (wantGrad) {
      v128.store(g0 + last, eb0); v128.store(g1 + last, eb1);
      v128.store(g2 + last, eb2); v128.store(g3 + last, eb3);
    }
    s0 = f32x4.add(s0, v128.and(eb0, fresh)); s1 = f32x4.add(s1, v128.and(eb1, fresh));
    s2 = f32x4.add(s2, v128.and(eb2, fresh)); s3 = f32x4.add(s3, v128.and(eb3, fresh));
    const s = sum4(s0, s1, s2, s3);
    const lse = storeLosses(losses, lses, r0, r1, r2, r3, full, m, s, xt, wt, ignored);
    if (!wantGrad) continue;

    // Pass 3: g = (c + z) e / s in place of e, zero in ignored rows, summing rest = the e
    // of every column but the target's on the way; then the target's own gradient.
    const et = gather4(at(g0, c0), at(g1, c1), at(g2, c2), at(g3, c3));
    const c = f32x4.mul(f32x4.splat(cScale), wt);
    const z = withZ ? f32x4.mul(f32x4.splat(zCoef), lse) : zero;
    const scale = f32x4.div(f32x4.add(c, z), s);
    const k0 = lane0(scale), k1 = lane1(scale), k2 = lane2(scale), k3 = lane3(scale);
    const i0 = lane0(ignored), i1 = lane1(ignored), i2 = lane2(ignored), i3 = lane3(ignored);
    // Lane l of a block at column j is the target where j == t - l.
    const tl0 = i32x4.sub(lane0(t), iota), tl1 = i32x4.sub(lane1(t), iota);
    const tl2 = i32x4.sub(lane2(t), iota), tl3 = i32x4.sub(lane3(t), iota);
    let q0 = zero, q1 = zero, q2 = zero, q3 = zero;
    o = 0;
    for (; o + 16 <= last; o += 16) {
      const col = i32x4.splat(<i32>(o >> 2));
      const e0 = v128.load(g0 + o), e1 = v128.load(g1 + o);
      const e2 = v128.load(g2 + o), e3 = v128.load(g3 + o);
      v128.store(g0 + o, scaled(e0, k0, i0)); v128.store(g1 + o, scaled(e1, k1, i1));
      v128.store(g2 + o, scaled(e2, k2, i2)); v128.store(g3 + o, scaled(e3, k3, i3));
      q0 = addOthers(q0, e0, col, tl0); q1 = addOthers(q1, e1, col, tl1);
      q2 = addOthers(q2, e2, col, tl2); q3 = addOthers(q3, e3, col, tl3);
    }
    const fb0 = v128.load(g0 + last), fb1 = v128.load(g1 + last);
    const fb2 = v128.load(g2 + last), fb3 = v128.load(g3 + last);
    if (overlap) {
      const col = i32x4.splat(<i32>(o >> 2));
      const e0 = v128.load(g0 + o), e1 = v128.load(g1 + o);
      const e2 = v128.load(g2 + o), e3 = v128.load(g3 + o);
      v128.store(g0 + o, scaled(e0, k0, i0)); v128.store(g1 + o, scaled(e1, k1, i1));
      v128.store(g2 + o, scaled(e2, k2, i2)); v128.store(g3 + o, scaled(e3, k3, i3));
      q0 = addOthers(q0, e0, col, tl0); q1 = addOthers(q1, e1, col, tl1);
      q2 = addOthers(q2, e2, col, tl2); q3 = addOthers(q3, e3, col, tl3);
    }
    v128.store(g0 + last, scaled(fb0, k0, i0)); v128.store(g1 + last, scaled(fb1, k1, i1));
    v128.store(g2 + last, scaled(fb2, k2, i2)); v128.store(g3 + last, scaled(fb3, k3, i3));
    const colB = i32x4.splat(<i32>(last >> 2));
    q0 = addOthers(q0, v128.and(fb0, fresh), colB, tl0); q1 = addOthers(q1, v128.and(fb1, fresh), colB, tl1);
    q2 = addOthers(q2, v128.and(fb2, fresh), colB, tl2); q3 = addOthers(q3, v128.and(fb3, fresh), colB, tl3);
    const rest = sum4(q0, q1, q2, q3);
    // z p[t] - c (1 - p[t]) with 1 - p[t] = rest / s: no cancellation near p[t] = 1.
    const gt = f32x4.sub(f32x4.mul(z, f32x4.div(et, s)), f32x4.mul(c, f32x4.div(rest, s)));
    // An ignored row's lane writes 0 to its column 0, already 0.
    scatter4(at(g0, c0), at(g1, c1), at(g2, c2), at(g3, c3), v128.andnot(gt, ignored));
  }
}

/**
 * Rows of classes < 4 (correct for any classes >= 1), in groups of four as wideRows: lane r
 * holds row r, and column j of the four rows is gathered and scattered lane by lane.
 */
// @ts-ignore: decorator
@inline function narrowRows(
  x: usize, target: usize, weight: usize, grad: usize, losses: usize, lses: usize,
  rows: i32, classes: i32, ignoreIndex: i32, zLoss: f32, ceScale: f64, zScale: f64,
  wantGrad: bool,
): void {
  const vIgnore = i32x4.splat(ignoreIndex);
  const zero = f32x4.splat(0);
  const weighted = weight != 0;
  const cScale = <f32>ceScale;
  const zCoef = <f32>(zScale * 2 * <f64>zLoss);
  const withZ = zLoss != 0;
  const lastRow = rows - 1;

  for (let r0 = 0; r0 < rows; r0 += 4) {
    const full = r0 + 4 <= rows;
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const p0 = at(x, r0 * classes), p1 = at(x, r1 * classes);
    const p2 = at(x, r2 * classes), p3 = at(x, r3 * classes);
    const g0 = wantGrad ? at(grad, r0 * classes) : 0, g1 = wantGrad ? at(grad, r1 * classes) : 0;
    const g2 = wantGrad ? at(grad, r2 * classes) : 0, g3 = wantGrad ? at(grad, r3 * classes) : 0;
    const tv = gather4(at(target, r0), at(target, r1), at(target, r2), at(target, r3));
    const ignored = i32x4.eq(tv, vIgnore);
    const t = v128.andnot(tv, ignored);
    const wt = weighted
      ? gather4(at(weight, i32x4.extract_lane(t, 0)), at(weight, i32x4.extract_lane(t, 1)),
                at(weight, i32x4.extract_lane(t, 2)), at(weight, i32x4.extract_lane(t, 3)))
      : vconst(K.ONE);

    let m = gather4(p0, p1, p2, p3);
    for (let j = 1; j < classes; j++) m = f32x4.pmax(m, gather4(at(p0, j), at(p1, j), at(p2, j), at(p3, j)));

    // e, s, the target's logit and e, and rest, column by column; the target's by mask.
    let s = zero, rest = zero, xt = zero, et = zero;
    for (let j = 0; j < classes; j++) {
      const v = gather4(at(p0, j), at(p1, j), at(p2, j), at(p3, j));
      const e = expMinus(f32x4.sub(v, m));
      const isT = i32x4.eq(i32x4.splat(j), t);
      s = f32x4.add(s, e);
      xt = v128.bitselect(v, xt, isT);
      if (wantGrad) {
        rest = f32x4.add(rest, v128.andnot(e, isT));
        et = v128.bitselect(e, et, isT);
        scatter4(at(g0, j), at(g1, j), at(g2, j), at(g3, j), e);
      }
    }
    const lse = storeLosses(losses, lses, r0, r1, r2, r3, full, m, s, xt, wt, ignored);
    if (!wantGrad) continue;

    const c = f32x4.mul(f32x4.splat(cScale), wt);
    const z = withZ ? f32x4.mul(f32x4.splat(zCoef), lse) : zero;
    const scale = f32x4.div(f32x4.add(c, z), s);
    // z p[t] - c (1 - p[t]) with 1 - p[t] = rest / s, as in wideRows.
    const gt = f32x4.sub(f32x4.mul(z, f32x4.div(et, s)), f32x4.mul(c, f32x4.div(rest, s)));
    for (let j = 0; j < classes; j++) {
      const e = gather4(at(g0, j), at(g1, j), at(g2, j), at(g3, j));
      const isT = i32x4.eq(i32x4.splat(j), t);
      scatter4(at(g0, j), at(g1, j), at(g2, j), at(g3, j), v128.andnot(v128.bitselect(gt, f32x4.mul(e, scale), isT), ignored));
    }
  }
}
