// Reference binary cross-entropy with logits, float64: PyTorch's
// binary_cross_entropy_with_logits (per-element weight, scalar or per-class pos_weight, 'mean'
// over all elements and 'sum'). Stage by stage as in assembly/kernels/bce.ts; targets outside
// [0, 1] are refused (see src/ops/bce.ts).

import { XentError } from '../errors.js';
import {
  checkOptionKeys, flatElementShape, floatsOf, gradOption, numberOption, posWeightOption, reductionOption, unitTarget,
  type ElementShape,
} from '../options.js';
import { BINARY_CROSS_ENTROPY_OPTIONS, type BinaryCrossEntropyOptions, type LossResult } from '../types.js';
import { logitsShape, type FloatArray } from './rows.js';

const OP = 'binaryCrossEntropy';

export function binaryCrossEntropy(
  logits: FloatArray,
  target: FloatArray,
  options: BinaryCrossEntropyOptions<FloatArray> = {},
): LossResult<Float64Array> {
  checkOptionKeys(OP, options, BINARY_CROSS_ENTROPY_OPTIONS);
  const shape = elementwiseShape(OP, logits, options.classes);
  const weight = options.weight === undefined ? undefined : floatsOf(OP, 'weight', options.weight, logits.length, true);
  const posWeight = posWeightOption(OP, options.posWeight, shape, true);
  const { n, t, scale, losses, gradOut, result } = elementwiseSetting(OP, logits, target, shape, options);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const w = weight === undefined ? 1 : weight[i]!;
    const P = posWeight.perClass === undefined ? posWeight.scalar : posWeight.perClass[i % shape.classes]!;
    // e = exp(-|x|); A = 1 - t and B = P t weigh the negative and positive terms
    const e = Math.exp(-Math.abs(x));
    const A = 1 - t[i]!;
    const B = P * t[i]!;
    // A x + (A + B) softplus(-x), split at x = 0 into two terms >= 0
    let loss = (x >= 0 ? A : B) * Math.abs(x) + (A + B) * Math.log1p(e);
    if (x === -Infinity) loss = NaN; // PyTorch: inf - inf
    losses[i] = w * loss;
    total += losses[i]!;
    // d/dx = (A + B) sigmoid(x) - B = A sigmoid(x) - B sigmoid(-x), the sigmoids from e
    const h = 1 / (1 + e), r = e * h;
    if (gradOut !== undefined) gradOut[i] = scale * w * (A * (x >= 0 ? h : r) - B * (x >= 0 ? r : h));
  }
  return result(total);
}

/** The element shape of `logits` (a Float32Array or Float64Array of whole rows of `classes`). */
export function elementwiseShape(op: string, logits: FloatArray, classes: number | undefined): ElementShape {
  logitsShape(op, logits, classes ?? 1);
  return flatElementShape(op, logits.length, classes);
}

/**
 * What binaryCrossEntropy and sigmoidFocalLoss share around their loops, as the engine's
 * elementwiseLoss (src/ops/bce.ts): the reduction and gradient options and the targets checked,
 * `losses` and the gradient's destination made, the gradient's scale, and the result from the
 * losses' total.
 */
export function elementwiseSetting(
  op: string,
  logits: FloatArray,
  target: FloatArray,
  shape: ElementShape,
  options: { reduction?: unknown; gradScale?: unknown; grad?: unknown },
) {
  const n = logits.length;
  const reduction = reductionOption(op, options.reduction, ['mean', 'sum'] as const, 'mean');
  const gradScale = numberOption(op, 'gradScale', options.gradScale, 1);
  const grad = gradOption(op, options.grad, n);
  if (grad === 'inplace' && !(logits instanceof Float32Array)) {
    throw new XentError('BAD_OPTION', `${op}: grad 'inplace' needs Float32Array logits`);
  }
  const t = unitTarget(op, target, shape, true);
  const mean = reduction === 'mean';
  const losses = new Float64Array(n);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float64Array(n) : grad === 'inplace' ? (logits as Float32Array) : grad;
  const result = (total: number): LossResult<Float64Array> =>
    ({ loss: mean ? total / n : total, losses, ...(gradOut === undefined ? {} : { grad: gradOut }) });
  return { n, t, scale: mean ? gradScale / n : gradScale, losses, gradOut, result };
}
