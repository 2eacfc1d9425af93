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
    return { shape, arg: { read: logits as Logits, perRow: shape.classes, name: 'logits' }, f32: true };
  }
  if (dtype !== 'f16' && dtype !== 'bf16') {
    throw new XentError('BAD_OPTION', `${op}: dtype must be 'f32', 'f16' or 'bf16', got ${describe(dtype)}`);
  }
  if (!(logits instanceof Uint16Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: dtype '${dtype}' logits must be a Uint16Array of their bits, got ${describe(logits)}`);
  }
  const shape = flatShape(op, 'logits', logits.length, classes);
  const widen = dtype === 'f16' ? ctx.kernels.widenF16 : ctx.kernels.widenBf16;
  return { shape, arg: { read: logits, perRow: shape.classes, widen, name: 'logits' }, f32: false };
}

/**
 * A tensor of another library, as ONNX Runtime (`ort.Tensor`) and transformers.js (`Tensor`)
 * make them: the values in `data`, the shape in `dims`, the element type in `type`.
 */
export interface TensorLike {
  // As wide as ort.Tensor's own type (whose data may be a string[]), so that one is accepted as
  // it is; what is not float32 or float16 data is refused at run time.
  data: ArrayBufferView | readonly unknown[];
  dims: readonly number[];
  type?: string;
}

/** Any object with `data` and `dims` that is not one of xent's own inputs. */
export function isTensorLike(value: unknown): value is TensorLike {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof Tensor) &&
    'data' in value && 'dims' in value;
}

/** What a tensor-like may fill in: its last dim, its dtype, and T of [B, T, V]. */
interface TensorLikeOptions {
  classes?: number;
  dtype?: Dtype;
  sequenceLength?: number;
}

/**
 * Logits as the operations take them. A tensor-like gives its data (f32, or the bits of f16
 * as a Uint16Array), and options with `classes` from its last dim, `dtype` 'f16' for float16,
 * and, where `sequences`, `sequenceLength` from the T of [B, T, V]; an option that disagrees
 * with the dims is refused. Anything else passes through unchanged.
 */
export function fromTensorLike<X, O extends TensorLikeOptions>(
  op: string,
  logits: X | TensorLike,
  options: O | undefined,
  accepts: { halves: boolean; sequences: boolean; what?: string },
): [X | Float32Array | Uint16Array, O | undefined] {
  if (!isTensorLike(logits)) return [logits, options];
  const what = accepts.what ?? 'logits';
  const { data, dims, type } = logits;
  if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what}.dims must be a non-empty list of sizes, got ${describe(dims)}`);
  }
  const length = dims.reduce((a, b) => a * b, 1);
  if (!ArrayBuffer.isView(data) || (data as Float32Array).length !== length) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what}.data must hold ${length} values for dims [${dims.join(', ')}], got ${describe(data)}`);
  }
  const classes = dims[dims.length - 1]!;
  const o: TensorLikeOptions = { ...options };
  if (o.classes !== undefined && o.classes !== classes) {
    throw new XentError('SHAPE_MISMATCH', `${op}: options.classes is ${o.classes} but ${what} has dims [${dims.join(', ')}] (classes is the last dim)`);
  }
  o.classes = classes;
  if (accepts.sequences && dims.length === 3) {
    if (o.sequenceLength !== undefined && o.sequenceLength !== dims[1]) {
      throw new XentError('SHAPE_MISMATCH', `${op}: options.sequenceLength is ${o.sequenceLength} but ${what} has dims [${dims.join(', ')}] ([B, T, V])`);
    }
    o.sequenceLength = dims[1]!;
  }
  const float16 = type === 'float16' || (type === undefined && isFloat16Array(data));
  if (float16) {
    if (!accepts.halves) {
      throw new XentError('BAD_OPTION', `${op}: float16 ${what} are not supported here; pass float32 data (crossEntropy, logSumExp, softmax, logSoftmax, logProbs and evaluate take float16)`);
    }
    if (!(data instanceof Uint16Array) && !isFloat16Array(data)) {
      throw new XentError('SHAPE_MISMATCH', `${op}: a float16 ${what} needs its data as a Uint16Array of bits or a Float16Array, got ${describe(data)}`);
    }
    if (o.dtype !== undefined && o.dtype !== 'f16') {
      throw new XentError('BAD_OPTION', `${op}: options.dtype is '${o.dtype}' but ${what} is a float16 tensor`);
    }
    o.dtype = 'f16';
    return [new Uint16Array(data.buffer, data.byteOffset, length), o as O];
  }
  if (type !== undefined && type !== 'float32') {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what} must be float32 or float16 logits, got a tensor of type ${describe(type)}`);
  }
  if (!(data instanceof Float32Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: a float32 ${what} needs its data as a Float32Array, got ${describe(data)}`);
  }
  return [data, o as O];
}

function isFloat16Array(data: unknown): boolean {
  const F16 = (globalThis as { Float16Array?: abstract new (...args: never[]) => unknown }).Float16Array;
  return F16 !== undefined && data instanceof F16;
}
