// crossEntropy on the engine: validation, the reduction's scales, the fused kernel, and
// the reduction of its per-row results in float64.

import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, float32Of, gradOption, integerOption, numberOption,
  reductionOption, sparseTarget,
} from '../options.js';
import { keepLive, runRows, type Arg } from '../runner.js';
import { CROSS_ENTROPY_OPTIONS, type CrossEntropyOptions, type CrossEntropyResult } from '../types.js';
import { readLogits, type EngineContext, type Logits } from './logits.js';
import { XentError } from '../errors.js';
import { sumOf } from './sum.js';

const OP = 'crossEntropy';

export function crossEntropy(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: Int32Array | number[] | Float32Array,
  options: CrossEntropyOptions = {},
): CrossEntropyResult {
  checkOptionKeys(OP, options, CROSS_ENTROPY_OPTIONS);
  const input = readLogits(OP, ctx, logits, options.classes, options.dtype);
  const shape = input.shape;
  const { rows, classes } = shape;
  const reduction = reductionOption(OP, options.reduction, ['mean', 'sum'] as const, 'mean');
  const ignoreIndex = integerOption(OP, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const smoothing = numberOption(OP, 'labelSmoothing', options.labelSmoothing, 0, { min: 0, max: 1 });
  const zLoss = numberOption(OP, 'zLoss', options.zLoss, 0);
  const softcap = numberOption(OP, 'softcap', options.softcap, 0, { min: 0, minOpen: options.softcap !== undefined });
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const weight = options.weight === undefined ? undefined : float32Of(OP, 'weight', options.weight, classes);
  const grad = gradOption(OP, options.grad, rows * classes);
  if (grad === 'inplace' && !input.f32) {
    throw new XentError('BAD_OPTION', `${OP}: grad 'inplace' needs f32 logits; ${options.dtype} logits cannot hold the gradient (use grad: true)`);
  }

  // The 'mean' divisors: PyTorch divides the cross-entropy by the summed weight of the
  // counted rows' targets (rows, for probability targets); Liger divides the z-loss by the
  // number of counted rows.
  let indices: Int32Array | undefined;
  let probs: Float32Array | undefined;
  let count = 0;
  let targetWeight = 0;
  if (target instanceof Float32Array) {
    probs = float32Of(OP, 'probability target', target, rows * classes);
    count = rows;
    targetWeight = rows;
  } else {
    indices = sparseTarget(OP, target, shape, ignoreIndex);
    for (let r = 0; r < rows; r++) {
      if (indices[r] !== ignoreIndex) count += 1;
    }
    targetWeight = weight === undefined ? count : weightOfTargets(indices, weight, ignoreIndex);
  }
  let weightTotal = classes;
  if (weight !== undefined) {
    weightTotal = 0;
    for (const w of weight) weightTotal += w;
  }
  const mean = reduction === 'mean';
  const ceScale = mean ? gradScale / targetWeight : gradScale;
  const zScale = mean ? gradScale / count : gradScale;

  const losses = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float32Array(rows * classes) : grad === 'inplace' ? (logits as Logits) : grad;
  const gradArg: Arg = gradOut === undefined ? { none: true } : { write: gradOut, perRow: classes, over: 0, name: 'grad' };
  const gradResult = gradOut === undefined ? undefined : keepLive(ctx.arena, gradOut);
  const common = { op: OP, rows, classes };
  if (indices !== undefined) {
    runRows(ctx.arena, {
      ...common,
      kernel: ctx.kernels.crossEntropy,
      args: [
        input.arg, gradArg, { read: indices, perRow: 1 }, { whole: weight },
        { write: losses, perRow: 1 }, { write: lse, perRow: 1 },
      ],
      scalars: [ignoreIndex, weightTotal, smoothing, zLoss, softcap, ceScale, zScale],
    });
  } else {
    runRows(ctx.arena, {
      ...common,
      kernel: ctx.kernels.crossEntropyProbs,
      args: [
        input.arg, gradArg, { read: probs!, perRow: classes, name: 'target' }, { whole: weight },
        { write: losses, perRow: 1 }, { write: lse, perRow: 1 },
      ],
      scalars: [smoothing, zLoss, softcap, ceScale, zScale],
    });
  }

  // Reduce in float64 (sum.ts). The kernels leave the z-loss term zLoss lse^2 to us.
  const total = sumOf(losses);
  let zTotal = 0;
  if (zLoss !== 0) {
    for (let r = 0; r < rows; r++) {
      if (indices !== undefined && indices[r] === ignoreIndex) continue;
      const z = zLoss * lse[r]! * lse[r]!;
      zTotal += z;
      losses[r] = losses[r]! + z;
    }
  }
  // No z-loss asked for: its part is 0, also when no row counts (where 'mean' divides by 0).
  const zPart = zLoss === 0 ? 0 : mean ? zTotal / count : zTotal;
  const loss = (mean ? total / targetWeight : total) + zPart;
  const result: CrossEntropyResult = { loss, losses, lse, zLoss: zPart, count };
  if (gradResult !== undefined) result.grad = gradResult();
  return result;
}

/** sum of weight[t] over the counted rows' targets t, in row order. */
function weightOfTargets(indices: Int32Array, weight: Float32Array, ignoreIndex: number): number {
  let total = 0;
  for (const t of indices) if (t !== ignoreIndex) total += weight[t]!;
  return total;
}
