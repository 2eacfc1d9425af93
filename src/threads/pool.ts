// The engine's side of its worker threads: starts them over the shared memory, posts a job
// to every worker, works on it on the calling thread too, and waits for the others. A worker
// that fails, or does not answer in time, makes the call throw; the engine then carries on
// with one thread.

import { XentError } from '../errors.js';
import { isNode } from '../loader.js';
import type { Arena } from '../memory.js';
import { SPIN_MS, WORKER_DEADLINE_MS, WORKER_DEADLINE_NS_PER_ELEMENT } from '../tuning.js';
import {
  ARGS_OFFSET, DONE, FAILED, IDLE, MAX_ARGS, POSTED, SLOT_BYTES, STOP, claimRows, kernelNames, spinWhile, type WorkerInit,
} from './protocol.js';

interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

export class WorkerPool {
  readonly size: number;
  private readonly arena: Arena;
  private readonly workers: AnyWorker[];
  private readonly slots: number[];
  /** The byte address of the int32 counter of the next unclaimed row (claimRows). */
  private readonly counter: number;
  /** A kernel function of the engine's instance -> its index among the module's exports. */
  private readonly kernelIndex: Map<unknown, number>;
  /** Atomics.wait is refused on a browser page's main thread: spin there instead. */
  private readonly canBlock: boolean;
  /** How long a job may take before its worker is taken for dead (see tuning.ts). */
  deadlineMs = WORKER_DEADLINE_MS;

  private constructor(arena: Arena, workers: AnyWorker[], slots: number[], counter: number, kernels: unknown[]) {
    this.arena = arena;
    this.workers = workers;
    this.slots = slots;
    this.counter = counter;
    this.size = workers.length;
    this.kernelIndex = new Map(kernels.map((kernel, i) => [kernel, i]));
    this.canBlock = blockingAllowed();
  }

  /** Starts `count` workers on the module, instance exports and shared memory of an engine. */
  static async start(
    module: WebAssembly.Module,
    exports: WebAssembly.Exports,
    arena: Arena,
    count: number,
  ): Promise<WorkerPool> {
    const slots = Array.from({ length: count }, () => arena.alloc(SLOT_BYTES, 'worker job slots'));
    const counter = arena.alloc(16, 'the row counter of worker jobs');
    const started = await Promise.allSettled(slots.map((slot) => spawn({ module, memory: arena.memory, slot })));
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      for (const s of started) if (s.status === 'fulfilled') void s.value.terminate();
      throw failure.reason;
    }
    const workers = started.map((s) => (s as PromiseFulfilledResult<AnyWorker>).value);
    return new WorkerPool(arena, workers, slots, counter, kernelNames(module).map((name) => exports[name]));
  }

  /**
   * Runs `kernel` with parts[0] on the calling thread and parts[i] on worker i - 1, at the
   * same time, then `alongside` on the calling thread while the workers finish; returns when
   * all are done. `elements` sizes the deadline.
   */
  run(kernel: (...args: number[]) => unknown, parts: number[][], elements: number, alongside?: () => void): void {
    const index = this.indexOf(kernel);
    for (let w = 1; w < parts.length; w++) this.post(w - 1, index, parts[w]!);
    this.finish(parts.length - 1, elements, () => {
      kernel(...parts[0]!);
      alongside?.();
    });
  }

  /**
   * Runs `kernel` over all rows of `args` (args[rowsAt] of them) on the calling thread and
   * every worker, each claiming blocks of `block` rows until none is left (claimRows); the
   * calling thread runs `alongside` first. `elements` sizes the deadline.
   */
  share(
    kernel: (...args: number[]) => unknown,
    args: number[],
    strides: number[],
    rowsAt: number,
    block: number,
    elements: number,
    alongside?: () => void,
  ): void {
    const index = this.indexOf(kernel);
    const counter = new Int32Array(this.arena.memory.buffer, this.counter, 1);
    Atomics.store(counter, 0, 0);
    for (let w = 0; w < this.size; w++) this.post(w, index, args, { strides, rowsAt, block });
    this.finish(this.size, elements, () => {
      alongside?.();
      claimRows(kernel, args, strides, rowsAt, block, counter);
    });
  }

  private indexOf(kernel: (...args: number[]) => unknown): number {
    const index = this.kernelIndex.get(kernel);
    if (index === undefined) throw new Error('xent: that kernel is not an export of the module');
    return index;
  }

  /** Writes a job into worker w's slot and wakes it. */
  private post(w: number, kernel: number, args: number[], blocks?: { strides: number[]; rowsAt: number; block: number }): void {
    if (args.length > MAX_ARGS) throw new Error(`xent: a kernel call with more than ${MAX_ARGS} arguments`);
    const slot = this.slots[w]!;
    new Float64Array(this.arena.memory.buffer, slot + ARGS_OFFSET, args.length).set(args);
    const state = this.state(w);
    state[1] = kernel;
    state[2] = args.length;
    state[3] = blocks?.block ?? 0;
    if (blocks !== undefined) {
      new Float64Array(this.arena.memory.buffer, slot + ARGS_OFFSET + args.length * 8, args.length).set(blocks.strides);
      state[4] = blocks.rowsAt;
      state[5] = this.counter;
    }
    Atomics.store(state, 0, POSTED);
    Atomics.notify(state, 0);
  }

  /** Runs `own` on the calling thread, then waits for the first `workers` workers' jobs. */
  private finish(workers: number, elements: number, own: () => void): void {
    let failure: unknown;
    try {
      own();
    } catch (error) {
      failure = error;
    }
    const deadline = Date.now() + this.deadlineMs + (elements * WORKER_DEADLINE_NS_PER_ELEMENT) / 1e6;
    const failed: number[] = [];
    for (let w = 0; w < workers; w++) {
      if (this.waitFor(w, deadline) !== DONE) failed.push(w);
    }
    if (failure !== undefined) throw failure;
    if (this.arena.disposed) throw new XentError('DISPOSED', 'the engine was disposed during this call');
    if (failed.length > 0) {
      this.arena.workers = undefined;
      this.dispose();
      throw new Error(
        `xent: worker thread ${failed.join(', ')} of ${this.size} failed or did not answer; ` +
          'the engine continues with one thread',
      );
    }
  }

  /** Stops and ends every worker. */
  dispose(): void {
    for (let w = 0; w < this.size; w++) {
      const state = this.state(w);
      Atomics.store(state, 0, STOP);
      Atomics.notify(state, 0);
      void this.workers[w]!.terminate();
    }
  }

  private state(worker: number): Int32Array {
    return new Int32Array(this.arena.memory.buffer, this.slots[worker]!, 6);
  }

  /** Waits for a worker's job to end; returns DONE, FAILED, or POSTED if time ran out. */
  private waitFor(worker: number, deadline: number): number {
    const state = this.state(worker);
    for (;;) {
      const now = Atomics.load(state, 0);
      if (now === DONE || now === FAILED) {
        Atomics.store(state, 0, IDLE);
        return now;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.arena.disposed) return now;
      if (spinWhile(state, now, SPIN_MS)) continue;
      if (this.canBlock) Atomics.wait(state, 0, now, Math.min(left, 100));
    }
  }
}

/**
 * Where Node loads the worker from: the compiled dist/threads/worker.js, also when this module
 * runs from src/ under vitest (Node cannot start a .ts worker). A variable, not a literal in
 * new URL(): bundlers would otherwise emit the file a second time, as a plain asset.
 */
const NODE_WORKER = '../../dist/threads/worker.js';

/**
 * Starts one worker and resolves once it has instantiated the module. Any failure to start is
 * a BAD_OPTION XentError that says what to do.
 */
async function spawn(init: WorkerInit): Promise<AnyWorker> {
  let worker: AnyWorker | undefined;
  let advice: string;
  try {
    await new Promise<void>((resolve, reject) => {
      if (isNode()) {
        const url = new URL(NODE_WORKER, import.meta.url);
        advice = `threads > 1 starts ${url.href}: install the package whole (a bundle for Node must ship dist/threads/worker.js)`;
        const threadsModule = 'node:worker_threads';
        void (import(/* @vite-ignore */ threadsModule) as Promise<typeof import('node:worker_threads')>).then(({ Worker }) => {
          const w = new Worker(url);
          w.unref(); // an engine nobody disposed does not keep the process alive
          w.once('message', () => resolve());
          w.once('error', reject);
          w.postMessage(init);
          worker = w;
        }).catch(reject);
      } else {
        // Written out literally, the form that bundlers (Vite, webpack 5, Parcel) recognise: they
        // bundle the worker with its imports into one script and rewrite this URL to it.
        advice = "threads > 1 starts threads/worker.js beside xent's threads/pool.js: serve the package's dist/ whole, or bundle it " +
          "with a bundler that follows new Worker(new URL('./worker.js', import.meta.url)) (Vite, webpack 5, Parcel)";
        const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
        w.onmessage = () => resolve();
        // A script that cannot be fetched or parsed gives a plain Event, without a message.
        w.onerror = (event) => reject(new Error(event.message || 'the browser gives no reason; most often the script was not found'));
        w.postMessage(init);
        worker = w;
      }
    });
  } catch (error) {
    void worker?.terminate();
    throw new XentError(
      'BAD_OPTION',
      `createEngine: a worker thread failed to start (${String((error as Error)?.message ?? error)}). ${advice!}; or use threads: 1`,
    );
  }
  return worker!;
}

/** Whether this thread may block in Atomics.wait (not a browser page's main thread). */
function blockingAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
