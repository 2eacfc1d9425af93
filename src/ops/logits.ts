// What every operation does first: recognise its logits and their shape.

import { XentError } from '../errors.js';
import type { Kernels } from '../kernels.js';
import { Tensor, type Arena } from '../memory.js';
import { describe, flatShape, tensorShape, type Shape } from '../options.js';
import { checkTensor, type Arg } from '../runner.js';

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

/** How logits are stored: f32, or 16-bit floats in a Uint16Array (widened in engine memory). */
export type Dtype = 'f32' | 'f16' | 'bf16';

/** Logits as an op reads them: their shape and the runner argument that reads them. */
export interface LogitsInput {
  shape: Shape;
  arg: Arg;
  /** Whether the logits can hold an in-place gradient (f32 only). */
  f32: boolean;
}

/** Validates logits of any dtype: f32 as an array or tensor, 16-bit floats as a Uint16Array. */
export function readLogits(op: string, ctx: EngineContext, logits: unknown, classes: unknown, dtype: unknown): LogitsInput {
  if (dtype === undefined || dtype === 'f32') {
    const shape = logitsShape(op, ctx, logits, classes);
    return { shape, arg: { read: logits as Logits, perRow: shape.classes }, f32: true };
  }
  if (dtype !== 'f16' && dtype !== 'bf16') {
    throw new XentError('BAD_OPTION', `${op}: dtype must be 'f32', 'f16' or 'bf16', got ${describe(dtype)}`);
  }
  if (!(logits instanceof Uint16Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: dtype '${dtype}' logits must be a Uint16Array of their bits, got ${describe(logits)}`);
  }
  const shape = flatShape(op, 'logits', logits.length, classes);
  const widen = dtype === 'f16' ? ctx.kernels.widenF16 : ctx.kernels.widenBf16;
  return { shape, arg: { read: logits, perRow: shape.classes, widen }, f32: false };
}
