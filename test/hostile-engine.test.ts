// The engine against hostile arguments: holes, targets that change or lie while being read,
// modules that are not xent's, paths that look like URLs, too many threads, unused NaN weights.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { thrown } from './support/compare.js';
import { makeLogits } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'xent-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the engine against hostile arguments', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ simd: 'baseline' });
  });

  it('holes in number[] targets and segments are refused, naming the index (not read as class 0)', () => {
    const x = makeLogits(4, 3, 'normal', 1);
    // eslint-disable-next-line no-sparse-arrays
    const holey = [0, , 2, 1] as number[];
    for (const call of [
      () => engine.crossEntropy(x, holey, { classes: 3 }),
      () => engine.evaluate(x, new Array(4) as number[], { classes: 3 }),
      () => reference.crossEntropy(x, holey, { classes: 3 }),
    ]) {
      const error = thrown(call);
      expect(error.code).toBe('TARGET_OUT_OF_RANGE');
      expect(error.message).toMatch(/\[(1|0)\] is missing \(a hole in the array\)/);
    }
    // eslint-disable-next-line no-sparse-arrays
    expect(thrown(() => engine.evaluate(x, [0, 1, 2, 1], { classes: 3, segments: [0, , 4] as number[] })).message).toMatch(/segments\[1\] is missing/);
  });

  it('a target is read once: an Int32Array whose methods lie, or that changes after the call reads it, cannot reach the kernel unchecked', () => {
    class Liar extends Int32Array {
      override subarray(): Int32Array<ArrayBuffer> {
        return new Int32Array(this.length).fill(1e6); // out of range, if it were ever used
      }
      override slice(): Int32Array<ArrayBuffer> {
        return this.subarray();
      }
    }
    const rows = 3000, classes = 50; // chunked through engine memory, over several chunks
    const x = makeLogits(rows, classes, 'normal', 2);
    const target = new Liar(rows).map((_, i) => i % classes);
    const want = engine.crossEntropy(x, Int32Array.from(target), { classes });
    expect(engine.crossEntropy(x, target, { classes }).loss).toBe(want.loss);
    // A target in shared memory that changes while the call runs (here from an option getter):
    // what is validated is what the kernel reads, so the change is an error, never a wasm trap
    // or a row read out of bounds.
    const shared = new Int32Array(new SharedArrayBuffer(rows * 4));
    shared.set(Int32Array.from(target));
    const options = { classes, get reduction() { shared[rows - 1] = 1e6; return 'mean' as const; } };
    expect(thrown(() => engine.crossEntropy(x, shared, options)).message).toMatch(/target\[2999\] = 1000000 is out of range/);
  });

  it('threads above the maximum are refused before any worker starts', async () => {
    const error = await createEngine({ threads: 65 }).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(error?.code).toBe('BAD_OPTION');
    expect(error?.message).toMatch(/threads must be 'auto' or an integer in \[1, 64\], got 65/);
  });

  it('wasm paths are taken literally (%41, # and ?), and modules that are not xent\'s builds get an XentError', async () => {
    const odd = join(dir, 'pct%41 #1?');
    mkdirSync(odd);
    const path = join(odd, 'xent.wasm');
    copyFileSync(new URL('../build/xent.wasm', import.meta.url), path);
    const e = await createEngine({ wasm: path });
    expect(e.logSumExp(new Float32Array([0, 0]), { classes: 2 })[0]).toBeCloseTo(Math.LN2, 6);
    e.dispose();
    const fail = async (options: Parameters<typeof createEngine>[0], message: RegExp) => {
      const error = await createEngine(options).then(() => undefined, (x: unknown) => x as { code: string; message: string });
      expect(error?.code, String(message)).toBe('BAD_OPTION');
      expect(error?.message).toMatch(message);
    };
    await fail({ wasm: new Uint8Array([1, 2, 3, 4]) }, /cannot load the wasm module from the bytes given/);
    await fail({ wasm: join(dir, 'missing.wasm') }, /cannot load the wasm module from .*missing\.wasm/);
    // A valid module that is not xent: an empty one imports no memory and exports nothing.
    await fail({ wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) }, /not a build of this version of xent \(it lacks heapBase/);
    const privateBuild = readFileSync(new URL('../build/xent.wasm', import.meta.url));
    await fail({ wasm: privateBuild, threads: 2 }, /does not link .* pass a shared-memory build/);
  });

  it('an unused NaN or infinite class weight leaves the reference\'s gradient finite, as PyTorch\'s nll_loss', () => {
    const x = makeLogits(2, 3, 'normal', 3);
    for (const bad of [NaN, Infinity]) {
      const weight = new Float32Array([1, bad, 1]);
      const want = reference.crossEntropy(x, [0, 2], { classes: 3, weight, grad: true });
      expect(Array.from(want.grad!).every(Number.isFinite), `weight ${bad}`).toBe(true);
      const got = engine.crossEntropy(x, [0, 2], { classes: 3, weight, grad: true });
      for (let i = 0; i < 6; i++) expect(got.grad[i]).toBeCloseTo(want.grad![i]!, 6);
    }
  });
});

describe('dispose and calls from inside a call', () => {
  it.each([1, 2])('dispose() from an option getter: DISPOSED at once, nothing written (%i threads)', async (threads) => {
    const engine = await createEngine({ simd: 'baseline', threads });
    const rows = 512, classes = 1000; // enough for the worker threads to take part
    const x = makeLogits(rows, classes, 'normal', 4);
    const grad = new Float32Array(rows * classes);
    const started = Date.now();
    const options = { classes, grad, get reduction() { engine.dispose(); return 'sum' as const; } };
    expect(thrown(() => engine.crossEntropy(x, new Int32Array(rows), options)).code).toBe('DISPOSED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(grad.every((g) => g === 0)).toBe(true);
  });

  it('a call from inside a call is refused, and the engine keeps working', async () => {
    const engine = await createEngine({ simd: 'baseline' });
    const x = makeLogits(4, 3, 'normal', 5);
    const options = { classes: 3, get reduction() { engine.logSumExp(x, { classes: 3 }); return 'mean' as const; } };
    expect(thrown(() => engine.crossEntropy(x, [0, 1, 2, 0], options)).message).toMatch(/already running an operation/);
    expect(engine.crossEntropy(x, [0, 1, 2, 0], { classes: 3 }).count).toBe(4);
    engine.dispose();
  });
});

describe('tensor.data views as arguments, when the call itself grows engine memory', () => {
  it('weight, posWeight, out and grad views keep working and come back live', async () => {
    const rows = 300, classes = 4000; // each tensor grows memory to just what it needs: the chunks grow it again
    const fresh = () => createEngine({ simd: 'baseline' });
    const x = makeLogits(rows, classes, 'normal', 6);
    const target = Int32Array.from({ length: rows }, (_, r) => r % classes);
    const want = (await fresh()).crossEntropy(x, target, { classes, weight: new Float32Array(classes).fill(0.5), grad: true });

    let engine = await fresh();
    const W = engine.tensor(1, classes);
    W.data.fill(0.5);
    const G = engine.tensor(rows, classes);
    const before = G.data.buffer;
    const got = engine.crossEntropy(x, target, { classes, weight: W.data, grad: G.data });
    expect(G.data.buffer, 'the call grew the memory').not.toBe(before);
    expect(got.loss).toBe(want.loss);
    expect(got.grad.length).toBe(rows * classes);
    expect(expectSame(got.grad, want.grad)).toBe(true);

    engine = await fresh();
    const O = engine.tensor(rows, classes);
    const out = engine.softmax(x, { classes, out: O.data });
    expect(out.length).toBe(rows * classes);
    expect(expectSame(out, (await fresh()).softmax(x, { classes }))).toBe(true);

    engine = await fresh();
    const P = engine.tensor(1, classes);
    P.data.fill(2);
    const probs = (await fresh()).softmax(x, { classes });
    const bce = engine.binaryCrossEntropy(x, probs, { classes, posWeight: P.data, grad: true });
    expect(bce.loss).toBe((await fresh()).binaryCrossEntropy(x, probs, { classes, posWeight: new Float32Array(classes).fill(2) }).loss);
  });
});

function expectSame(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('outputs that overlap inputs', () => {
  it('are refused before anything is written, unless they are exactly the input computed in place', async () => {
    for (const threads of [1, 2]) {
      const engine = await createEngine({ simd: 'baseline', threads });
      const rows = 300, classes = 500;
      const buf = makeLogits(rows + 1, classes, 'normal', 7);
      const logits = buf.subarray(0, rows * classes);
      const before = buf.slice();
      const target = Int32Array.from({ length: rows }, (_, r) => r % classes);
      const refusals: [() => unknown, RegExp][] = [
        [() => engine.crossEntropy(logits, target, { classes, grad: buf.subarray(classes) }), /grad overlaps logits/],
        [() => engine.softmax(logits, { classes, out: buf.subarray(classes) }), /out overlaps logits/],
        [() => engine.binaryCrossEntropy(logits, buf.subarray(3, 3 + rows * classes).map(() => 0.5), { grad: buf.subarray(7, 7 + rows * classes) }), /grad overlaps logits/],
      ];
      const T = engine.tensor(rows, classes);
      T.data.set(logits);
      const probs = engine.softmax(logits, { classes });
      T.data.set(probs);
      refusals.push([() => engine.crossEntropy(T, T.data, { grad: 'inplace' }), /grad overlaps target/]);
      const V = engine.tensor(rows + 1, classes);
      refusals.push([() => engine.logSoftmax(V.data.subarray(classes), { classes, out: V.data.subarray(0, rows * classes) }), /out overlaps logits/]);
      for (const [call, message] of refusals) {
        const error = thrown(call);
        expect(error.code).toBe('BAD_OPTION');
        expect(error.message).toMatch(message);
      }
      expect(expectSame(buf, before)).toBe(true);
      // Exact aliasing is in place, and works.
      const copy = logits.slice();
      const want = engine.softmax(logits, { classes });
      expect(expectSame(engine.softmax(copy, { classes, out: copy }), want)).toBe(true);
      engine.dispose();
    }
  });
});

describe('the documented bound of the kernels\' exp', () => {
  it('teacher probabilities below 2^-126 are 0 in klDivergence, where the reference keeps them', async () => {
    const engine = await createEngine({ simd: 'baseline' });
    const teacher = new Float32Array([-88, 0]); // softmax: 6.05e-39, a subnormal
    const masked = new Float32Array([-3.4e38, 0]);
    expect(engine.softmax(teacher, { classes: 2 })[0]).toBe(0);
    expect(engine.klDivergence(masked, teacher, { classes: 2 }).loss).toBe(0);
    expect(reference.klDivergence(masked, teacher, { classes: 2 }).loss).toBeCloseTo(6.05e-39 * 3.4e38, 2);
    engine.dispose();
  });
});
