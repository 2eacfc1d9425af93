// KL divergence for short rows, four at a time: the path klDivergence (kl.ts) takes for
// 4 <= classes <= KL_SMALL_CLASSES.
//
// The math of kl.ts (loss = A / St + log(Ss / St), gradient cs exp(ds) - ct exp(dt)); the
// layout of cross-entropy-rows4.ts, for the same reason: at V = 10 a row's fixed costs (scalar
// tails, horizontal sums in f64, an f64 log and divisions) outweigh its twenty exps. Lane r
// of every per-row quantity (the maxes, Ss, St, A, the loss, the gradient's two scales)
// belongs to row r of a group of four, so one f32x4 log serves four rows. Each row is walked
// in 4-wide blocks, the last of which ends at the row's end (its lanes that the block before
// covered are masked out of the sums), so there is no scalar tail.
//
// The rows of a group are walked one after the other, each block of a row loaded before any
// store to it (g may be s). A group past the last row repeats that row in its spare lanes,
// whose values are those of the row itself; only the group's real rows are walked in the
// passes that store, so none is transformed twice. Each lane's arithmetic is the same
// whatever its lane: splitting the rows (threads, chunks) changes no bit.
//
// Accuracy: lane sums of V / 4 <= 16 terms in f32 (cross-entropy-rows4.ts allows 64); the loss finished in
// f32 (log Ss - log St, each within 0.83 ulp by math/log.ts, plus A / St), where kl.ts uses f64:
// a few ulp of the larger of |log Ss|, |log St| <= log V and |A / St|.

import { IOTA, at, lane0, lane1, lane2, lane3, max4, scatter4, sum4 } from '../math/lanes';
import { expMinus, madd, vconst, K } from '../math/exp';
import { log1pOf } from '../math/log';
import { rowMax4 } from './rmax';

/**
 * Rows of 4 to this many classes go four at a time. Measured (fwd+bwd through the engine,
 * plain arrays, ns per element, row at a time -> four at a time, node 20 on x86-64):
 *   V = 10: 10.2 -> 4.2    V = 32: 4.0 -> 2.8    V = 48: 3.6 -> 3.1    V = 64: 3.3 -> 3.0
 *   V = 96: 2.86 -> 2.83   V = 128: 2.53 -> 2.57    V = 256: 2.29 -> 2.61
 * Past 64 the row-at-a-time kernel's four exp chains in flight (16 per step) win.
 */
// @ts-ignore: decorator
@inline export const KL_SMALL_CLASSES: i32 = 64;

// One row's four lanes of Ss, St and A, left by rowSums.
let sumS: v128 = f32x4(0, 0, 0, 0);
let sumT: v128 = f32x4(0, 0, 0, 0);
let sumA: v128 = f32x4(0, 0, 0, 0);

/**
 * klDivergence over all `rows` rows, four at a time. Arguments as klDivergence's;
 * 4 <= classes <= KL_SMALL_CLASSES.
 */
export function klRows4(
  s: usize, t: usize, grad: usize, losses: usize, terms: usize, rows: i32, classes: i32, invT: f32, scale: f32,
): void {
  if (invT == 1) {
    if (grad != 0) groups(s, t, grad, losses, terms, rows, classes, invT, scale, true, true);
    else groups(s, t, grad, losses, terms, rows, classes, invT, scale, false, true);
  } else if (grad != 0) groups(s, t, grad, losses, terms, rows, classes, invT, scale, true, false);
  else groups(s, t, grad, losses, terms, rows, classes, invT, scale, false, false);
}

/** (v - m) / T, as (v - m) invT; at T = 1 without the multiply, which would change no bit. */
// @ts-ignore: decorator
@inline export function tempered(v: v128, m: v128, invT: v128, unitT: bool): v128 {
  const d = f32x4.sub(v, m);
  return unitT ? d : f32x4.mul(d, invT);
}

// @ts-ignore: decorator
@inline function groups(
  s: usize, t: usize, grad: usize, losses: usize, terms: usize, rows: i32, classes: i32, invT: f32, scale: f32,
  wantGrad: bool, unitT: bool,
): void {
  // Byte offset of the last block, which ends at the row's end.
  const last = (<usize>classes << 2) - 16;
  // Lanes of the last block that the block before it did not cover.
  const fresh = i32x4.ge_s(v128.load(IOTA), i32x4.splat(-classes & 3));
  const vinvT = f32x4.splat(invT);
  const c = f32x4.splat(<f32>(<f64>scale * <f64>invT));
  const lastRow = rows - 1;

  for (let r0 = 0; r0 < rows; r0 += 4) {
    const n = min(4, rows - r0);
    const r1 = min(r0 + 1, lastRow), r2 = min(r0 + 2, lastRow), r3 = min(r0 + 3, lastRow);
    const s0 = at(s, r0 * classes), s1 = at(s, r1 * classes), s2 = at(s, r2 * classes), s3 = at(s, r3 * classes);
    const t0 = at(t, r0 * classes), t1 = at(t, r1 * classes), t2 = at(t, r2 * classes), t3 = at(t, r3 * classes);
    const g0 = at(grad, r0 * classes), g1 = at(grad, r1 * classes), g2 = at(grad, r2 * classes), g3 = at(grad, r3 * classes);
    const e0 = at(terms, r0 * classes), e1 = at(terms, r1 * classes), e2 = at(terms, r2 * classes), e3 = at(terms, r3 * classes);

    // Pass 1: the maxes, four lanes per row.
    const ms = max4(rowMax4(s0, last), rowMax4(s1, last), rowMax4(s2, last), rowMax4(s3, last));
    const mt = max4(rowMax4(t0, last), rowMax4(t1, last), rowMax4(t2, last), rowMax4(t3, last));

    // Pass 2: Ss, St and A, storing exp(ds) to g and exp(dt) to e; a spare lane keeps the
    // sums of the row it repeats, the last one walked.
    rowSums(s0, t0, g0, e0, last, lane0(ms), lane0(mt), vinvT, fresh, wantGrad, unitT);
    const sS0 = sumS, sT0 = sumT, sA0 = sumA;
    if (n > 1) rowSums(s1, t1, g1, e1, last, lane1(ms), lane1(mt), vinvT, fresh, wantGrad, unitT);
    const sS1 = sumS, sT1 = sumT, sA1 = sumA;
    if (n > 2) rowSums(s2, t2, g2, e2, last, lane2(ms), lane2(mt), vinvT, fresh, wantGrad, unitT);
    const sS2 = sumS, sT2 = sumT, sA2 = sumA;
    if (n > 3) rowSums(s3, t3, g3, e3, last, lane3(ms), lane3(mt), vinvT, fresh, wantGrad, unitT);
    const ss = sum4(sS0, sS1, sS2, sumS), st = sum4(sT0, sT1, sT2, sumT), a = sum4(sA0, sA1, sA2, sumA);

    // Ss, St >= 1 (each max's own term is exp(0) = 1) or NaN: log as in cross-entropy-rows4.ts.
    const zero = f32x4.splat(0), one = vconst(K.ONE);
    const logRatio = f32x4.sub(log1pOf(f32x4.sub(ss, one), ss, zero), log1pOf(f32x4.sub(st, one), st, zero));
    const loss = f32x4.add(f32x4.div(a, st), logRatio);
    if (n == 4) v128.store(at(losses, r0), loss);
    else scatter4(at(losses, r0), at(losses, r1), at(losses, r2), at(losses, r3), loss);
    if (!wantGrad) continue;

    // Pass 3: g = cs g - ct e, with cs = c / Ss and ct = c / St per row.
    const cs = f32x4.div(c, ss), ct = f32x4.div(c, st);
    rowGrad(g0, e0, last, lane0(cs), lane0(ct));
    if (n > 1) rowGrad(g1, e1, last, lane1(cs), lane1(ct));
    if (n > 2) rowGrad(g2, e2, last, lane2(cs), lane2(ct));
    if (n > 3) rowGrad(g3, e3, last, lane3(cs), lane3(ct));
  }
}

/** One row's pass 2 (see groups), to sumS, sumT and sumA; ms and mt splat. */
// @ts-ignore: decorator
@inline function rowSums(
  s: usize, t: usize, g: usize, e: usize, last: usize, ms: v128, mt: v128, invT: v128, fresh: v128, storeTerms: bool, unitT: bool,
): void {
  // The last block first: the block before it may overlap it, and g may be s.
  const dsL = tempered(v128.load(s + last), ms, invT, unitT);
  const dtL = tempered(v128.load(t + last), mt, invT, unitT);
  const esL = expMinus(dsL), etL = expMinus(dtL);
  let accS = v128.and(esL, fresh), accT = v128.and(etL, fresh);
  let accA = v128.and(f32x4.mul(etL, f32x4.sub(dtL, dsL)), fresh);
  for (let o: usize = 0; o < last; o += 16) {
    const ds = tempered(v128.load(s + o), ms, invT, unitT);
    const dt = tempered(v128.load(t + o), mt, invT, unitT);
    const es = expMinus(ds), et = expMinus(dt);
    if (storeTerms) {
      v128.store(g + o, es);
      v128.store(e + o, et);
    }
    accS = f32x4.add(accS, es);
    accT = f32x4.add(accT, et);
    accA = madd(et, f32x4.sub(dt, ds), accA);
  }
  if (storeTerms) {
    v128.store(g + last, esL);
    v128.store(e + last, etL);
  }
  sumS = accS;
  sumT = accT;
  sumA = accA;
}

/** One row's pass 3: g = cs g - ct e in place; cs and ct splat. */
// @ts-ignore: decorator
@inline function rowGrad(g: usize, e: usize, last: usize, cs: v128, ct: v128): void {
  // The last block's values first, for the reason rowSums gives.
  const gL = f32x4.sub(f32x4.mul(cs, v128.load(g + last)), f32x4.mul(ct, v128.load(e + last)));
  for (let o: usize = 0; o < last; o += 16) {
    v128.store(g + o, f32x4.sub(f32x4.mul(cs, v128.load(g + o)), f32x4.mul(ct, v128.load(e + o))));
  }
  v128.store(g + last, gL);
}
