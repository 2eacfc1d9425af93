// Worker threads over one shared WebAssembly.Memory: same bits as one thread, and a worker
// that fails makes the call throw instead of hanging.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import { fromFloat16 } from '../src/reference/rows.js';
import { sameBits } from './support/compare.js';
import { makeLogits, makeProbs, makeTargets } from './support/data.js';

describe('threads', () => {
  let one: Engine;
  let two: Engine;
  beforeAll(async () => {
    one = await createEngine({ simd: 'baseline' });
    two = await createEngine({ simd: 'baseline', threads: 2 });
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  it('reports two threads over shared memory', () => {
    expect(two.features).toEqual({ simd: 'baseline', threads: 2, sharedMemory: true });
    expect(one.features).toEqual({ simd: 'baseline', threads: 1, sharedMemory: false });
  });

  it("threads: 'auto' uses the machine's cores", async () => {
    const auto = await createEngine({ threads: 'auto' });
    expect(auto.features.threads).toBeGreaterThanOrEqual(1);
    auto.dispose();
  });

  describe.each([
    [64, 32000],
    [3000, 1000],
    [70000, 10],
  ])('%i x %i: bit-identical to one thread', (rows, classes) => {
    const logits = makeLogits(rows, classes, 'normal', rows);
    const target = makeTargets(rows, classes, 4, 0.1);

    it('crossEntropy with every option, gradient into an array', () => {
      const options = { classes, labelSmoothing: 0.1, zLoss: 1e-4, softcap: 20, grad: true } as const;
      const a = one.crossEntropy(logits, target, options);
      const b = two.crossEntropy(logits, target, options);
      expect(b.loss).toBe(a.loss);
      expect(sameBits(b.losses, a.losses)).toBe(true);
      expect(sameBits(b.grad!, a.grad!)).toBe(true);
    });

    it('crossEntropy in place on a tensor, and probability targets', () => {
      const t1 = one.tensor(rows, classes);
      const t2 = two.tensor(rows, classes);
      t1.data.set(logits);
      t2.data.set(logits);
      one.crossEntropy(t1, target, { grad: 'inplace' });
      two.crossEntropy(t2, target, { grad: 'inplace' });
      expect(sameBits(t2.data, t1.data)).toBe(true);
      const probs = makeProbs(rows, classes, 5);
      expect(sameBits(two.crossEntropy(logits, probs, { classes }).losses, one.crossEntropy(logits, probs, { classes }).losses)).toBe(true);
      t1.free();
      t2.free();
    });

    it('softmax, logSoftmax, logSumExp, evaluate', () => {
      expect(sameBits(two.softmax(logits, { classes }), one.softmax(logits, { classes }))).toBe(true);
      expect(sameBits(two.logSoftmax(logits, { classes, temperature: 2 }), one.logSoftmax(logits, { classes, temperature: 2 }))).toBe(true);
      expect(sameBits(two.logSumExp(logits, { classes }), one.logSumExp(logits, { classes }))).toBe(true);
      expect(two.evaluate(logits, target, { classes }).loss).toBe(one.evaluate(logits, target, { classes }).loss);
    });
  });

  it('arrays at any byte offset, with rows of odd length: each chunk is copied at its own alignment', () => {
    const rows = 700, classes = 1001; // chunks start alternately on and off 8-byte boundaries
    const backing = new Float32Array(rows * classes + 3);
    backing.set(makeLogits(rows, classes, 'normal', 9), 1);
    const logits = backing.subarray(1, 1 + rows * classes); // byteOffset 4
    const halves = new Uint16Array(rows * classes + 1).subarray(1); // byteOffset 2
    for (let i = 0; i < halves.length; i++) halves[i] = 0x3c00 + (i % 997); // f16 values in [1, 2)
    const target = makeTargets(rows, classes, 11);
    const grad1 = new Float32Array(rows * classes + 1).subarray(1);
    const grad2 = new Float32Array(rows * classes + 1).subarray(1);
    const a = one.crossEntropy(logits, target, { classes, grad: grad1 });
    const b = two.crossEntropy(logits, target, { classes, grad: grad2 });
    const resident = one.tensor(rows, classes); // no copies at all: what the chunks must match
    resident.data.set(logits);
    const c = one.crossEntropy(resident, target, { grad: 'inplace' });
    expect(sameBits(a.losses, c.losses)).toBe(true);
    expect(sameBits(grad1, resident.data)).toBe(true);
    resident.free();
    expect(b.loss).toBe(a.loss);
    expect(sameBits(grad2, grad1)).toBe(true);
    // The gradient of f16 logits at byte offset 4: widened into a buffer skewed for it.
    const h1 = one.crossEntropy(halves, target, { classes, dtype: 'f16', grad: grad1 });
    const h2 = two.crossEntropy(halves, target, { classes, dtype: 'f16', grad: grad2 });
    const widened = one.crossEntropy(Float32Array.from(halves, fromFloat16), target, { classes, grad: true });
    expect(sameBits(h1.losses, widened.losses)).toBe(true);
    expect(sameBits(grad1, widened.grad!)).toBe(true);
    expect(sameBits(h2.losses, h1.losses)).toBe(true);
    expect(sameBits(grad2, grad1)).toBe(true);
  });

  it('a worker that fails makes the call throw; the engine carries on with one thread', async () => {
    const engine = await createEngine({ threads: 2 });
    const workers = engine.arena.workers!;
    const beyond = engine.arena.memory.buffer.byteLength;
    // The worker's half reads past the end of memory: its kernel traps.
    expect(() => workers.run(engine.kernels.vexp, [[0, 0, 0], [beyond, beyond, 1024]], 1024)).toThrow(/worker thread 0 of 1 failed/);
    expect(engine.features.threads).toBe(1);
    const logits = makeLogits(300, 1000, 'normal');
    const target = makeTargets(300, 1000);
    expect(engine.crossEntropy(logits, target, { classes: 1000 }).loss).toBe(one.crossEntropy(logits, target, { classes: 1000 }).loss);
    engine.dispose();
  });

  it('a worker that does not answer makes the call throw after its deadline, not hang', async () => {
    const engine = await createEngine({ threads: 2 });
    const workers = engine.arena.workers!;
    workers.deadlineMs = 200;
    workers.dispose(); // the worker stops serving jobs
    const started = Date.now();
    expect(() => engine.logSumExp(makeLogits(300, 1000, 'normal'), { classes: 1000 })).toThrow(/did not answer/);
    expect(Date.now() - started).toBeLessThan(5000);
    engine.dispose();
  });
});

describe('a worker that cannot start', () => {
  it('makes createEngine reject with a BAD_OPTION XentError that says what to do', async () => {
    // The built package without its worker script, as a server or bundler that drops it leaves it.
    const root = mkdtempSync(join(tmpdir(), 'xent-no-worker-'));
    try {
      const repo = fileURLToPath(new URL('..', import.meta.url));
      writeFileSync(join(root, 'package.json'), '{ "type": "module" }');
      cpSync(join(repo, 'dist'), join(root, 'dist'), { recursive: true });
      cpSync(join(repo, 'build'), join(root, 'build'), { recursive: true, filter: (f) => !f.endsWith('.wat') });
      rmSync(join(root, 'dist', 'threads', 'worker.js'));
      const xent = (await import(pathToFileURL(join(root, 'dist', 'index.js')).href)) as typeof import('../src/index.js');
      const refused = await xent.createEngine({ threads: 2 }).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(xent.XentError);
      expect(refused).toMatchObject({ code: 'BAD_OPTION' });
      expect((refused as Error).message).toMatch(/^createEngine: a worker thread failed to start \(.+\)\. .*dist\/threads\/worker\.js.*threads: 1$/);
      // One thread needs no worker.
      const one = await xent.createEngine({ threads: 1 });
      expect(one.features.threads).toBe(1);
      one.dispose();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('views of engine memory passed as plain arrays', () => {
  it('are used in place, also when the call grows the memory', async () => {
    const engine = await createEngine();
    const t = engine.tensor(4096, 1000);
    t.data.set(makeLogits(4096, 1000, 'normal'));
    const viaTensor = engine.logSoftmax(t);
    const viaView = engine.logSoftmax(t.data, { classes: 1000 });
    expect(sameBits(viaView, viaTensor)).toBe(true);
    engine.dispose();
  });
});
