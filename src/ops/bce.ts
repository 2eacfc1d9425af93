// binaryCrossEntropy on the engine: validation, the reduction's scale, one elementwise kernel,
// and the total of its losses in float64. The validation helpers here serve sigmoidFocalLoss
// and the float64 reference as well.
//
// Targets must lie in [0, 1]. PyTorch's binary_cross_entropy_with_logits does not check, and
// computes a number for any target, but that number is not a cross-entropy (it can be
// negative and unbounded below), so a target outside [0, 1], NaN included, is almost always a
// bug upstream (class indices, or logits passed as targets): it is refused with
// TARGET_OUT_OF_RANGE, naming the first offending element. The same holds for
// sigmoidFocalLoss, whose torchvision original documents targets as binary labels.

import { XentError } from '../errors.js';
import { Tensor } from '../memory.js';
import {
  checkOptionKeys, describe, float32Of, flatShape, gradOption, numberOption, reductionOption, type Shape,
} from '../options.js';
import { keepLive, runRows, type Arg } from '../runner.js';
import { BINARY_CROSS_ENTROPY_OPTIONS, type BinaryCrossEntropyOptions, type LossResult } from '../types.js';
import { logitsShape, type EngineContext, type Logits } from './logits.js';
import { sumOf } from './sum.js';

const OP = 'binaryCrossEntropy';

/** The layout of an elementwise op's logits; `known` when the classes are, not assumed. */
export interface ElementShape extends Shape {
  known: boolean;
}

/**
 * rows x classes of an elementwise op's logits. A flat array without options.classes is one
 * value per row (rows = length, classes = 1): chunking then needs no row structure.
 */
export function elementShape(op: string, ctx: EngineContext, logits: unknown, classes: unknown): ElementShape {
  if (classes === undefined && logits instanceof Float32Array) return { rows: logits.length, classes: 1, known: false };
  return { ...logitsShape(op, ctx, logits, classes), known: true };
}

/** elementShape for the reference's flat arrays. */
export function flatElementShape(op: string, length: number, classes: unknown): ElementShape {
  if (classes === undefined) return { rows: length, classes: 1, known: false };
  return { ...flatShape(op, 'logits', length, classes), known: true };
}

type Floats = Float32Array | Float64Array;

/** A Float32Array (or, for the reference, a Float64Array) of exactly `length` values. */
export function floatsOf(op: string, what: string, value: unknown, length: number, allow64: boolean): Floats {
  if (allow64 && value instanceof Float64Array) {
    if (value.length !== length) {
      throw new XentError('SHAPE_MISMATCH', `${op}: ${what} has ${value.length} values, expected ${length}`);
    }
    return value;
  }
  return float32Of(op, what, value, length);
}

/** Targets of the logits' length, every one in [0, 1]. */
export function unitTarget(op: string, target: unknown, shape: ElementShape, allow64 = false): Floats {
  const n = shape.rows * shape.classes;
  if (!(target instanceof Float32Array || (allow64 && target instanceof Float64Array))) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: target must be a Float32Array of ${n} probabilities in [0, 1] (one per logit), got ${describe(target)}`,
    );
  }
  const t = floatsOf(op, 'target', target, n, allow64);
  const i = t instanceof Float32Array ? firstOutsideUnit32(t) : firstOutsideUnit64(t);
  if (i >= 0) {
    const v = t[i]!;
    const where = shape.known && shape.classes > 1 ? ` (row ${Math.floor(i / shape.classes)}, column ${i % shape.classes})` : '';
    throw new XentError(
      'TARGET_OUT_OF_RANGE',
      `${op}: target[${i}]${where} = ${v} is outside [0, 1]; targets are probabilities of the positive class`,
    );
  }
  return t;
}

// The first index of a value outside [0, 1] (NaN included), or -1; one copy per array type so
// that each loop sees a single element kind (twice as fast on V8 as one polymorphic loop).
function firstOutsideUnit32(t: Float32Array): number {
  for (let i = 0; i < t.length; i++) if (!(t[i]! >= 0 && t[i]! <= 1)) return i;
  return -1;
}

function firstOutsideUnit64(t: Float64Array): number {
  for (let i = 0; i < t.length; i++) if (!(t[i]! >= 0 && t[i]! <= 1)) return i;
  return -1;
}

/** posWeight: one finite number, or one value per class (which needs the classes). */
export function posWeightOption(
  op: string,
  value: unknown,
  shape: ElementShape,
  allow64 = false,
): { scalar: number; perClass?: Floats } {
  if (value === undefined || typeof value === 'number') return { scalar: numberOption(op, 'posWeight', value, 1) };
  if (!(value instanceof Float32Array || (allow64 && value instanceof Float64Array))) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: posWeight must be a number or a Float32Array with one value per class, got ${describe(value)}`,
    );
  }
  if (!shape.known) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: posWeight per class (${value.length} values) needs options.classes, so that each logit's class is known`,
    );
  }
  return { scalar: 1, perClass: floatsOf(op, 'posWeight', value, shape.classes, allow64) };
}

/** Where the gradient goes: nowhere, a new array, the logits themselves or the caller's array. */
export function gradTarget(op: string, logits: Logits, value: unknown, length: number): Float32Array | Tensor | undefined {
  const grad = gradOption(op, value, length);
  if (grad === 'none') return undefined;
  if (grad === 'new') return new Float32Array(length);
  if (grad === 'inplace') return logits;
  return grad;
}

/** The gradient as the result reports it. */
export function binaryCrossEntropy(
  ctx: EngineContext,
  logits: Logits,
  target: Float32Array,
  options: BinaryCrossEntropyOptions = {},
): LossResult {
  checkOptionKeys(OP, options, BINARY_CROSS_ENTROPY_OPTIONS);
  const shape = elementShape(OP, ctx, logits, options.classes);
  const { rows, classes } = shape;
  const n = rows * classes;
  const reduction = reductionOption(OP, options.reduction, ['mean', 'sum'] as const, 'mean');
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const weight = options.weight === undefined ? undefined : float32Of(OP, 'weight', options.weight, n);
  const posWeight = posWeightOption(OP, options.posWeight, shape);
  const grad = gradTarget(OP, logits, options.grad, n);
  const t = unitTarget(OP, target, shape) as Float32Array;

  const mean = reduction === 'mean';
  const losses = new Float32Array(n);
  const gradArg: Arg = grad === undefined ? { none: true } : { write: grad, perRow: classes, over: 0, name: 'grad' };
  const gradOut = grad === undefined ? undefined : keepLive(ctx.arena, grad);
  runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.binaryCrossEntropy,
    args: [
      { read: logits, perRow: classes, name: 'logits' },
      { read: t, perRow: classes, name: 'target' },
      weight === undefined ? { none: true } : { read: weight, perRow: classes, name: 'weight' },
      { whole: posWeight.perClass as Float32Array | undefined },
      gradArg,
      { write: losses, perRow: classes, own: true },
    ],
    rows,
    classes,
    scalars: [posWeight.scalar, mean ? gradScale / n : gradScale],
  });
  const total = sumOf(losses);
  const result: LossResult = { loss: mean ? total / n : total, losses };
  if (gradOut !== undefined) result.grad = gradOut();
  return result;
}
