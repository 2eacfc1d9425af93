// What the engine and its workers agree on: a job slot per worker in shared engine memory.
//
//   int32 [0]  state: IDLE -> POSTED (engine) -> DONE or FAILED (worker) -> IDLE (engine)
//   int32 [1]  kernel: index into kernelNames(module)
//   int32 [2]  argument count
//   int32 [3]  0: one call with the arguments as they are; else the rows of a block (see claimRows)
//   int32 [4]  with blocks: the index of the rows argument
//   int32 [5]  with blocks: the byte address of the int32 counter of the next unclaimed row
//   f64   [4..] the arguments: pointers, counts and scalars, exactly as the kernel takes them;
//              with blocks, then each argument's bytes per row (0 for all but row pointers)

export const IDLE = 0;
export const POSTED = 1;
export const DONE = 2;
export const FAILED = 3;
export const STOP = 4;

export const SLOT_BYTES = 512;
export const ARGS_OFFSET = 32;
/** Arguments and their strides, with blocks. */
export const MAX_ARGS = (SLOT_BYTES - ARGS_OFFSET) / 16;

/** The module's exported functions, in export order: the same list on both sides. */
export function kernelNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name);
}

/** What a worker is sent once, to set itself up. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of this worker's job slot in memory. */
  slot: number;
}

/**
 * Calls `kernel` on blocks of `block` rows claimed from `counter` until none is left: the
 * engine and every worker run this on one job, so a thread that is descheduled (a busy
 * machine) leaves its rows to the others instead of holding the call up. `args` are those of
 * a call over all rows, args[rowsAt] the rows; a block's row pointers move by `strides` bytes
 * per row. Rows are independent, so who computes which block changes no bit.
 */
export function claimRows(
  kernel: (...args: number[]) => unknown,
  args: ArrayLike<number>,
  strides: ArrayLike<number>,
  rowsAt: number,
  block: number,
  counter: Int32Array,
): void {
  const total = args[rowsAt]!;
  const call = Array.from(args);
  for (;;) {
    const first = Atomics.add(counter, 0, block);
    if (first >= total) return;
    for (let k = 0; k < rowsAt; k++) call[k] = args[k]! + first * strides[k]!;
    call[rowsAt] = Math.min(block, total - first);
    kernel(...call);
  }
}

/**
 * Spins while state[0] is `value`, for at most `ms` milliseconds; true if it changed.
 * Cheaper than Atomics.wait when the change is near: a sleeping thread takes tens of
 * microseconds to wake.
 */
export function spinWhile(state: Int32Array, value: number, ms: number): boolean {
  const end = performance.now() + ms;
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(state, 0) !== value) return true;
  } while (performance.now() < end);
  return false;
}
