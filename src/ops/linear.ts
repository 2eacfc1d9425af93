// linearCrossEntropy: crossEntropy on the logits hidden @ head^T + bias, a block of rows at a
// time (Liger-Kernel's FusedLinearCrossEntropy scheme), so that the rows x classes logits
// never exist: per block, the GEMM writes its logits (rows x classes, a few MiB), the
// crossEntropy kernel turns them into losses and, in place, into their gradient G, and two
// more products take G to the gradients of hidden (G @ head) and head (G^T @ hidden).
// Forward and backward cost 2, and 4 more, rows x dim x classes multiply-adds.
//
// The head stays in engine memory for the whole call; hidden goes through it in groups of
// blocks when it does not fit. Blocks and head chunks have sizes that depend on the shapes
// alone (tuning.ts), and the head's gradient adds the blocks in row order, so the bits do not
// depend on the memory cap or on the groups.

import { XentError } from '../errors.js';
import { Tensor, align, type Arena } from '../memory.js';
import { checkOptionKeys, describe, float32Of, flatShape } from '../options.js';
import { checkTensor, keepLive, type RowKernel } from '../runner.js';
import {
  LINEAR_BLOCK_BYTES, LINEAR_HEAD_CHUNK_BYTES, LINEAR_MAX_BLOCK_ROWS, LINEAR_MIN_BLOCK_ROWS, LINEAR_THREAD_MIN_WORK,
} from '../tuning.js';
import {
  LINEAR_CROSS_ENTROPY_OPTIONS, type LinearCrossEntropyOptions, type LinearCrossEntropyResult,
} from '../types.js';
import { engineCountTargets } from './targets.js';
import { crossEntropySetting, kernelScalars, reduceRows } from './cross-entropy.js';
import { isTensorLike, type EngineContext } from './logits.js';

const OP = 'linearCrossEntropy';

/** A matrix the call reads: resident in engine memory at `ptr`, or copied in from `data`. */
interface Operand {
  data: Float32Array | Uint16Array;
  /** Byte offset in engine memory, or -1 when the values must be copied in. */
  resident: number;
}

/** One requested gradient: where the caller gets it, and whether it starts from its values. */
interface GradOut {
  out: Float32Array;
  accumulate: boolean;
}

export function linearCrossEntropy(
  ctx: EngineContext,
  hiddenInput: unknown,
  headInput: unknown,
  target: unknown,
  options: LinearCrossEntropyOptions,
): LinearCrossEntropyResult {
  checkOptionKeys(OP, options, LINEAR_CROSS_ENTROPY_OPTIONS);
  const { arena, kernels } = ctx;
  const memory = arena.memory.buffer;
  const headDtype = options.headDtype ?? 'f32';
  if (headDtype !== 'f32' && headDtype !== 'f16' && headDtype !== 'bf16') {
    throw new XentError('BAD_OPTION', `${OP}: headDtype must be 'f32', 'f16' or 'bf16', got ${describe(headDtype)}`);
  }
  const head = operand(ctx, headInput, headDtype, 'head');
  const { rows: classes, classes: dim } = headShape(head.data.length, options.classes);
  if (headInput instanceof Tensor && (headInput.rows !== classes || headInput.cols !== dim)) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: the head tensor is ${headInput.rows} x ${headInput.cols}, expected classes x dim = ${classes} x ${dim}`);
  }
  const hidden = operand(ctx, isTensorLike(hiddenInput) ? tensorLikeData(hiddenInput, dim) : hiddenInput, 'f32', 'hidden');
  const { rows } = flatShape(OP, 'hidden', hidden.data.length, dim);
  if (hiddenInput instanceof Tensor && hiddenInput.cols !== dim) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: the hidden tensor has ${hiddenInput.cols} columns, expected dim = ${dim} (head.length / classes)`);
  }
  const shape = { rows, classes };
  const s = crossEntropySetting(OP, shape, target, options, false, engineCountTargets(ctx));
  const bias = options.bias === undefined ? undefined : float32Of(OP, 'bias', options.bias, classes);
  if (options.argmax !== undefined && typeof options.argmax !== 'boolean') {
    throw new XentError('BAD_OPTION', `${OP}: argmax must be true or false, got ${describe(options.argmax)}`);
  }
  const grads = gradOutputs(options.grad, { hidden: rows * dim, head: classes * dim, bias: classes });
  refuseOverlaps(grads, { hidden: hidden.data, head: head.data, bias, weight: s.weight });
  if (arena.disposed) throw new XentError('DISPOSED', `${OP}: the engine was disposed during this call`);

  // Blocks of whole rows, a multiple of 4 (the GEMM's tile; only the last block is partial);
  // head chunks of at least 2 classes.
  const blockRows = Math.max(LINEAR_MIN_BLOCK_ROWS, Math.min(LINEAR_MAX_BLOCK_ROWS, Math.floor(LINEAR_BLOCK_BYTES / (classes * 4)) & ~3));
  const chunkClasses = Math.max(2, Math.floor(LINEAR_HEAD_CHUNK_BYTES / (dim * 4)));
  const half = headDtype !== 'f32';
  // Each step splits across the engine's threads when a block has this much work.
  const threads = 1 + (arena.workers?.size ?? 0);
  const backward = grads.hidden !== undefined || grads.head !== undefined || grads.bias !== undefined;

  // Everything is reserved before the first write; OUT_OF_MEMORY leaves every array untouched.
  const fixed = new Layout();
  const headAt = head.resident >= 0 ? head.resident : fixed.add(head.data.byteLength);
  const targetAt = fixed.add(rows * 4);
  const biasAt = bias === undefined ? 0 : fixed.add(classes * 4);
  const weightAt = s.weight === undefined ? 0 : fixed.add(classes * 4);
  const tileAt = fixed.add(blockRows * classes * 4);
  // Scratch of each thread: a widened head chunk, G's columns of a chunk, the products' packing.
  const scratch = Array.from({ length: threads }, () => ({
    widened: half ? fixed.add(chunkClasses * dim * 4) : 0,
    best: fixed.add(16),
    panel: backward ? fixed.add(blockRows * chunkClasses * 4) : 0,
    packed: backward ? fixed.add(Math.max(blockRows, chunkClasses) * dim * 4) : 0,
  }));
  const headGradAt = grads.head === undefined ? 0 : fixed.add(classes * dim * 4);
  const biasGradAt = grads.bias === undefined ? 0 : fixed.add(classes * 4);
  // Per row of a group: hidden (unless resident), its gradient, loss, lse and argmax.
  const perRow = (hidden.resident >= 0 ? 0 : dim) + (grads.hidden === undefined ? 0 : dim) + 3;
  const spare = arena.largestFree - fixed.bytes - 4 * 16;
  const groupRows = Math.min(Math.max(rows, 1), Math.max(blockRows, Math.floor(spare / (perRow * 4) / blockRows) * blockRows));
  const group = new Layout(fixed.bytes);
  const hiddenAt = hidden.resident >= 0 ? -1 : group.add(groupRows * dim * 4);
  const hiddenGradAt = grads.hidden === undefined ? 0 : group.add(groupRows * dim * 4);
  const lossesAt = group.add(groupRows * 4);
  const lsesAt = group.add(groupRows * 4);
  const argmaxAt = group.add(groupRows * 4);
  // Views of engine memory are detached if the allocation grows it: small ones are copied now,
  // the gradients' re-made afterwards.
  const biasValues = bias?.buffer === memory ? bias.slice() : bias;
  const weightValues = s.weight?.buffer === memory ? s.weight.slice() : s.weight;
  const results = {
    hidden: grads.hidden && keepLive(arena, grads.hidden.out),
    head: grads.head && keepLive(arena, grads.head.out),
    bias: grads.bias && keepLive(arena, grads.bias.out),
  };
  const base = arena.alloc(group.bytes, () => `${OP} (a ${blockRows} x ${classes} block of logits, groups of ${groupRows} rows of ${dim} values${grads.head ? ', the head\'s gradient' : ''})`);

  const losses = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const argmax = options.argmax ? new Int32Array(rows) : undefined;
  try {
    const f32 = (at: number, n: number) => arena.f32(base + at, n);
    if (head.resident < 0) {
      const into = half ? new Uint16Array(arena.memory.buffer, base + headAt, head.data.length) : f32(headAt, head.data.length);
      into.set(head.data);
    }
    arena.i32(base + targetAt, rows).set(s.indices!);
    if (biasValues !== undefined) f32(biasAt, classes).set(biasValues);
    if (weightValues !== undefined) f32(weightAt, classes).set(weightValues);
    // A gradient starts from the caller's values when accumulating, else from zeros.
    const start = (name: 'hidden' | 'head' | 'bias', at: number, from: number, length: number) => {
      const buffer = f32(at, length);
      if (grads[name]!.accumulate) buffer.set(results[name]!().subarray(from, from + length));
      else buffer.fill(0);
    };
    if (grads.head !== undefined) start('head', headGradAt, 0, classes * dim);
    if (grads.bias !== undefined) start('bias', biasGradAt, 0, classes);

    const headPtr = head.resident >= 0 ? head.resident : base + headAt;
    const dtype = headDtype === 'f32' ? 0 : headDtype === 'f16' ? 1 : 2;
    const chunks = Math.ceil(classes / chunkClasses);
    const tile = base + tileAt;
    const scalars = kernelScalars(s);
    for (let g0 = 0; g0 < rows; g0 += groupRows) {
      const gRows = Math.min(groupRows, rows - g0);
      const hiddenPtr = hidden.resident >= 0 ? hidden.resident + g0 * dim * 4 : base + hiddenAt;
      if (hidden.resident < 0) f32(hiddenAt, gRows * dim).set(hidden.data.subarray(g0 * dim, (g0 + gRows) * dim));
      if (grads.hidden !== undefined) start('hidden', hiddenGradAt, g0 * dim, gRows * dim);
      for (let b0 = 0; b0 < gRows; b0 += blockRows) {
        const n = Math.min(blockRows, gRows - b0);
        const x = hiddenPtr + b0 * dim * 4;
        const work = n * classes * dim;
        const parts = work < LINEAR_THREAD_MIN_WORK ? 1 : Math.min(threads, n, chunks);
        // Part p's share of `count` things: [first, end).
        const share = (p: number, count: number) => [Math.floor((p * count) / parts), Math.floor(((p + 1) * count) / parts)] as const;
        const classRange = (p: number) => share(p, chunks).map((c) => Math.min(classes, c * chunkClasses));
        run(arena, kernels.linearLogits, parts, work, (p) => {
          const [c0, c1] = classRange(p);
          return [x, headPtr, bias === undefined ? 0 : base + biasAt, tile, base + scratch[p]!.widened, n, c0!, c1!, dim, classes, chunkClasses, dtype];
        });
        const byRows = (p: number, at: (r0: number) => number[], then: number[]) => {
          const [r0, r1] = share(p, n);
          return [...at(r0), r1 - r0, ...then];
        };
        if (argmax !== undefined) {
          run(arena, kernels.argmaxRows, parts, n * classes, (p) => byRows(p, (r0) => [tile + r0 * classes * 4, base + argmaxAt + (b0 + r0) * 4, base + scratch[p]!.best], [classes]));
        }
        run(arena, kernels.crossEntropy, parts, n * classes, (p) => byRows(p, (r0) => [
          tile + r0 * classes * 4, base + targetAt + (g0 + b0 + r0) * 4, s.weight === undefined ? 0 : base + weightAt,
          backward ? tile + r0 * classes * 4 : 0, base + lossesAt + (b0 + r0) * 4, base + lsesAt + (b0 + r0) * 4,
        ], [classes, ...scalars]));
        if (!backward) continue;
        // The tile now holds G, the logits' gradient: G^T @ hidden into the head's gradient and
        // G's column sums into the bias's (split by classes), G @ head into hidden's (by rows).
        if (grads.head !== undefined || grads.bias !== undefined) {
          run(arena, kernels.linearHeadGrad, parts, work, (p) => {
            const [c0, c1] = classRange(p);
            const { panel, packed } = scratch[p]!;
            return [tile, x, grads.head ? base + headGradAt : 0, grads.bias ? base + biasGradAt : 0, base + panel, base + packed, n, c0!, c1!, dim, classes, chunkClasses];
          });
        }
        if (grads.hidden !== undefined) {
          run(arena, kernels.linearHiddenGrad, parts, work, (p) => {
            const { widened, panel, packed } = scratch[p]!;
            return byRows(p, (r0) => [tile + r0 * classes * 4, headPtr, base + hiddenGradAt + (b0 + r0) * dim * 4, base + widened, base + panel, base + packed], [dim, classes, chunkClasses, dtype]);
          });
        }
      }
      losses.set(f32(lossesAt, gRows), g0);
      lse.set(f32(lsesAt, gRows), g0);
      argmax?.set(arena.i32(base + argmaxAt, gRows), g0);
      if (grads.hidden !== undefined) results.hidden!().set(f32(hiddenGradAt, gRows * dim), g0 * dim);
    }
    if (grads.head !== undefined) results.head!().set(f32(headGradAt, classes * dim));
    if (grads.bias !== undefined) results.bias!().set(f32(biasGradAt, classes));
  } finally {
    arena.release(base);
  }

  const { loss, zLoss, count } = reduceRows(s, losses, lse);
  const result: LinearCrossEntropyResult = { loss, losses, lse, zLoss, count };
  if (argmax !== undefined) result.argmax = argmax;
  if (backward) {
    result.grad = {};
    if (results.hidden) result.grad.hidden = results.hidden();
    if (results.head) result.grad.head = results.head();
    if (results.bias) result.grad.bias = results.bias();
  }
  return result;
}

/**
 * kernel(...argsOf(p)) for parts p = 0 .. parts - 1: on the calling thread alone, or part 0
 * there and the others on the engine's workers at the same time. `work` sizes the deadline.
 */
function run(arena: Arena, kernel: RowKernel, parts: number, work: number, argsOf: (p: number) => number[]): void {
  if (parts === 1) {
    kernel(...argsOf(0));
    return;
  }
  arena.workers!.run(kernel, Array.from({ length: parts }, (_, p) => argsOf(p)), work / 16);
}

/** Offsets of 16-byte aligned buffers, laid out one after another from `bytes`. */
class Layout {
  constructor(public bytes = 0) {}

  add(bytes: number): number {
    const at = this.bytes;
    this.bytes += align(bytes); // buffers pass 2 GiB (a 256000 x 2304 head's gradient)
    return at;
  }
}

/** hidden or head: f32 as a Float32Array or a Tensor, or 16-bit bits as a Uint16Array. */
function operand(ctx: EngineContext, value: unknown, dtype: 'f32' | 'f16' | 'bf16', what: string): Operand {
  const memory = ctx.arena.memory.buffer;
  if (value instanceof Tensor) {
    checkTensor(OP, ctx.arena, value);
    if (dtype !== 'f32') throw new XentError('BAD_OPTION', `${OP}: a Tensor ${what} holds f32 values, but headDtype is '${dtype}'`);
    return { data: value.data, resident: value.ptr };
  }
  const expected = dtype === 'f32' ? Float32Array : Uint16Array;
  if (!(value instanceof expected)) {
    const as = dtype === 'f32' ? 'a Float32Array or a Tensor' : `a Uint16Array of ${dtype} bits (headDtype '${dtype}')`;
    throw new XentError('SHAPE_MISMATCH', `${OP}: ${what} must be ${as}, got ${describe(value)}`);
  }
  return { data: value, resident: value.buffer === memory ? value.byteOffset : -1 };
}

/** classes x dim from the head's length and options.classes. */
function headShape(length: number, classes: unknown): { rows: number; classes: number } {
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: options.classes (the head's rows) must be an integer >= 1, got ${describe(classes)}`);
  }
  const dim = length / classes;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: the head has ${length} values, which is not classes x dim for ${classes} classes and a dim >= 1`);
  }
  return { rows: classes, classes: dim };
}

/** A tensor-like hidden state [..., dim] (ONNX Runtime, transformers.js): its float32 data. */
function tensorLikeData(value: { data: unknown; dims: readonly number[]; type?: string }, dim: number): Float32Array {
  const { data, dims, type } = value;
  if (!Array.isArray(dims) || dims.length === 0 || dims[dims.length - 1] !== dim) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: hidden.dims must end in dim = ${dim} (head.length / classes), got ${describe(dims)}`);
  }
  if ((type !== undefined && type !== 'float32') || !(data instanceof Float32Array)) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: hidden must be a float32 tensor, got ${describe(type ?? data)}`);
  }
  const length = dims.reduce((a, b) => a * b, 1);
  if (data.length !== length) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: hidden.data holds ${data.length} values, but its dims [${dims.join(', ')}] need ${length}`);
  }
  return data;
}

/** The gradients asked for, each with the array it ends in, checked before anything runs. */
function gradOutputs(value: unknown, lengths: { hidden: number; head: number; bias: number }): Partial<Record<keyof typeof lengths, GradOut>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) {
    throw new XentError('BAD_OPTION', `${OP}: grad must be an object such as { hidden: true, head: true }, got ${describe(value)}`);
  }
  const request = value as Record<string, unknown>;
  checkOptionKeys(`${OP} grad`, request, ['hidden', 'head', 'bias', 'accumulate']);
  const accumulate = request.accumulate ?? false;
  if (typeof accumulate !== 'boolean') {
    throw new XentError('BAD_OPTION', `${OP}: grad.accumulate must be true or false, got ${describe(accumulate)}`);
  }
  const outs: Partial<Record<keyof typeof lengths, GradOut>> = {};
  for (const name of ['hidden', 'head', 'bias'] as const) {
    const want = request[name];
    if (want === undefined || want === false) continue;
    if (want === true) {
      outs[name] = { out: new Float32Array(lengths[name]), accumulate: false };
    } else {
      outs[name] = { out: float32Of(OP, `grad.${name}`, want, lengths[name]), accumulate };
    }
  }
  if (Object.keys(outs).length === 0) {
    throw new XentError('BAD_OPTION', `${OP}: grad asks for no gradient; name hidden, head or bias (or omit grad for the forward only)`);
  }
  return outs;
}

/**
 * A gradient may not share memory with an input or another gradient, except hidden's, which
 * may be hidden itself (each group of rows is written after its last use).
 */
function refuseOverlaps(grads: Partial<Record<string, GradOut>>, inputs: Record<string, ArrayBufferView | undefined>): void {
  const spans = (a: ArrayBufferView): [number, number] => [a.byteOffset, a.byteOffset + a.byteLength];
  const named = Object.entries(grads).map(([name, g]) => [`grad.${name}`, g!.out] as const);
  for (const [i, [name, out]] of named.entries()) {
    const [start, end] = spans(out);
    const others = [...Object.entries(inputs), ...named.slice(i + 1)];
    for (const [other, data] of others) {
      if (data === undefined || data.buffer !== out.buffer) continue;
      const [s0, s1] = spans(data);
      if (s0 >= end || start >= s1 || start === end) continue;
      if (name === 'grad.hidden' && other === 'hidden' && s0 === start && s1 === end) continue;
      throw new XentError('BAD_OPTION', `${OP}: ${name} overlaps ${other} in memory; pass separate arrays (grad.hidden may be hidden itself)`);
    }
  }
}
