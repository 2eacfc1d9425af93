// Runs a row kernel over any mix of plain arrays and tensors. Tensors are used where they
// live; plain arrays go through engine memory in chunks of rows (tuning.CHUNK_BYTES), so
// inputs larger than memory work and memory stays bounded. Every block is reserved before
// the first kernel call, so an OUT_OF_MEMORY leaves the caller's arrays untouched.

import { XentError } from './errors.js';
import { SMALL_BLOCK_BYTES, Tensor, align, type Arena } from './memory.js';
import type { WorkerPool } from './threads/pool.js';
import { CHUNK_BYTES, THREAD_BLOCK_ELEMENTS, THREAD_MIN_ELEMENTS } from './tuning.js';

type Pointer = number;

/** A kernel of the wasm ABI (src/kernels.ts): pointers, then rows and classes, then scalars. */
export type RowKernel = (...args: number[]) => void;

/**
 * kernels.sumLanes: adds n f32 at `values`, elements first .. first + n of a whole array, to
 * eight f64 lanes at `lanes` and returns their total, in the order of ops/sum.ts's sumOf.
 */
export type SumLanes = (values: Pointer, n: number, first: number, lanes: Pointer) => number;

/** Bytes of sumLanes' eight f64 lanes. */
const LANES_BYTES = 64;

/** The scalars a kernel takes after its `pointers` pointers, rows and classes. */
export type ScalarsOf<K extends RowKernel, Pointers extends number> =
  Parameters<K> extends [...Numbers<Pointers>, number, number, ...infer S] ? S : never;

type Numbers<N extends number, T extends number[] = []> = T['length'] extends N ? T : Numbers<N, [...T, number]>;

/**
 * One pointer argument of a row kernel. `name` (the caller's name for an array the caller
 * gave) is what a refusal of overlapping arguments says. `own` marks an array the operation
 * made for this call: never a view of engine memory, overlapping nothing, so its `buffer` is
 * never read (for a small typed array V8 then makes one: microseconds, the most of a small call).
 */
export type Arg =
  /** Read, perRow values per row. */
  | { read: Float32Array | Int32Array | Tensor; perRow: number; name?: string; own?: true }
  /** Read as 16-bit floats, perRow per row, widened to f32 in engine memory by `widen`. */
  | { read: Uint16Array; perRow: number; widen: (halves: number, floats: number, n: number) => void; name?: string }
  /** Written, perRow values per row; `over` is the index of an earlier read argument that the
   *  kernel may overwrite to compute this one in place (when both are plain arrays). */
  | { write: Float32Array | Tensor; perRow: number; over?: number; name?: string; own?: true }
  /** Written to an array the operation made, and totalled in float64 as it is copied out, by
   *  sumLanes in engine memory: runRows returns the total. */
  | { write: Float32Array; perRow: number; own: true; total: SumLanes }
  /** Scratch rows, perRow values per row, that the kernel writes and reads back: never copied. */
  | { scratch: number }
  /** The same values for every row (class weights), copied once; undefined passes 0. */
  | { whole: Float32Array | undefined }
  /** A null pointer. */
  | { none: true };

/**
 * One call of a row kernel: its arguments, one pointer each, then rows and classes and the
 * scalars, whose number and order the kernel's signature fixes (a mismatch does not compile).
 */
export interface RowCall<K extends RowKernel = RowKernel, A extends readonly Arg[] = readonly Arg[]> {
  /** Names the operation in OUT_OF_MEMORY messages. */
  op: string;
  kernel: K;
  args: A;
  rows: number;
  classes: number;
  scalars: ScalarsOf<K, A['length']>;
  /** How the call splits each row's columns among threads, for rows too few to share out (unevenRows). */
  columns?: ColumnSplit;
}

/**
 * A row kernel's call split by columns instead of rows: `run` computes rows n of the kernel's
 * `pointers` on the calling thread and the workers of `pool`, with `bytes(rows, threads)` of
 * engine memory at `scratch`, and `alongside` (copies of other chunks) on the calling thread.
 */
export interface ColumnSplit {
  bytes(rows: number, threads: number): number;
  run(arena: Arena, pool: WorkerPool, scratch: Pointer, pointers: readonly Pointer[], rows: number, alongside?: () => void): void;
}

interface AnyRowCall extends Omit<RowCall, 'scalars'> {
  scalars: readonly number[];
}

/** Runs the call; returns the total of the output that asks for one (see Arg), else 0. */
export function runRows<K extends RowKernel, const A extends readonly Arg[]>(arena: Arena, typed: RowCall<K, A>): number {
  const call: AnyRowCall = typed as AnyRowCall;
  if (arena.disposed) throw new XentError('DISPOSED', `${call.op}: the engine was disposed during this call`);
  const { rows, classes } = call;
  const memory = arena.buffer;
  const plan: ArgPlan[] = [];
  for (const arg of call.args) plan.push(planArg(arg, plan, memory));
  refuseOverlaps(call, plan);
  const threads = 1 + (arena.workers?.size ?? 0);

  // One block of engine memory holds the class weights and the chunk buffers of the plain
  // arrays: one set of them, or two with threads, so that the calling thread can copy the
  // next chunk in (and the last one out) while the workers compute.
  let chunkBytesPerRow = 0;
  let wholeBytes = 0;
  // Small calls: few elements (no thread would share them) and a few KiB of f32 arrays to copy.
  let smallBytes = 0;
  let halves = false;
  let copied = false;
  let lanesBytes = 0;
  for (const p of plan) {
    if (p.total !== undefined) lanesBytes = LANES_BYTES;
    if (p.source !== undefined || p.dest !== undefined || p.halves !== undefined) copied = true;
    if (p.chunked && p.over === undefined) {
      chunkBytesPerRow += p.perRow * (p.halves === undefined ? 4 : 6);
      smallBytes += align(rows * p.perRow * 4);
    }
    if (p.whole !== undefined) wholeBytes += align(p.whole.byteLength);
    if (p.halves !== undefined) halves = true;
  }
  if (rows * classes <= SMALL_CALL_ELEMENTS && smallBytes + wholeBytes + lanesBytes <= SMALL_CALL_BYTES && !halves) {
    return runSmall(arena, call, plan);
  }
  // Scratch rows alone need one set: there is nothing to copy while the workers compute.
  const sets = threads > 1 && copied && rows > 0 ? 2 : 1;
  const spare = (arena.largestFree - wholeBytes - 32 * plan.length) / sets;
  // Each thread gets a chunk's worth of rows: a job per thread is worth its posting only then.
  const perRow = Math.max(1, chunkBytesPerRow);
  const chunkRows = Math.max(1, Math.min(rows, Math.floor((CHUNK_BYTES * threads) / perRow), Math.floor(spare / perRow)));
  // Each buffer has SKEW_SLACK bytes to spare for `chunkAddress`.
  const bufferBytes = (p: ArgPlan) =>
    align(chunkRows * p.perRow * 4 + SKEW_SLACK) + (p.halves === undefined ? 0 : align(chunkRows * p.perRow * 2 + SKEW_SLACK));
  const setBytes = rows > 0 ? plan.reduce((sum, p) => sum + (p.chunked && p.over === undefined ? bufferBytes(p) : 0), 0) : 0;
  const columnBytes = call.columns !== undefined && threads > 1 ? align(call.columns.bytes(chunkRows, threads)) : 0;
  const blockBytes = wholeBytes + lanesBytes + sets * setBytes + columnBytes;
  const block = blockBytes === 0 ? 0 : arena.alloc(blockBytes, () => `${call.op} (weights and chunks of ${chunkRows} rows of ${classes} classes)`);
  try {
    let next = block;
    for (const p of plan) {
      if (p.whole === undefined) continue;
      p.ptr = next;
      arena.f32(next, p.whole.length).set(p.whole);
      next += align(p.whole.byteLength);
    }
    const lanes = clearLanes(arena, next, lanesBytes);
    next += lanesBytes;
    const buffers: Buffers[] = [];
    for (let set = 0; set < sets; set++) {
      const b: Buffers = { ptr: plan.map((p) => p.ptr), staging: plan.map(() => 0) };
      plan.forEach((p, k) => {
        if (!p.chunked || p.over !== undefined || rows === 0) return;
        b.ptr[k] = next;
        b.staging[k] = next + align(chunkRows * p.perRow * 4 + SKEW_SLACK);
        next += bufferBytes(p);
      });
      buffers.push(b);
    }
    const scratch = next;
    const chunks = Math.ceil(rows / chunkRows);
    const rowsOf = (c: number) => Math.min(chunkRows, rows - c * chunkRows);
    if (chunks > 0) copyIn(arena, plan, buffers[0]!, 0, rowsOf(0));
    for (let c = 0; c < chunks; c++) {
      const here = buffers[c % sets]!;
      const r0 = c * chunkRows;
      const pointers = plan.map((p, k) => (p.resident >= 0 ? p.resident + r0 * p.perRow * 4 : chunkAddress(plan, here.ptr, k, r0)));
      if (sets === 1) {
        runKernel(arena, call, plan, pointers, rowsOf(c), scratch);
        copyOut(arena, plan, here, r0, rowsOf(c), lanes);
        if (c + 1 < chunks) copyIn(arena, plan, here, r0 + chunkRows, rowsOf(c + 1));
        continue;
      }
      const other = buffers[(c + 1) % sets]!;
      const copies = chunks === 1 ? undefined : () => {
        if (c > 0) copyOut(arena, plan, other, r0 - chunkRows, rowsOf(c - 1), lanes);
        if (c + 1 < chunks) copyIn(arena, plan, other, r0 + chunkRows, rowsOf(c + 1));
      };
      runKernel(arena, call, plan, pointers, rowsOf(c), scratch, copies);
      if (c + 1 === chunks) copyOut(arena, plan, here, r0, rowsOf(c), lanes);
    }
    return totalOf(plan);
  } finally {
    if (block !== 0) arena.release(block);
  }
}

/** Zeroes sumLanes' lanes at `at` when the call has a total (lanesBytes > 0); returns `at`. */
function clearLanes(arena: Arena, at: Pointer, lanesBytes: number): Pointer {
  if (lanesBytes > 0) arena.words.f32.fill(0, at >> 2, (at + lanesBytes) >> 2);
  return at;
}

/** The total that copyOut (or runSmall) took of the output that asks for one, else 0. */
function totalOf(plan: readonly ArgPlan[]): number {
  for (const p of plan) if (p.total !== undefined) return p.sum;
  return 0;
}

// A call whose plain arrays take at most SMALL_CALL_BYTES (laid out) and whose logits are at
// most SMALL_CALL_ELEMENTS (far below THREAD_MIN_ELEMENTS: no thread would share them) runs on a
// short path: a block kept for it, whole-array copies, no chunk bookkeeping. Small calls (one
// row scored at a time) are mostly this overhead.
const SMALL_CALL_BYTES = SMALL_BLOCK_BYTES;
const SMALL_CALL_ELEMENTS = 4096;

/** runRows for a small call: the arguments' plans made, one chunk, the calling thread. */
function runSmall(arena: Arena, call: AnyRowCall, plan: ArgPlan[]): number {
  const { rows } = call;
  const block = arena.smallCallBlock();
  {
    const words = arena.words;
    const pointers: number[] = [];
    let next = block;
    for (const p of plan) {
      if (p.whole !== undefined) {
        words.f32.set(p.whole, next >> 2);
        p.ptr = next;
        next += align(p.whole.byteLength);
      } else if (p.chunked && p.over === undefined) {
        p.ptr = next;
        next += align(rows * p.perRow * 4);
      }
    }
    for (const p of plan) {
      const at = p.resident >= 0 ? p.resident : p.over !== undefined ? plan[p.over]!.ptr : p.ptr;
      pointers.push(at);
      if (p.source instanceof Int32Array) copyInts(words.i32, at >> 2, p.source);
      else if (p.source !== undefined) copyFloats(words.f32, at >> 2, p.source, 0, p.source.length);
    }
    const args = pointers.length;
    pointers.push(rows, call.classes, ...call.scalars);
    call.kernel(...pointers);
    for (let k = 0; k < args; k++) {
      const p = plan[k]!;
      if (p.dest === undefined) continue;
      const at = pointers[k]!;
      if (p.total !== undefined) p.sum = p.total(at, p.dest.length, 0, clearLanes(arena, next, LANES_BYTES));
      copyFloats(p.dest, 0, words.f32, at >> 2, p.dest.length);
    }
    return totalOf(plan);
  }
}

/** Arrays of at most this many values are copied in and out of a small call element by element. */
const LOOP_COPY_VALUES = 64;

/**
 * to[at .. at + n) = from[start .. start + n), bit for bit. Short arrays go element by element,
 * which saves making a view (most of what a small call's copies cost); every f32 but NaN comes
 * through a JavaScript number unchanged, so a NaN (whose payload might not, and some arguments
 * carry f64 halves as f32 pairs) has the array copied again as bytes.
 */
function copyFloats(to: Float32Array, at: number, from: Float32Array, start: number, n: number): void {
  if (n <= LOOP_COPY_VALUES) {
    let nan = false;
    for (let j = 0; j < n; j++) {
      const v = from[start + j]!;
      to[at + j] = v;
      if (v !== v) nan = true;
    }
    if (!nan) return;
  }
  to.set(start === 0 && n === from.length ? from : from.subarray(start, start + n), at);
}

/** to[at .. at + from.length) = from: copyFloats for integers, which any number keeps. */
function copyInts(to: Int32Array, at: number, from: Int32Array): void {
  if (from.length > LOOP_COPY_VALUES) to.set(from, at);
  else for (let j = 0; j < from.length; j++) to[at + j] = from[j]!;
}

/**
 * An output may share memory with an input only by being exactly the input it is computed
 * over (in place); any other overlap would have the kernel read what it has already
 * written, so it is refused before anything is written. Arrays the operation made overlap
 * nothing, and weights are copied before any write.
 */
function refuseOverlaps(call: AnyRowCall, plan: readonly ArgPlan[]): void {
  // Plain loops over the plans, no `in` on the arguments: this runs on every call, and a
  // small call's whole budget is a microsecond or two.
  for (let w = 0; w < plan.length; w++) {
    const out = plan[w]!;
    if (!out.writes || out.callerBuffer === undefined || out.callerStart === out.callerEnd) continue;
    for (let k = 0; k < plan.length; k++) {
      const other = plan[k]!;
      if (k === w || other.callerBuffer !== out.callerBuffer) continue;
      if (other.callerStart >= out.callerEnd || out.callerStart >= other.callerEnd) continue;
      if (out.computedOver === k && other.callerStart === out.callerStart && other.callerEnd === out.callerEnd) continue;
      const name = (a: Arg) => ('name' in a && a.name) || 'a buffer of the call';
      throw new XentError(
        'BAD_OPTION',
        `${call.op}: ${name(call.args[w]!)} overlaps ${name(call.args[k]!)} in memory without being the same array; ` +
          'pass separate arrays (or, for an in-place result, the very same one)',
      );
    }
  }
}

/** Where one set of chunk buffers is, per argument. */
interface Buffers {
  ptr: Pointer[];
  staging: Pointer[];
}

/** Copies rows r0 .. r0 + n of the plain inputs into a set of chunk buffers. */
function copyIn(arena: Arena, plan: readonly ArgPlan[], buffers: Buffers, r0: number, n: number): void {
  plan.forEach((p, k) => {
    const start = r0 * p.perRow, length = n * p.perRow;
    if (p.source !== undefined) {
      const at = chunkAddress(plan, buffers.ptr, k, r0);
      if (length === p.source.length) {
        // Into the arena's whole-memory view of the same type: a byte copy, no new view.
        (p.source instanceof Int32Array ? arena.words.i32 : arena.words.f32).set(p.source, at >> 2);
      } else {
        const view = p.source instanceof Int32Array ? arena.i32(at, length) : arena.f32(at, length);
        view.set(p.source.subarray(start, start + length));
      }
    }
    if (p.halves !== undefined) {
      const staging = buffers.staging[k]! + skew(p.halves, start);
      new Uint16Array(arena.memory.buffer, staging, length).set(p.halves.subarray(start, start + length));
      p.widen!(staging, chunkAddress(plan, buffers.ptr, k, r0), length);
    }
  });
}

/**
 * Copies rows r0 .. r0 + n of the plain outputs out of a set of chunk buffers, adding the one
 * that asks for a total to the lanes at `lanes` (chunks come here in order).
 */
function copyOut(arena: Arena, plan: readonly ArgPlan[], buffers: Buffers, r0: number, n: number, lanes: Pointer): void {
  plan.forEach((p, k) => {
    if (p.dest === undefined) return;
    const at = chunkAddress(plan, buffers.ptr, k, r0), length = n * p.perRow;
    if (p.total !== undefined) p.sum = p.total(at, length, r0 * p.perRow, lanes);
    p.dest.set(arena.f32(at, length), r0 * p.perRow);
  });
}

// V8 copies between a SharedArrayBuffer (a threaded engine's memory) and an ordinary one
// with relaxed atomic word stores when the two addresses are equal modulo 8, and byte by
// byte otherwise: 7x slower (1 MB in 0.06 ms against 0.4 ms, measured on Node 20). So
// each chunk is placed at the byte of its buffer that matches its host array's alignment.
const SKEW_SLACK = 8;

/**
 * The address of row r0's chunk of argument k in the buffers at `bases`: an argument
 * computed over another uses that one's; one copied from or to a host array (or widened into
 * and then copied out to one) is skewed by up to 7 bytes to match it modulo 8 (the kernels
 * load unaligned anyway).
 */
function chunkAddress(plan: readonly ArgPlan[], bases: readonly Pointer[], k: number, r0: number): Pointer {
  const p = plan[k]!;
  if (p.over !== undefined) return chunkAddress(plan, bases, p.over, r0);
  // Widened 16-bit input has no f32 host of its own: the output computed over it does.
  const host = p.source ?? p.dest ?? plan.find((q) => q.over === k)?.dest;
  return bases[k]! + (host === undefined ? 0 : skew(host, r0 * p.perRow));
}

/** How far past an aligned buffer start element `first` of `host` goes, for chunkAddress. */
function skew(host: ArrayBufferView & { BYTES_PER_ELEMENT: number }, first: number): number {
  return (host.byteOffset + first * host.BYTES_PER_ELEMENT) & 7;
}


/**
 * One kernel call over n rows: on the calling thread alone, or on it and the engine's worker
 * threads, which claim blocks of rows as they come free (WorkerPool.share), with `alongside`
 * (copies of other chunks) on the calling thread first. Rows are independent, so how they are
 * shared out changes no result bit. Rows too few to share out evenly split their columns
 * instead, where the call can (`columns`, with its bytes at `scratch`).
 */
function runKernel(
  arena: Arena,
  call: AnyRowCall,
  plan: readonly ArgPlan[],
  pointers: number[],
  n: number,
  scratch: Pointer,
  alongside?: () => void,
): void {
  const { classes, scalars } = call;
  const pool = arena.workers;
  if (pool !== undefined && call.columns !== undefined && n * classes >= THREAD_MIN_ELEMENTS && unevenRows(n, pool.size + 1)) {
    call.columns.run(arena, pool, scratch, pointers, n, alongside);
    return;
  }
  if (pool === undefined || n * classes < THREAD_MIN_ELEMENTS || n === 1) {
    call.kernel(...pointers, n, classes, ...scalars);
    alongside?.();
    return;
  }
  const strides = plan.map((p) => p.perRow * 4);
  const block = Math.max(1, Math.ceil(THREAD_BLOCK_ELEMENTS / classes));
  pool.share(call.kernel, [...pointers, n, classes, ...scalars], strides, pointers.length, block, n * classes, alongside);
}

/**
 * Whether n rows shared out whole would leave threads idle or waiting: fewer rows than twice
 * the threads and not a multiple of them. Rows bound the speed-up to n / ceil(n / threads)
 * (1.5x for 3 rows on 2 threads; measured 1.33x at 3 x 128256, against 1.69-1.82x with the
 * columns split).
 */
function unevenRows(n: number, threads: number): boolean {
  return n < 2 * threads && n % threads !== 0;
}

/** How one argument reaches the kernel. */
class ArgPlan {
  /** Values per row; 0 for arguments that do not move with the rows. */
  perRow = 0;
  /** Has a chunk buffer in engine memory (a plain array, or scratch). */
  chunked = false;
  /** Copied into the chunk buffer before each call. */
  source: Float32Array | Int32Array | undefined = undefined;
  /** Copied out of the chunk buffer after each call. */
  dest: Float32Array | undefined = undefined;
  /** Already lives in engine memory at this address (>= 0): used where it is. */
  resident = -1;
  /** Computed in place in the chunk buffer of this argument. */
  over: number | undefined = undefined;
  /**
   * Where the caller's array or tensor is (not one the operation made): its buffer and byte
   * range, which refuseOverlaps checks.
   */
  callerBuffer: ArrayBufferLike | undefined = undefined;
  callerStart = 0;
  callerEnd = 0;
  /** Written by the kernel, and (when given) the argument it may be computed over in place. */
  writes = false;
  computedOver: number | undefined = undefined;
  /** 16-bit floats copied into `staging`, then widened into the chunk buffer by `widen`. */
  halves: Uint16Array | undefined = undefined;
  widen: ((halves: number, floats: number, n: number) => void) | undefined = undefined;
  staging: Pointer = 0;
  /** Copied once, the same for every row. */
  whole: Float32Array | undefined = undefined;
  /** Sums this output as it is copied out, into `sum`. */
  total: SumLanes | undefined = undefined;
  sum = 0;
  /** The address the kernel is given (for chunked and whole arguments). */
  ptr: Pointer = 0;

  /** Notes where the caller's `data` is. */
  caller(data: Float32Array | Int32Array | Uint16Array | Tensor, memory: ArrayBufferLike): void {
    // isView first: V8 answers it from the object's type, where instanceof walks prototypes.
    if (ArrayBuffer.isView(data)) {
      this.callerBuffer = data.buffer;
      this.callerStart = data.byteOffset;
      this.callerEnd = data.byteOffset + data.byteLength;
    } else {
      this.callerBuffer = memory;
      this.callerStart = data.ptr;
      this.callerEnd = data.ptr + data.rows * data.cols * 4;
    }
  }
}

/**
 * Every member of Arg at once, for planArg to take apart by reading fields: an `in` test on
 * arguments of many shapes goes through V8's slow generic path, a field read does not (a small
 * call's planning 3% faster).
 */
interface ArgFields {
  read?: Float32Array | Int32Array | Uint16Array | Tensor;
  write?: Float32Array | Tensor;
  perRow?: number;
  widen?: (halves: number, floats: number, n: number) => void;
  over?: number;
  own?: true;
  total?: SumLanes;
  scratch?: number;
  whole?: Float32Array;
}

/** How `arg` reaches the kernel, given the plans of the arguments before it. */
function planArg(arg: Arg, planned: readonly ArgPlan[], memory: ArrayBufferLike): ArgPlan {
  const plan = new ArgPlan();
  const a = arg as ArgFields;
  const read = a.read, data = read ?? a.write;
  if (data === undefined) {
    // A view of engine memory would be detached if the call grows it: copy its few values.
    if (a.whole !== undefined) plan.whole = a.whole.buffer === memory ? a.whole.slice() : a.whole;
    if (a.scratch !== undefined) {
      plan.perRow = a.scratch;
      plan.chunked = true;
    }
    return plan;
  }
  plan.perRow = a.perRow!;
  if (a.widen !== undefined) {
    plan.chunked = true;
    plan.halves = read as Uint16Array;
    plan.caller(plan.halves, memory);
    plan.widen = a.widen;
    return plan;
  }
  plan.writes = read === undefined;
  if (plan.writes) {
    plan.computedOver = a.over;
    plan.total = a.total;
  }
  // Data in engine memory, a tensor or a view of it (such as a tensor's data passed as a plain
  // array), is used where it is, never copied. Arrays the operation made never are.
  if (a.own !== true) {
    plan.caller(data as Float32Array | Int32Array | Tensor, memory);
    if (plan.callerBuffer === memory) {
      plan.resident = plan.callerStart;
      return plan;
    }
  }
  plan.chunked = true;
  if (!plan.writes) {
    plan.source = data as Float32Array | Int32Array;
    return plan;
  }
  plan.dest = data as Float32Array;
  // In place over a plain (or widened) input: in its chunk buffer.
  const base = a.over === undefined ? undefined : planned[a.over];
  if (base !== undefined && (base.source !== undefined || base.halves !== undefined)) plan.over = a.over;
  return plan;
}


/**
 * What a call returns for an output it wrote: a Tensor's data, or the caller's array, re-made
 * when it was a view of engine memory that the call itself detached by growing the memory.
 * Taken before the call (which is when the view's place is still known).
 */
export function keepLive(arena: Arena, out: Float32Array | Tensor): () => Float32Array {
  if (out instanceof Tensor) return () => out.data;
  if (out.buffer !== arena.buffer) return () => out;
  const { byteOffset, length } = out;
  return () => (out.length === length ? out : arena.f32(byteOffset, length));
}

/** Throws unless `t` is a live tensor of this arena's engine. */
export function checkTensor(op: string, arena: Arena, t: Tensor): void {
  if (t.owner.arena !== arena) {
    throw new XentError('BAD_OPTION', `${op}: this tensor belongs to another engine`);
  }
  void t.ptr; // throws FREED or DISPOSED
}
