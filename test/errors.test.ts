// Bad input gets a clear XentError with the right code, and nothing is written.

import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, XentError, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { expectXentError } from './support/compare.js';
import { makeLogits } from './support/data.js';

describe('errors', () => {
  let engine: Engine;
  const logits = makeLogits(4, 5, 'normal');
  beforeAll(async () => {
    engine = await createEngine();
  });

  describe('SHAPE_MISMATCH', () => {
    it('a flat array without classes, or not a whole number of rows', () => {
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3]), 'SHAPE_MISMATCH', /flat array of 20 values; pass options.classes/);
      expectXentError(() => engine.logSumExp(logits, { classes: 3 }), 'SHAPE_MISMATCH', /20 values, which is not a whole number of rows of 3 classes/);
      expectXentError(() => engine.softmax(logits, { classes: 0 }), 'SHAPE_MISMATCH', /classes must be an integer >= 1, got 0/);
      expectXentError(() => engine.softmax(logits, { classes: 2.5 }), 'SHAPE_MISMATCH', /got 2.5/);
    });

    it('logits of the wrong type', () => {
      expectXentError(() => engine.logSumExp(new Float64Array(4) as unknown as Float32Array, { classes: 2 }), 'SHAPE_MISMATCH', /Float32Array or a Tensor, got a Float64Array of 4/);
      expectXentError(() => engine.logSumExp([1, 2] as unknown as Float32Array, { classes: 2 }), 'SHAPE_MISMATCH', /got an array of 2/);
    });

    it('a tensor whose columns disagree with classes', () => {
      const t = engine.tensor(2, 5);
      expectXentError(() => engine.logSumExp(t, { classes: 4 }), 'SHAPE_MISMATCH', /options.classes is 4 but the tensor has 5 columns/);
      t.free();
    });

    it('targets, weights, gradients and outputs of the wrong length', () => {
      expectXentError(() => engine.crossEntropy(logits, [0, 1], { classes: 5 }), 'SHAPE_MISMATCH', /target has 2 entries, expected one per row \(4\)/);
      expectXentError(() => engine.crossEntropy(logits, new Float32Array(7), { classes: 5 }), 'SHAPE_MISMATCH', /probability target has 7 values, expected 20/);
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, weight: new Float32Array(4) }), 'SHAPE_MISMATCH', /weight has 4 values, expected 5/);
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, grad: new Float32Array(19) }), 'SHAPE_MISMATCH', /grad has 19 values, expected 20/);
      expectXentError(() => engine.softmax(logits, { classes: 5, out: new Float32Array(3) }), 'SHAPE_MISMATCH', /out has 3 values, expected 20/);
      expectXentError(() => engine.crossEntropy(logits, 'abc' as unknown as number[], { classes: 5 }), 'SHAPE_MISMATCH', /Int32Array or number\[\], got 'abc'/);
    });
  });

  describe('TARGET_OUT_OF_RANGE', () => {
    it('names the first offending row, the value, the range and ignoreIndex', () => {
      expectXentError(() => engine.crossEntropy(logits, [0, 5, 9, 1], { classes: 5 }), 'TARGET_OUT_OF_RANGE', /^crossEntropy: target\[1\] = 5 is out of range \[0, 5\) and is not ignoreIndex \(-100\)$/);
      expectXentError(() => engine.crossEntropy(logits, new Int32Array([0, 1, -1, 1]), { classes: 5 }), 'TARGET_OUT_OF_RANGE', /target\[2\] = -1/);
      expectXentError(() => engine.crossEntropy(logits, [0, 1, -100, 1], { classes: 5, ignoreIndex: 7 }), 'TARGET_OUT_OF_RANGE', /target\[2\] = -100 .* ignoreIndex \(7\)/);
      expectXentError(() => engine.crossEntropy(logits, [0, 1.5, 2, 1], { classes: 5 }), 'TARGET_OUT_OF_RANGE', /target\[1\] = 1.5 is not an integer/);
    });
  });

  describe('BAD_OPTION', () => {
    it("reduction 'none' points at result.losses", () => {
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, reduction: 'none' as 'sum' }), 'BAD_OPTION', /result.losses/);
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, reduction: 'avg' as 'sum' }), 'BAD_OPTION', /'mean', 'sum', got 'avg'/);
    });

    it('option values out of range, with the value quoted', () => {
      const ok = { classes: 5 };
      const t = [0, 1, 2, 3];
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, labelSmoothing: 1.5 }), 'BAD_OPTION', /labelSmoothing must be a number in \[0, 1\], got 1.5/);
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, softcap: -1 }), 'BAD_OPTION', /softcap must be a finite number > 0, got -1/);
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, gradScale: NaN }), 'BAD_OPTION', /gradScale must be a finite number, got NaN/);
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, zLoss: Infinity }), 'BAD_OPTION', /zLoss .* got Infinity/);
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, ignoreIndex: 1.5 }), 'BAD_OPTION', /ignoreIndex must be a 32-bit integer, got 1.5/);
      expectXentError(() => engine.crossEntropy(logits, t, { ...ok, grad: 'yes' as unknown as boolean }), 'BAD_OPTION', /grad must be false, true, 'inplace' or a Float32Array, got 'yes'/);
      expectXentError(() => engine.softmax(logits, { ...ok, temperature: 0 }), 'BAD_OPTION', /temperature must be a finite number > 0, got 0/);
    });

    it('unknown option names, with a hint for near misses', () => {
      expectXentError(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, label_smoothing: 0.1 } as object), 'BAD_OPTION', /unknown option 'label_smoothing' \(did you mean 'labelSmoothing'\?\)/);
      expectXentError(() => engine.logSumExp(logits, { classes: 5, dim: 1 } as object), 'BAD_OPTION', /unknown option 'dim'; expected one of classes/);
    });

    it('createEngine options', async () => {
      await expect(createEngine({ simd: 'sse' as 'auto' })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/got 'sse'/) });
      await expect(createEngine({ threads: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
      await expect(createEngine({ maxMemoryBytes: 1000 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/maxMemoryBytes/) });
      await expect(createEngine({ wasm: 42 as unknown as string })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/wasm must be/) });
    });

    it('the reference validates the same way', () => {
      expectXentError(() => reference.crossEntropy(logits, [0, 9, 2, 3], { classes: 5 }), 'TARGET_OUT_OF_RANGE', /target\[1\] = 9/);
      expectXentError(() => reference.softmax(logits, { classes: 5, temperature: -1 }), 'BAD_OPTION', /temperature/);
    });
  });

  describe('nothing is written when a call throws', () => {
    it('an in-place gradient request with a bad target leaves the logits untouched', () => {
      const x = logits.slice();
      expect(() => engine.crossEntropy(x, [0, 1, 2, 77], { classes: 5, grad: 'inplace' })).toThrow(XentError);
      expect(x).toEqual(logits);
    });

    it('a gradient or output array is untouched by a refused call', () => {
      const grad = new Float32Array(20).fill(7);
      expect(() => engine.crossEntropy(logits, [0, 1, 2, 3], { classes: 5, grad, labelSmoothing: 2 })).toThrow(XentError);
      expect(grad.every((g) => g === 7)).toBe(true);
      const out = new Float32Array(20).fill(7);
      expect(() => engine.softmax(logits, { classes: 5, out, temperature: -1 })).toThrow(XentError);
      expect(out.every((g) => g === 7)).toBe(true);
    });

    it('a tensor is untouched by a refused in-place call', () => {
      const t = engine.tensor(4, 5);
      t.data.set(logits);
      expect(() => engine.crossEntropy(t, [0, 1, 2, 5], { grad: 'inplace' })).toThrow(XentError);
      expect(t.data).toEqual(logits);
      t.free();
    });
  });

  describe('OUT_OF_MEMORY, FREED and DISPOSED', () => {
    it('a tensor larger than maxMemoryBytes', async () => {
      const small = await createEngine({ maxMemoryBytes: 16 << 20 });
      expectXentError(() => small.tensor(1024, 8192), 'OUT_OF_MEMORY', /tensor\(1024, 8192\) needs \d+ more bytes .* maxMemoryBytes \(16777216\)/);
      small.dispose();
    });

    it('a row larger than maxMemoryBytes cannot be chunked: refused before anything is written', async () => {
      const small = await createEngine({ maxMemoryBytes: 16 << 20 });
      const x = new Float32Array(5 << 20); // one row of 20 MiB
      const grad = new Float32Array(x.length).fill(3);
      expectXentError(() => small.crossEntropy(x, [0], { classes: x.length, grad }), 'OUT_OF_MEMORY', /crossEntropy/);
      expect(grad[0]).toBe(3);
      small.dispose();
    });

    it('a freed tensor', () => {
      const t = engine.tensor(2, 3);
      t.free();
      t.free(); // idempotent
      expectXentError(() => t.data, 'FREED', /was freed/);
      expectXentError(() => engine.logSumExp(t), 'FREED', /was freed/);
    });

    it('a disposed engine and its tensors', async () => {
      const e = await createEngine();
      const t = e.tensor(2, 3);
      e.dispose();
      e.dispose(); // idempotent
      expectXentError(() => e.logSumExp(logits, { classes: 5 }), 'DISPOSED', /disposed/);
      expectXentError(() => e.crossEntropy(logits, [0, 1, 2, 3], { classes: 5 }), 'DISPOSED', /disposed/);
      expectXentError(() => e.tensor(1, 1), 'DISPOSED', /disposed/);
      expectXentError(() => t.data, 'DISPOSED', /disposed/);
      t.free(); // nothing to give back any more; not an error
    });

    it("another engine's tensor", async () => {
      const other = await createEngine();
      const t = other.tensor(2, 5);
      expectXentError(() => engine.logSumExp(t), 'BAD_OPTION', /belongs to another engine/);
      other.dispose();
    });
  });
});
