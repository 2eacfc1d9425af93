// What the engine and its workers agree on: a job slot per worker in shared engine memory.
//
//   int32 [0]  state: IDLE -> POSTED (engine) -> DONE or FAILED (worker) -> IDLE (engine)
//   int32 [1]  kernel: index into kernelNames(module)
//   int32 [2]  argument count
//   f64   [2..] the arguments: pointers, counts and scalars, exactly as the kernel takes them

export const IDLE = 0;
export const POSTED = 1;
export const DONE = 2;
export const FAILED = 3;
export const STOP = 4;

export const SLOT_BYTES = 256;
export const ARGS_OFFSET = 16;
export const MAX_ARGS = (SLOT_BYTES - ARGS_OFFSET) / 8;

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
