// KL divergence for distillation, KL(softmax(t / T) || softmax(s / T)) per row, as PyTorch's
// kl_div(log_softmax(s / T), log_softmax(t / T), log_target=True): fused, with no log-softmax
// array ever stored.
//
// Per row, with ms, mt the row maxes of the student s and the teacher t, invT = 1 / T and
//
//   ds[j] = (s[j] - ms) / T,  dt[j] = (t[j] - mt) / T       (both <= 0)
//   Ss = sum_j exp(ds[j]),    St = sum_j exp(dt[j]),    A = sum_j exp(dt[j]) (dt[j] - ds[j])
//
// log p_t[j] - log p_s[j] = (dt[j] - ds[j]) - log St + log Ss, and sum_j p_t[j] = 1, so
//
//   loss = A / St + log(Ss / St)
//
// (dt - ds is exactly 0 where s = t: equal rows cost exactly 0). The gradient with respect to
// the student logits is
//
//   dloss/ds[j] = scale (p_s[j] - p_t[j]) / T = (scale invT / Ss) exp(ds[j]) - (scale invT / St) exp(dt[j])
//
// with `scale` carrying the reduction (1 / rows for 'batchmean') and gradScale.
// Passes per row: two row maxes; the two exp-sums and A, storing exp(ds) to the gradient row
// and exp(dt) to a scratch row when a gradient is wanted; then the gradient from the two, with
// no exp: two exps per element, the least that two softmaxes take.
// A teacher logit of -inf gives 0 * -inf = NaN in A, as in PyTorch.
// Accuracy: each gradient entry is within a few ulp of max(p_s[j], p_t[j]) (times the scale):
// where student and teacher agree to below f32 resolution (both put all but 1e-8 of their
// mass on one class) p_s - p_t is 0 here, as in any f32 softmax, not float64's 1e-17.

import { SUM_BLOCK, at, hsum } from '../math/lanes';
import { expMinus, expMinusScalar, madd } from '../math/exp';
import { rowMax } from './rmax';
import { klRows4, tempered, KL_SMALL_CLASSES } from './kl-rows4';

/** St and A of the row, the second and third results of sumsPass. */
let teacherSum: f64 = 0;
let klSum: f64 = 0;

/**
 * KL divergence of `rows` rows of `classes` student logits s from the teacher logits t.
 * Writes losses[r], and the gradient with respect to s to grad when grad != 0 (grad may
 * equal s: in place), using `terms` (rows x classes floats, any values) as scratch then.
 * invT = 1 / T > 0. Rows of 4 to KL_SMALL_CLASSES classes go four at a time (kl-rows4.ts).
 */
export function klDivergence(
  s: usize, t: usize, grad: usize, losses: usize, terms: usize, rows: i32, classes: i32, invT: f32, scale: f32,
): void {
  if (classes >= 4 && classes <= KL_SMALL_CLASSES) klRows4(s, t, grad, losses, terms, rows, classes, invT, scale);
  else klRowwise(s, t, grad, losses, terms, rows, classes, invT, scale);
}

/** klDivergence one row at a time, for any row; arguments as klDivergence's. */
export function klRowwise(
  s: usize, t: usize, grad: usize, losses: usize, terms: usize, rows: i32, classes: i32, invT: f32, scale: f32,
): void {
  const wantGrad = grad != 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    const sr = at(s, o), tr = at(t, o), g = at(grad, o), e = at(terms, o);
    // Pass 1: the two maxes.
    const ms = rowMax(sr, classes);
    const mt = rowMax(tr, classes);
    // Pass 2: Ss, St and A.
    let ss: f64;
    if (invT == 1) {
      ss = wantGrad
        ? sumsPass(sr, tr, g, e, classes, ms, mt, invT, true, true)
        : sumsPass(sr, tr, g, e, classes, ms, mt, invT, false, true);
    } else {
      ss = wantGrad
        ? sumsPass(sr, tr, g, e, classes, ms, mt, invT, true, false)
        : sumsPass(sr, tr, g, e, classes, ms, mt, invT, false, false);
    }
    const st = teacherSum;
    store<f32>(at(losses, r), <f32>(klSum / st + Math.log(ss / st)));
    if (!wantGrad) continue;
    // Pass 3: the gradient, from the exp(ds) and exp(dt) that pass 2 left in g and e.
    const c = <f64>scale * <f64>invT;
    gradPass(g, e, classes, <f32>(c / ss), <f32>(c / st));
  }
}

/**
 * Returns Ss and sets teacherSum = St, klSum = A; stores exp(ds[j]) to g[j] (g may alias s) and
 * exp(dt[j]) to e[j] when `storeTerms`; `unitT` when invT = 1 (see tempered). Loop: 16 per
 * step, 4, then a scalar tail; never reads past n.
 */
// @ts-ignore: decorator
@inline function sumsPass(
  s: usize, t: usize, g: usize, e: usize, n: i32, ms: f32, mt: f32, invT: f32, storeTerms: bool, unitT: bool,
): f64 {
  const vms = f32x4.splat(ms), vmt = f32x4.splat(mt), vinvT = f32x4.splat(invT);
  const zero = f32x4.splat(0);
  let totalS: f64 = 0, totalT: f64 = 0, totalA: f64 = 0;
  let i = 0;
  while (i + 16 <= n) {
    const end = min(i + SUM_BLOCK, n - 15);
    let accS = zero, accT = zero, accA = zero;
    for (; i < end; i += 16) {
      const ps = at(s, i), pt = at(t, i);
      const ds0 = tempered(v128.load(ps), vms, vinvT, unitT);
      const ds1 = tempered(v128.load(ps, 16), vms, vinvT, unitT);
      const ds2 = tempered(v128.load(ps, 32), vms, vinvT, unitT);
      const ds3 = tempered(v128.load(ps, 48), vms, vinvT, unitT);
      const dt0 = tempered(v128.load(pt), vmt, vinvT, unitT);
      const dt1 = tempered(v128.load(pt, 16), vmt, vinvT, unitT);
      const dt2 = tempered(v128.load(pt, 32), vmt, vinvT, unitT);
      const dt3 = tempered(v128.load(pt, 48), vmt, vinvT, unitT);
      const es0 = expMinus(ds0), es1 = expMinus(ds1), es2 = expMinus(ds2), es3 = expMinus(ds3);
      const et0 = expMinus(dt0), et1 = expMinus(dt1), et2 = expMinus(dt2), et3 = expMinus(dt3);
      if (storeTerms) {
        const q = at(g, i), qt = at(e, i);
        v128.store(q, es0); v128.store(q, es1, 16); v128.store(q, es2, 32); v128.store(q, es3, 48);
        v128.store(qt, et0); v128.store(qt, et1, 16); v128.store(qt, et2, 32); v128.store(qt, et3, 48);
      }
      accS = f32x4.add(accS, f32x4.add(f32x4.add(es0, es1), f32x4.add(es2, es3)));
      accT = f32x4.add(accT, f32x4.add(f32x4.add(et0, et1), f32x4.add(et2, et3)));
      const a01 = madd(et1, f32x4.sub(dt1, ds1), f32x4.mul(et0, f32x4.sub(dt0, ds0)));
      const a23 = madd(et3, f32x4.sub(dt3, ds3), f32x4.mul(et2, f32x4.sub(dt2, ds2)));
      accA = f32x4.add(accA, f32x4.add(a01, a23));
    }
    totalS += <f64>hsum(accS);
    totalT += <f64>hsum(accT);
    totalA += <f64>hsum(accA);
  }
  let accS = zero, accT = zero, accA = zero;
  for (; i + 4 <= n; i += 4) {
    const ds = tempered(v128.load(at(s, i)), vms, vinvT, unitT);
    const dt = tempered(v128.load(at(t, i)), vmt, vinvT, unitT);
    const es = expMinus(ds), et = expMinus(dt);
    if (storeTerms) {
      v128.store(at(g, i), es);
      v128.store(at(e, i), et);
    }
    accS = f32x4.add(accS, es);
    accT = f32x4.add(accT, et);
    accA = madd(et, f32x4.sub(dt, ds), accA);
  }
  totalS += <f64>hsum(accS);
  totalT += <f64>hsum(accT);
  totalA += <f64>hsum(accA);
  for (; i < n; i++) {
    const ds = (load<f32>(at(s, i)) - ms) * invT;
    const dt = (load<f32>(at(t, i)) - mt) * invT;
    const es = expMinusScalar(ds), et = expMinusScalar(dt);
    if (storeTerms) {
      store<f32>(at(g, i), es);
      store<f32>(at(e, i), et);
    }
    totalS += <f64>es;
    totalT += <f64>et;
    totalA += <f64>(et * (dt - ds));
  }
  teacherSum = totalT;
  klSum = totalA;
  return totalS;
}

/** g[j] = cs g[j] - ct e[j] in place, with g[j] = exp(ds[j]) and e[j] = exp(dt[j]) from sumsPass. */
// @ts-ignore: decorator
@inline function gradPass(g: usize, e: usize, n: i32, cs: f32, ct: f32): void {
  const vcs = f32x4.splat(cs), vct = f32x4.splat(ct);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(g, i), pe = at(e, i);
    v128.store(p, f32x4.sub(f32x4.mul(vcs, v128.load(p)), f32x4.mul(vct, v128.load(pe))));
    v128.store(p, f32x4.sub(f32x4.mul(vcs, v128.load(p, 16)), f32x4.mul(vct, v128.load(pe, 16))), 16);
    v128.store(p, f32x4.sub(f32x4.mul(vcs, v128.load(p, 32)), f32x4.mul(vct, v128.load(pe, 32))), 32);
    v128.store(p, f32x4.sub(f32x4.mul(vcs, v128.load(p, 48)), f32x4.mul(vct, v128.load(pe, 48))), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const p = at(g, i);
    v128.store(p, f32x4.sub(f32x4.mul(vcs, v128.load(p)), f32x4.mul(vct, v128.load(at(e, i)))));
  }
  for (; i < n; i++) store<f32>(at(g, i), cs * load<f32>(at(g, i)) - ct * load<f32>(at(e, i)));
}
