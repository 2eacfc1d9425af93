// crossEntropy on the engine: validation, the reduction's scales, the fused kernel, and
// the reduction of its per-row results in float64.

import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, float32Of, gradOption, integerOption, numberOption,
  reductionOption, classTargets, type CountTargets, type Shape,
} from '../options.js';
import type { Kernels } from '../kernels.js';
import { keepLive, runRows, type Arg, type ScalarsOf } from '../runner.js';
import { CROSS_ENTROPY_OPTIONS, type CrossEntropyOptions, type CrossEntropyResult } from '../types.js';
import { readLogits, type EngineContext, type Logits } from './logits.js';
import { XentError } from '../errors.js';
import { sumOf } from './sum.js';
import { crossEntropyColumns } from './cross-entropy-columns.js';
import { engineCountTargets } from './targets.js';

const OP = 'crossEntropy';

/** What crossEntropy reads of its options besides the logits, checked, with its 'mean' divisors. */
export interface CrossEntropySetting {
  ignoreIndex: number;
  smoothing: number;
  zLoss: number;
  /** 0: no soft-capping. */
  softcap: number;
  weight: Float32Array | undefined;
  /** Sum of all class weights (classes without weights). */
  weightTotal: number;
  /** Class-index targets (a validated copy), or undefined for probability targets. */
  indices: Int32Array | undefined;
  probs: Float32Array | undefined;
  mean: boolean;
  /** Rows not ignored. */
  count: number;
  /** 'mean''s divisor of the cross-entropy: the counted rows' target weights (rows, for probabilities). */
  targetWeight: number;
  /** The reduction's and gradScale's factors of the cross-entropy and z-loss gradients. */
  ceScale: number;
  zScale: number;
}

/** Checks crossEntropy's options and target (class indices, or probabilities when `probabilities`). */
export function crossEntropySetting(
  op: string,
  shape: Shape,
  target: unknown,
  options: Omit<CrossEntropyOptions, 'grad'>,
  probabilities: boolean,
  countInRange: CountTargets,
): CrossEntropySetting {
  const { rows, classes } = shape;
  const reduction = reductionOption(op, options.reduction, ['mean', 'sum'] as const, 'mean');
  const ignoreIndex = integerOption(op, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const smoothing = numberOption(op, 'labelSmoothing', options.labelSmoothing, 0, { min: 0, max: 1 });
  const zLoss = numberOption(op, 'zLoss', options.zLoss, 0);
  const softcap = numberOption(op, 'softcap', options.softcap, 0, { min: 0, minOpen: options.softcap !== undefined });
  const gradScale = numberOption(op, 'gradScale', options.gradScale, 1);
  const weight = options.weight === undefined ? undefined : float32Of(op, 'weight', options.weight, classes);

  // The 'mean' divisors: PyTorch divides the cross-entropy by the summed weight of the
  // counted rows' targets (rows, for probability targets); Liger divides the z-loss by the
  // number of counted rows.
  let indices: Int32Array | undefined;
  let probs: Float32Array | undefined;
  let count = 0;
  let targetWeight = 0;
  if (probabilities) {
    probs = float32Of(op, 'probability target', target, rows * classes);
    count = rows;
    targetWeight = rows;
  } else {
    ({ indices, count } = classTargets(op, target, shape, ignoreIndex, 'target', countInRange));
    targetWeight = weight === undefined ? count : weightOfTargets(indices, weight, ignoreIndex);
  }
  let weightTotal = classes;
  if (weight !== undefined) {
    weightTotal = 0;
    for (const w of weight) weightTotal += w;
  }
  const mean = reduction === 'mean';
  return {
    ignoreIndex, smoothing, zLoss, softcap, weight, weightTotal, indices, probs, mean, count, targetWeight,
    ceScale: mean ? gradScale / targetWeight : gradScale,
    zScale: mean ? gradScale / count : gradScale,
  };
}

/** The scalars that follow the row count and classes in the crossEntropy kernel's arguments. */
export function kernelScalars(s: CrossEntropySetting): ScalarsOf<Kernels['crossEntropy'], 6> {
  return [s.ignoreIndex, s.weightTotal, s.smoothing, s.zLoss, s.softcap, s.ceScale, s.zScale];
}

export function crossEntropy(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: Int32Array | number[] | Float32Array,
  options: CrossEntropyOptions = {},
): CrossEntropyResult {
  checkOptionKeys(OP, options, CROSS_ENTROPY_OPTIONS);
  const input = readLogits(OP, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const s = crossEntropySetting(OP, input.shape, target, options, target instanceof Float32Array, engineCountTargets(ctx));
  const grad = gradOption(OP, options.grad, rows * classes);
  if (grad === 'inplace' && !input.f32) {
    throw new XentError('BAD_OPTION', `${OP}: grad 'inplace' needs f32 logits; ${options.dtype} logits cannot hold the gradient (use grad: true)`);
  }

  const losses = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float32Array(rows * classes) : grad === 'inplace' ? (logits as Logits) : grad;
  const gradArg: Arg = gradOut === undefined ? { none: true } : { write: gradOut, perRow: classes, over: 0, name: 'grad' };
  const gradResult = gradOut === undefined ? undefined : keepLive(ctx.arena, gradOut);
  if (s.indices !== undefined) {
    runRows(ctx.arena, {
      op: OP, rows, classes,
      kernel: ctx.kernels.crossEntropy,
      args: [
        input.arg, { read: s.indices, perRow: 1, own: true }, { whole: s.weight }, gradArg,
        { write: losses, perRow: 1, own: true }, { write: lse, perRow: 1, own: true },
      ],
      scalars: kernelScalars(s),
      columns: ctx.arena.workers === undefined ? undefined : crossEntropyColumns(ctx.kernels, s, classes),
    });
  } else {
    runRows(ctx.arena, {
      op: OP, rows, classes,
      kernel: ctx.kernels.crossEntropyProbs,
      args: [
        input.arg, { read: s.probs!, perRow: classes, name: 'target' }, { whole: s.weight }, gradArg,
        { write: losses, perRow: 1, own: true }, { write: lse, perRow: 1, own: true },
      ],
      scalars: [s.smoothing, s.zLoss, s.softcap, s.ceScale, s.zScale],
    });
  }
  // Fields written out: an object spread here cost more than the whole kernel call (V8 11).
  const { loss, zLoss, count } = reduceRows(s, losses, lse);
  const result: CrossEntropyResult = { loss, losses, lse, zLoss, count };
  if (gradResult !== undefined) result.grad = gradResult();
  return result;
}

/**
 * The reduced loss, z-loss and count from the kernels' per-row losses and lses, in float64
 * (sum.ts). The kernels leave the z-loss term zLoss lse^2 to this: it is added to `losses` here.
 */
export function reduceRows(s: CrossEntropySetting, losses: Float32Array, lse: Float32Array): { loss: number; zLoss: number; count: number } {
  const total = sumOf(losses);
  let zTotal = 0;
  if (s.zLoss !== 0) {
    for (let r = 0; r < losses.length; r++) {
      if (s.indices !== undefined && s.indices[r] === s.ignoreIndex) continue;
      const z = s.zLoss * lse[r]! * lse[r]!;
      zTotal += z;
      losses[r] = losses[r]! + z;
    }
  }
  // No z-loss asked for: its part is 0, also when no row counts (where 'mean' divides by 0).
  const zPart = s.zLoss === 0 ? 0 : s.mean ? zTotal / s.count : zTotal;
  return { loss: (s.mean ? total / s.targetWeight : total) + zPart, zLoss: zPart, count: s.count };
}

/** sum of weight[t] over the counted rows' targets t, in row order. */
function weightOfTargets(indices: Int32Array, weight: Float32Array, ignoreIndex: number): number {
  let total = 0;
  for (const t of indices) if (t !== ignoreIndex) total += weight[t]!;
  return total;
}
