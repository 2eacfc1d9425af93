// A worker thread of a multi-threaded engine (Node worker_threads or a browser Web Worker).
// It instantiates the engine's module over the engine's shared memory, then serves jobs from
// its slot (protocol.ts) until told to stop. It never allocates engine memory: the engine
// reserves every buffer before it posts a job.

import { ARGS_OFFSET, DONE, FAILED, POSTED, STOP, claimRows, kernelNames, spinWhile, type WorkerInit } from './protocol.js';
import { SPIN_MS } from '../tuning.js';

type Port = { postMessage(message: unknown): void };

function serve({ module, memory, slot }: WorkerInit, port: Port): void {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as Record<string, (...args: number[]) => unknown>;
  const kernels = kernelNames(module).map((name) => exports[name]!);
  port.postMessage('ready');
  for (;;) {
    // Views are made again for every job: growing the memory replaces its buffer.
    const state = new Int32Array(memory.buffer, slot, 6);
    const now = Atomics.load(state, 0);
    if (now === STOP) return;
    if (now !== POSTED) {
      // The next chunk of a call usually comes within a few hundred microseconds: watch for
      // it a while before sleeping, since waking from Atomics.wait takes tens of them.
      if (!spinWhile(state, now, SPIN_MS)) Atomics.wait(state, 0, now);
      continue;
    }
    const count = state[2]!, block = state[3]!;
    const args = new Float64Array(memory.buffer, slot + ARGS_OFFSET, count);
    const kernel = kernels[state[1]!]!;
    let outcome = DONE;
    try {
      if (block === 0) kernel(...args);
      else {
        const strides = new Float64Array(memory.buffer, slot + ARGS_OFFSET + count * 8, count);
        claimRows(kernel, args, strides, state[4]!, block, new Int32Array(memory.buffer, state[5]!, 1));
      }
    } catch {
      outcome = FAILED;
    }
    Atomics.store(state, 0, outcome);
    Atomics.notify(state, 0);
  }
}

// No top-level await: bundlers build a worker as a classic script by default (Vite's 'iife'),
// which cannot have one.
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
if (isNode) {
  const threadsModule = 'node:worker_threads';
  void (import(/* @vite-ignore */ threadsModule) as Promise<typeof import('node:worker_threads')>).then(({ parentPort }) => {
    parentPort!.once('message', (init: WorkerInit) => serve(init, parentPort!));
  });
} else {
  const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<WorkerInit>) => void) | null } & Port;
  scope.onmessage = (event) => {
    scope.onmessage = null;
    serve(event.data, scope);
  };
}
