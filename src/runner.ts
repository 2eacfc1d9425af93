// Runs a row kernel over any mix of plain arrays and tensors. Tensors are used where they
// live; plain arrays go through engine memory in chunks of rows (tuning.CHUNK_BYTES), so
// inputs larger than memory work and memory stays bounded. Every block is reserved before
// the first kernel call, so an OUT_OF_MEMORY leaves the caller's arrays untouched.

import { XentError } from './errors.js';
import { Tensor, type Arena } from './memory.js';
import { CHUNK_BYTES } from './tuning.js';

type Pointer = number;

/** A kernel of the wasm ABI: pointers, then rows and classes, then scalars. */
export type RowKernel = (...args: number[]) => void;

/** One pointer argument of a row kernel. */
export type Arg =
  /** Read, perRow values per row. */
  | { read: Float32Array | Int32Array | Tensor; perRow: number }
  /** Written, perRow values per row; `over` is the index of a read argument that the kernel
   *  may overwrite to compute this one in place (when both are plain arrays). */
  | { write: Float32Array | Tensor; perRow: number; over?: number }
  /** The same values for every row (class weights), copied once; undefined passes 0. */
  | { whole: Float32Array | undefined }
  /** A null pointer. */
  | { none: true };

export interface RowCall {
  /** Names the operation in OUT_OF_MEMORY messages. */
  op: string;
  kernel: RowKernel;
  args: Arg[];
  rows: number;
  classes: number;
  scalars: number[];
}

export function runRows(arena: Arena, call: RowCall): void {
  const { rows, classes } = call;
  const plan = call.args.map((arg) => planArg(arg, call.args));
  const chunkBytesPerRow = plan.reduce((sum, p) => sum + (p.chunked ? p.perRow * 4 : 0), 0);
  const wholeBytes = plan.reduce((sum, p) => sum + p.wholeBytes, 0);
  const wanted = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, chunkBytesPerRow)));
  const fits = Math.floor((arena.largestFree - wholeBytes - 64 * plan.length) / Math.max(1, chunkBytesPerRow));
  const chunkRows = Math.max(1, Math.min(rows, wanted, fits));

  const blocks: Pointer[] = [];
  try {
    for (const p of plan) {
      if (p.wholeBytes > 0) {
        p.ptr = arena.alloc(p.wholeBytes, `${call.op} (class weights)`);
        blocks.push(p.ptr);
        arena.f32(p.ptr, p.wholeBytes / 4).set(p.whole!);
      } else if (p.chunked && p.over === undefined && rows > 0) {
        p.ptr = arena.alloc(chunkRows * p.perRow * 4, `${call.op} (a chunk of ${chunkRows} rows of ${classes} classes)`);
        blocks.push(p.ptr);
      }
    }
    for (const p of plan) if (p.over !== undefined) p.ptr = plan[p.over]!.ptr;

    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      const pointers = plan.map((p) => {
        if (p.tensor !== undefined) return p.tensor.ptr + r0 * p.perRow * 4;
        return p.ptr;
      });
      for (const p of plan) {
        if (p.chunked && p.source !== undefined) copyIn(arena, p.ptr, p.source, r0 * p.perRow, n * p.perRow);
      }
      call.kernel(...pointers, n, classes, ...call.scalars);
      for (const p of plan) {
        if (p.chunked && p.dest !== undefined) p.dest.set(arena.f32(p.ptr, n * p.perRow), r0 * p.perRow);
      }
    }
  } finally {
    for (const ptr of blocks) arena.release(ptr);
  }
}

interface ArgPlan {
  perRow: number;
  /** Goes through a chunk buffer in engine memory. */
  chunked: boolean;
  source?: Float32Array | Int32Array;
  dest?: Float32Array;
  tensor?: Tensor;
  over?: number;
  whole?: Float32Array;
  wholeBytes: number;
  ptr: Pointer;
}

function planArg(arg: Arg, args: Arg[]): ArgPlan {
  const none: ArgPlan = { perRow: 0, chunked: false, wholeBytes: 0, ptr: 0 };
  if ('none' in arg) return none;
  if ('whole' in arg) {
    return arg.whole === undefined ? none : { ...none, whole: arg.whole, wholeBytes: arg.whole.byteLength };
  }
  if ('read' in arg) {
    return arg.read instanceof Tensor
      ? { ...none, perRow: arg.perRow, tensor: arg.read }
      : { ...none, perRow: arg.perRow, chunked: true, source: arg.read };
  }
  if (arg.write instanceof Tensor) return { ...none, perRow: arg.perRow, tensor: arg.write };
  const base = args[arg.over ?? -1];
  const inPlace = base !== undefined && 'read' in base && !(base.read instanceof Tensor);
  return { ...none, perRow: arg.perRow, chunked: true, dest: arg.write, ...(inPlace ? { over: arg.over } : {}) };
}

function copyIn(arena: Arena, ptr: Pointer, source: Float32Array | Int32Array, start: number, length: number): void {
  const view = source instanceof Int32Array ? arena.i32(ptr, length) : arena.f32(ptr, length);
  view.set(source.subarray(start, start + length));
}

/** Throws unless `t` is a live tensor of this arena's engine. */
export function checkTensor(op: string, arena: Arena, t: Tensor): void {
  if (t.owner.arena !== arena) {
    throw new XentError('BAD_OPTION', `${op}: this tensor belongs to another engine`);
  }
  void t.ptr; // throws FREED or DISPOSED
}
