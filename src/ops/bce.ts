// binaryCrossEntropy on the engine: validation (options.ts, shared with sigmoidFocalLoss and
// the float64 reference; the targets checked in wasm), the reduction's scale, one elementwise
// kernel, and the total of its losses in float64.
//
// Targets must lie in [0, 1]. PyTorch's binary_cross_entropy_with_logits does not check, and
// computes a number for any target, but that number is not a cross-entropy (it can be
// negative and unbounded below), so a target outside [0, 1], NaN included, is almost always a
// bug upstream (class indices, or logits passed as targets): it is refused with
// TARGET_OUT_OF_RANGE, naming the first offending element. The same holds for
// sigmoidFocalLoss, whose torchvision original documents targets as binary labels.

import { Tensor } from '../memory.js';
import {
  checkOptionKeys, float32Of, gradOption, numberOption, posWeightOption, reductionOption, unitTarget, type ElementShape,
} from '../options.js';
import { keepLive, runRows, type Arg } from '../runner.js';
import { BINARY_CROSS_ENTROPY_OPTIONS, type BinaryCrossEntropyOptions, type LossResult } from '../types.js';
import { logitsShape, type EngineContext, type Logits } from './logits.js';
import { engineFirstOutsideUnit } from './targets.js';

const OP = 'binaryCrossEntropy';

/**
 * rows x classes of an elementwise op's logits. A flat array without options.classes is one
 * value per row (rows = length, classes = 1): chunking then needs no row structure.
 */
export function elementShape(op: string, ctx: EngineContext, logits: unknown, classes: unknown): ElementShape {
  if (classes === undefined && logits instanceof Float32Array) return { rows: logits.length, classes: 1, known: false };
  return { ...logitsShape(op, ctx, logits, classes), known: true };
}

/** Where the gradient goes: nowhere, a new array, the logits themselves or the caller's array. */
export function gradTarget(op: string, logits: Logits, value: unknown, length: number): Float32Array | Tensor | undefined {
  const grad = gradOption(op, value, length);
  if (grad === 'none') return undefined;
  if (grad === 'new') return new Float32Array(length);
  if (grad === 'inplace') return logits;
  return grad;
}

export function binaryCrossEntropy(
  ctx: EngineContext,
  logits: Logits,
  target: Float32Array,
  options: BinaryCrossEntropyOptions = {},
): LossResult {
  checkOptionKeys(OP, options, BINARY_CROSS_ENTROPY_OPTIONS);
  const shape = elementShape(OP, ctx, logits, options.classes);
  const { rows, classes } = shape;
  const weight = options.weight === undefined ? undefined : float32Of(OP, 'weight', options.weight, rows * classes);
  const posWeight = posWeightOption(OP, options.posWeight, shape);
  return elementwiseLoss(ctx, OP, logits, target, shape, options, (t, grad, losses, scale) => runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.binaryCrossEntropy,
    args: [
      { read: logits, perRow: classes, name: 'logits' },
      { read: t, perRow: classes, name: 'target' },
      weight === undefined ? { none: true } : { read: weight, perRow: classes, name: 'weight' },
      { whole: posWeight.perClass as Float32Array | undefined },
      grad,
      losses,
    ],
    rows,
    classes,
    scalars: [posWeight.scalar, scale],
  }));
}

/**
 * What binaryCrossEntropy and sigmoidFocalLoss share around their kernels: the reduction and
 * gradient options, the targets checked, `losses` made and totalled, the gradient's
 * destination. `run` makes the one kernel call, given the checked targets, the gradient's and
 * the losses' arguments and the gradient's scale, and returns the losses' total.
 */
export function elementwiseLoss(
  ctx: EngineContext,
  op: string,
  logits: Logits,
  target: unknown,
  shape: ElementShape,
  options: { reduction?: unknown; gradScale?: unknown; grad?: unknown },
  run: (t: Float32Array, grad: Arg, losses: Arg, scale: number) => number,
): LossResult {
  const n = shape.rows * shape.classes;
  const reduction = reductionOption(op, options.reduction, ['mean', 'sum'] as const, 'mean');
  const gradScale = numberOption(op, 'gradScale', options.gradScale, 1);
  const grad = gradTarget(op, logits, options.grad, n);
  const t = unitTarget(op, target, shape, false, engineFirstOutsideUnit(ctx)) as Float32Array;

  const mean = reduction === 'mean';
  const losses = new Float32Array(n);
  const gradArg: Arg = grad === undefined ? { none: true } : { write: grad, perRow: shape.classes, over: 0, name: 'grad' };
  const gradOut = grad === undefined ? undefined : keepLive(ctx.arena, grad);
  const total = run(t, gradArg, { write: losses, perRow: shape.classes, own: true, total: ctx.kernels.sumLanes }, mean ? gradScale / n : gradScale);
  const result: LossResult = { loss: mean ? total / n : total, losses };
  if (gradOut !== undefined) result.grad = gradOut();
  return result;
}
