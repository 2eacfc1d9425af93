// Reference cross-entropy, float64: PyTorch's F.cross_entropy for class-index and
// probability targets (weights, ignore_index, label smoothing, 'mean' and 'sum'), plus
// Liger-Kernel's z-loss and soft-capping. Stage by stage as in assembly/kernels/cross-entropy.ts.

import { XentError } from '../errors.js';
import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, float32Of, gradOption, integerOption, numberOption,
  reductionOption, sparseTarget, type Shape,
} from '../options.js';
import { CROSS_ENTROPY_OPTIONS, type CrossEntropyOptions, type CrossEntropyResult } from '../types.js';
import { logitValues, logitsShape, row, rowMax, softcap, sumExp, type FloatArray } from './rows.js';

const OP = 'crossEntropy';

export function crossEntropy(
  input: FloatArray | Uint16Array,
  target: Int32Array | number[] | Float32Array | Float64Array,
  options: CrossEntropyOptions = {},
): CrossEntropyResult<Float64Array> {
  checkOptionKeys(OP, options, CROSS_ENTROPY_OPTIONS);
  const logits = logitValues(OP, input, options.dtype);
  const shape = logitsShape(OP, logits, options.classes);
  const { rows, classes } = shape;
  const reduction = reductionOption(OP, options.reduction, ['mean', 'sum'] as const, 'mean');
  const ignoreIndex = integerOption(OP, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const eps = numberOption(OP, 'labelSmoothing', options.labelSmoothing, 0, { min: 0, max: 1 });
  const zCoef = numberOption(OP, 'zLoss', options.zLoss, 0);
  const cap = numberOption(OP, 'softcap', options.softcap, 0, { min: 0, minOpen: options.softcap !== undefined });
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const weight = options.weight === undefined ? undefined : float32Of(OP, 'weight', options.weight, classes);
  const grad = gradOption(OP, options.grad, rows * classes);
  if (grad === 'inplace' && !(input instanceof Float32Array)) {
    throw new XentError('BAD_OPTION', `${OP}: grad 'inplace' needs Float32Array logits`);
  }
  const w = (c: number) => (weight === undefined ? 1 : weight[c]!);
  let weightTotal = 0;
  for (let c = 0; c < classes; c++) weightTotal += w(c);

  // Per row: the soft-capped logits v, their lse, and what the target asks of them: a
  // distribution over classes q' (label smoothing folded in) and its weighted total.
  const sparse = !(target instanceof Float32Array || target instanceof Float64Array);
  const targetOf = targetReader(target, shape, ignoreIndex, eps);
  // w[c] q'[c]. With class indices only the classes q' puts mass on enter (nll_loss reads
  // w[target] alone), so an unused NaN or infinite weight stays out, as in PyTorch; with
  // probabilities every class enters, and so does 0 * NaN = NaN, as there too.
  const weighted = (q: number[], c: number) => (sparse && q[c] === 0 ? 0 : w(c) * q[c]!);
  const losses = new Float64Array(rows);
  const lse = new Float64Array(rows);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float64Array(rows * classes) : grad === 'inplace' ? (input as Float32Array) : grad;
  let ceSum = 0;
  let zSum = 0;
  let count = 0;
  let denominator = 0; // PyTorch's 'mean' divisor: sum of target weights, or rows for probabilities
  const rowGrads: Array<{ r: number; p: number[]; v: number[]; q: number[]; mass: number; lse: number }> = [];
  for (let r = 0; r < rows; r++) {
    const q = targetOf(r);
    if (q === undefined) continue; // ignored: loss 0, lse 0, gradient 0
    const v = Array.from(row(logits, r, classes), (x) => (cap > 0 ? softcap(x, cap) : x));
    const m = rowMax(v);
    const s = sumExp(v, m);
    const rowLse = m + Math.log(s);
    // -log p[c] = lse - v[c], written (m - v[c]) + log s so that huge logits keep their digits.
    const nll = (c: number) => m - v[c]! + Math.log(s);
    let ce = 0;
    let mass = 0;
    for (let c = 0; c < classes; c++) mass += weighted(q, c);
    if (sparse) {
      // PyTorch: (1 - eps) nll_loss + (eps / C) sum_c w[c] (-log p[c]), the second term only
      // when eps > 0; so eps = 1 with a -inf target logit is 0 * inf = NaN, as there.
      const t = (target as ArrayLike<number>)[r]!;
      ce = (1 - eps) * w(t) * nll(t);
      if (eps > 0) for (let c = 0; c < classes; c++) ce += (eps / classes) * w(c) * nll(c);
    } else {
      // sum_c w[c] q'[c] (-log p[c]) over every class: 0 * -inf is NaN, as in PyTorch.
      for (let c = 0; c < classes; c++) ce += w(c) * q[c]! * nll(c);
    }
    const z = zCoef === 0 ? 0 : zCoef * rowLse * rowLse;
    losses[r] = ce + z;
    lse[r] = rowLse;
    ceSum += ce;
    zSum += z;
    count += 1;
    denominator += sparse ? w((target as ArrayLike<number>)[r]!) : 1;
    rowGrads.push({ r, p: v.map((x) => Math.exp(x - m) / s), v, q, mass, lse: rowLse });
  }
  const mean = reduction === 'mean';
  // No z-loss asked for: its part is 0, also when no row counts (where 'mean' divides by 0).
  const zLoss = zCoef === 0 ? 0 : mean ? zSum / count : zSum;
  const loss = (mean ? ceSum / denominator : ceSum) + zLoss;

  if (gradOut !== undefined) {
    // A 'mean' over target weights summing to 0 is PyTorch's -w[t] / 0 = NaN in every counted row.
    const ceScale = mean && denominator === 0 ? NaN : gradScale / (mean ? denominator : 1);
    const zScale = gradScale / (mean ? count : 1);
    gradOut.fill(0);
    for (const { r, p, v, q, mass, lse: l } of rowGrads) {
      for (let j = 0; j < classes; j++) {
        // d/dv[j] of sum_c w[c] q'[c] (lse - v[c]) is mass p[j] - w[j] q'[j]
        let d = ceScale * (mass * p[j]! - weighted(q, j));
        if (zCoef !== 0) d += zScale * 2 * zCoef * l * p[j]!;
        if (cap > 0) d *= 1 - (v[j]! / cap) ** 2;
        gradOut[r * classes + j] = d;
      }
    }
  }
  return { loss, losses, lse, zLoss, count, ...(gradOut === undefined ? {} : { grad: gradOut }) };
}

/**
 * For row r: undefined when ignored, else q' = (1 - eps) q + eps / C over the classes,
 * q the one-hot of a class index or the given probabilities.
 */
function targetReader(
  target: unknown,
  shape: Shape,
  ignoreIndex: number,
  eps: number,
): (r: number) => number[] | undefined {
  const { rows, classes } = shape;
  if (target instanceof Float32Array || target instanceof Float64Array) {
    if (target.length !== rows * classes) {
      throw new XentError('SHAPE_MISMATCH', `${OP}: probability target has ${target.length} values, expected ${rows * classes}`);
    }
    const probs = target;
    return (r) => Array.from(probs.subarray(r * classes, (r + 1) * classes), (p) => (1 - eps) * p + eps / classes);
  }
  const indices = sparseTarget(OP, target, shape, ignoreIndex);
  return (r) => {
    const t = indices[r]!;
    if (t === ignoreIndex) return undefined;
    return Array.from({ length: classes }, (_, c) => (c === t ? 1 - eps : 0) + eps / classes);
  };
}
