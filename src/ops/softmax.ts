// logSumExp, softmax and logSoftmax on the engine.

import { XentError } from '../errors.js';
import { checkOptionKeys, float32Of, numberOption } from '../options.js';
import { keepLive, runRows } from '../runner.js';
import type { ClassesOption, DtypeOption, SoftmaxOptions } from '../types.js';
import { Tensor } from '../memory.js';
import { logitsShape, readLogits, type EngineContext, type Logits } from './logits.js';

export function logSumExp(ctx: EngineContext, logits: Logits | Uint16Array, options: ClassesOption & DtypeOption = {}): Float32Array {
  checkOptionKeys('logSumExp', options, ['classes', 'dtype']);
  const input = readLogits('logSumExp', ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const out = new Float32Array(rows);
  runRows(ctx.arena, {
    op: 'logSumExp',
    kernel: ctx.kernels.lse,
    args: [input.arg, { write: out, perRow: 1, own: true }],
    rows,
    classes,
    scalars: [],
  });
  return out;
}

export function softmax(ctx: EngineContext, logits: Logits | Uint16Array, options?: SoftmaxOptions<Float32Array | Tensor>) {
  return softmaxRows('softmax', ctx, logits, options);
}

export function logSoftmax(ctx: EngineContext, logits: Logits | Uint16Array, options?: SoftmaxOptions<Float32Array | Tensor>) {
  return softmaxRows('logSoftmax', ctx, logits, options);
}

function softmaxRows(
  op: 'softmax' | 'logSoftmax',
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  options: SoftmaxOptions<Float32Array | Tensor> = {},
): Float32Array {
  checkOptionKeys(op, options, ['classes', 'temperature', 'out', 'dtype']);
  const input = readLogits(op, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const temperature = numberOption(op, 'temperature', options.temperature, 1, { min: 0, minOpen: true });
  let out: Float32Array | Tensor;
  if (options.out === undefined) out = new Float32Array(rows * classes);
  else if (options.out instanceof Tensor) {
    const shape = logitsShape(op, ctx, options.out, classes, 'out');
    if (shape.rows !== rows) {
      throw new XentError('SHAPE_MISMATCH', `${op}: out has ${shape.rows} rows, expected ${rows}`);
    }
    out = options.out;
  } else out = float32Of(op, 'out', options.out, rows * classes);
  const result = keepLive(ctx.arena, out);
  runRows(ctx.arena, {
    op,
    kernel: ctx.kernels[op],
    args: [input.arg, { write: out, perRow: classes, over: 0, name: 'out' }],
    rows,
    classes,
    scalars: [1 / temperature],
  });
  return result();
}
