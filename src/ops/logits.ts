// What every operation does first: recognise its logits and their shape.

import { XentError } from '../errors.js';
import type { Kernels } from '../kernels.js';
import { Tensor, type Arena } from '../memory.js';
import { describe, flatShape, tensorShape, type Shape } from '../options.js';
import { checkTensor } from '../runner.js';

/** What an operation needs of its engine. */
export interface EngineContext {
  readonly arena: Arena;
  readonly kernels: Kernels;
}

export type Logits = Float32Array | Tensor;

export function logitsShape(op: string, ctx: EngineContext, logits: unknown, classes: unknown, what = 'logits'): Shape {
  if (logits instanceof Tensor) {
    checkTensor(op, ctx.arena, logits);
    return tensorShape(op, logits.rows, logits.cols, classes);
  }
  if (logits instanceof Float32Array) return flatShape(op, what, logits.length, classes);
  throw new XentError('SHAPE_MISMATCH', `${op}: ${what} must be a Float32Array or a Tensor, got ${describe(logits)}`);
}
