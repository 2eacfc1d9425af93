// Runs a row kernel over any mix of plain arrays and tensors. Tensors are used where they
// live; plain arrays go through engine memory in chunks of rows (tuning.CHUNK_BYTES), so
// inputs larger than memory work and memory stays bounded. Every block is reserved before
// the first kernel call, so an OUT_OF_MEMORY leaves the caller's arrays untouched.

import { XentError } from './errors.js';
import { Tensor, type Arena } from './memory.js';
import { CHUNK_BYTES, THREAD_MIN_ELEMENTS } from './tuning.js';

type Pointer = number;

/** A kernel of the wasm ABI: pointers, then rows and classes, then scalars. */
export type RowKernel = (...args: number[]) => void;

/** One pointer argument of a row kernel. */
export type Arg =
  /** Read, perRow values per row. */
  | { read: Float32Array | Int32Array | Tensor; perRow: number }
  /** Read as 16-bit floats, perRow per row, widened to f32 in engine memory by `widen`. */
  | { read: Uint16Array; perRow: number; widen: (halves: number, floats: number, n: number) => void }
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
  const memory = arena.memory.buffer;
  const plan = call.args.map((arg) => planArg(arg, call.args, memory));

  // One block of engine memory holds the class weights and a chunk buffer per plain array.
  let chunkBytesPerRow = 0;
  let wholeBytes = 0;
  for (const p of plan) {
    if (p.chunked && p.over === undefined) chunkBytesPerRow += p.perRow * (p.halves === undefined ? 4 : 6);
    if (p.whole !== undefined) wholeBytes += align16(p.whole.byteLength);
  }
  const spare = arena.largestFree - wholeBytes - 16 * plan.length;
  // Each thread gets a chunk's worth of rows: a job per thread is worth its posting only then.
  const chunkBytes = CHUNK_BYTES * (1 + (arena.workers?.size ?? 0));
  const chunkRows = Math.max(1, Math.min(rows, Math.floor(chunkBytes / Math.max(1, chunkBytesPerRow)), Math.floor(spare / Math.max(1, chunkBytesPerRow))));
  const bufferBytes = (p: ArgPlan) => align16(chunkRows * p.perRow * 4) + (p.halves === undefined ? 0 : align16(chunkRows * p.perRow * 2));
  const blockBytes = wholeBytes + (rows > 0 ? plan.reduce((sum, p) => sum + (p.chunked && p.over === undefined ? bufferBytes(p) : 0), 0) : 0);
  if (blockBytes === 0) {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) runChunk(arena, call, plan, r0, Math.min(chunkRows, rows - r0));
    return;
  }
  const block = arena.alloc(blockBytes, () => `${call.op} (weights and a chunk of ${chunkRows} rows of ${classes} classes)`);
  try {
    let next = block;
    for (const p of plan) {
      if (p.whole !== undefined) {
        p.ptr = next;
        arena.f32(next, p.whole.length).set(p.whole);
        next += align16(p.whole.byteLength);
      } else if (p.chunked && p.over === undefined && rows > 0) {
        p.ptr = next;
        p.staging = next + align16(chunkRows * p.perRow * 4);
        next += bufferBytes(p);
      }
    }
    for (const p of plan) if (p.over !== undefined) p.ptr = plan[p.over]!.ptr;
    for (let r0 = 0; r0 < rows; r0 += chunkRows) runChunk(arena, call, plan, r0, Math.min(chunkRows, rows - r0));
  } finally {
    arena.release(block);
  }
}

/** Rows r0 .. r0 + n: copy the plain inputs in, run the kernel, copy the plain outputs out. */
function runChunk(arena: Arena, call: RowCall, plan: ArgPlan[], r0: number, n: number): void {
  const pointers = plan.map((p) => (p.resident >= 0 ? p.resident + r0 * p.perRow * 4 : p.ptr));
  for (const p of plan) {
    if (p.source !== undefined) copyIn(arena, p.ptr, p.source, r0 * p.perRow, n * p.perRow);
    if (p.halves !== undefined) {
      const length = n * p.perRow;
      new Uint16Array(arena.memory.buffer, p.staging, length).set(p.halves.subarray(r0 * p.perRow, r0 * p.perRow + length));
      p.widen!(p.staging, p.ptr, length);
    }
  }
  runKernel(arena, call, plan, pointers, n);
  for (const p of plan) {
    if (p.dest !== undefined) p.dest.set(arena.f32(p.ptr, n * p.perRow), r0 * p.perRow);
  }
}

function align16(bytes: number): number {
  return (bytes + 15) & ~15;
}

/**
 * One kernel call over n rows: on the calling thread alone, or split by rows across the
 * engine's worker threads. Rows are independent, so the split changes no result bit.
 */
function runKernel(arena: Arena, call: RowCall, plan: readonly ArgPlan[], pointers: number[], n: number): void {
  const { classes, scalars } = call;
  const pool = arena.workers;
  const parts = pool === undefined || n * classes < THREAD_MIN_ELEMENTS ? 1 : Math.min(pool.size + 1, n);
  if (parts === 1) {
    call.kernel(...pointers, n, classes, ...scalars);
    return;
  }
  const args: number[][] = [];
  for (let p = 0; p < parts; p++) {
    const first = Math.floor((p * n) / parts);
    const rows = Math.floor(((p + 1) * n) / parts) - first;
    args.push([...pointers.map((ptr, k) => (plan[k]!.perRow > 0 ? ptr + first * plan[k]!.perRow * 4 : ptr)), rows, classes, ...scalars]);
  }
  pool!.run(call.kernel, args, n * classes);
}

/** How one argument reaches the kernel. */
class ArgPlan {
  /** Values per row; 0 for arguments that do not move with the rows. */
  perRow = 0;
  /** Goes through a chunk buffer in engine memory (a plain array). */
  chunked = false;
  /** Copied into the chunk buffer before each call. */
  source: Float32Array | Int32Array | undefined = undefined;
  /** Copied out of the chunk buffer after each call. */
  dest: Float32Array | undefined = undefined;
  /** Already lives in engine memory at this address (>= 0): used where it is. */
  resident = -1;
  /** Computed in place in the chunk buffer of this argument. */
  over: number | undefined = undefined;
  /** 16-bit floats copied into `staging`, then widened into the chunk buffer by `widen`. */
  halves: Uint16Array | undefined = undefined;
  widen: ((halves: number, floats: number, n: number) => void) | undefined = undefined;
  staging: Pointer = 0;
  /** Copied once, the same for every row. */
  whole: Float32Array | undefined = undefined;
  /** The address the kernel is given (for chunked and whole arguments). */
  ptr: Pointer = 0;
}

function planArg(arg: Arg, args: Arg[], memory: ArrayBufferLike): ArgPlan {
  const plan = new ArgPlan();
  if ('none' in arg) return plan;
  if ('whole' in arg) {
    plan.whole = arg.whole;
    return plan;
  }
  plan.perRow = arg.perRow;
  if ('widen' in arg) {
    plan.chunked = true;
    plan.halves = arg.read;
    plan.widen = arg.widen;
    return plan;
  }
  const data = 'read' in arg ? arg.read : arg.write;
  plan.resident = residentPointer(data, memory);
  if (plan.resident >= 0) return plan;
  plan.chunked = true;
  if ('read' in arg) {
    plan.source = arg.read as Float32Array | Int32Array;
    return plan;
  }
  plan.dest = arg.write as Float32Array;
  const base = args[arg.over ?? -1];
  if (base !== undefined && 'read' in base && ('widen' in base || residentPointer(base.read, memory) < 0)) plan.over = arg.over;
  return plan;
}

/**
 * Where data already lives in engine memory (or -1): a tensor, or a view of engine memory
 * (such as a tensor's data passed as a plain array), which is used in place, never copied.
 */
function residentPointer(data: Float32Array | Int32Array | Tensor, memory: ArrayBufferLike): number {
  if (data instanceof Tensor) return data.ptr;
  return data.buffer === memory ? data.byteOffset : -1;
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
