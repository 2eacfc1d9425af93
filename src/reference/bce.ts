// Reference binary cross-entropy with logits, float64: PyTorch's
// binary_cross_entropy_with_logits (per-element weight, scalar or per-class pos_weight, 'mean'
// over all elements and 'sum'). Stage by stage as in assembly/kernels/bce.ts; targets outside
// [0, 1] are refused (see src/ops/bce.ts).

import { XentError } from '../errors.js';
import {
  checkOptionKeys, flatElementShape, floatsOf, gradOption, numberOption, posWeightOption, reductionOption, unitTarget,
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
  logitsShape(OP, logits, options.classes ?? 1); // a Float32Array or Float64Array of whole rows
  const shape = flatElementShape(OP, logits.length, options.classes);
  const n = logits.length;
  const reduction = reductionOption(OP, options.reduction, ['mean', 'sum'] as const, 'mean');
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const weight = options.weight === undefined ? undefined : floatsOf(OP, 'weight', options.weight, n, true);
  const posWeight = posWeightOption(OP, options.posWeight, shape, true);
  const grad = gradOption(OP, options.grad, n);
  if (grad === 'inplace' && !(logits instanceof Float32Array)) {
    throw new XentError('BAD_OPTION', `${OP}: grad 'inplace' needs Float32Array logits`);
  }
  const t = unitTarget(OP, target, shape, true);

  const mean = reduction === 'mean';
  const scale = mean ? gradScale / n : gradScale;
  const losses = new Float64Array(n);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float64Array(n) : grad === 'inplace' ? (logits as Float32Array) : grad;
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
  return { loss: mean ? total / n : total, losses, ...(gradOut === undefined ? {} : { grad: gradOut }) };
}
