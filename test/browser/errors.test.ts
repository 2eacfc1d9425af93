// Every XentError code, raised in Chromium, and the promise that a refused call writes nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XentError, createEngine, type Engine } from '../../src/index.js';
import { copy, makeEngine, makeLogits, thrown } from './support.js';

describe('errors in Chromium', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine('relaxed');
  });
  afterAll(() => engine.dispose());

  const classes = 5;
  const x = makeLogits(3, classes, 'normal', 41);
  const target = new Int32Array([0, 4, 2]);

  it('XentError is an Error with a name and a code', () => {
    const error = thrown(() => engine.logSumExp(x));
    expect(error).toBeInstanceOf(XentError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'XentError', code: 'SHAPE_MISMATCH' });
  });

  it('SHAPE_MISMATCH: no classes, a length not divisible, classes < 1, a tensor of other columns, wrong lengths', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => engine.softmax(x), /pass options\.classes/],
      [() => engine.logSoftmax(x, { classes: 4 }), /15 values, which is not a whole number of rows of 4 classes/],
      [() => engine.logSumExp(x, { classes: 0 }), /classes must be an integer >= 1, got 0/],
      [() => engine.crossEntropy(x, new Int32Array(2), { classes }), /target has 2 entries, expected one per row \(3\)/],
      [() => engine.crossEntropy(x, new Float32Array(14), { classes }), /probability target has 14 values, expected 15/],
      [() => engine.crossEntropy(x, target, { classes, weight: new Float32Array(4) }), /weight has 4 values, expected 5/],
      [() => engine.crossEntropy(x, target, { classes, grad: new Float32Array(3) }), /grad has 3 values, expected 15/],
      [() => engine.softmax(x, { classes, out: new Float32Array(10) }), /out has 10 values, expected 15/],
      [() => engine.softmax([1, 2] as never, { classes: 2 }), /logits must be a Float32Array or a Tensor, got an array of 2/],
    ];
    for (const [call, message] of cases) {
      const error = thrown(call);
      expect(error.code, error.message).toBe('SHAPE_MISMATCH');
      expect(error.message).toMatch(message);
    }
    const t = engine.tensor(3, classes);
    expect(thrown(() => engine.crossEntropy(t, target, { classes: 4 }))).toMatchObject({
      code: 'SHAPE_MISMATCH', message: expect.stringContaining('options.classes is 4 but the tensor has 5 columns'),
    });
    t.free();
  });

  it('TARGET_OUT_OF_RANGE names the first offending row, its value and the range', () => {
    const error = thrown(() => engine.crossEntropy(x, [0, 5, -1], { classes }));
    expect(error.code).toBe('TARGET_OUT_OF_RANGE');
    expect(error.message).toContain('target[1] = 5 is out of range [0, 5) and is not ignoreIndex (-100)');
    expect(thrown(() => engine.crossEntropy(x, [0, 1.5, 2], { classes })).code).toBe('TARGET_OUT_OF_RANGE');
    expect(thrown(() => engine.crossEntropy(x, [0, -100, 2], { classes, ignoreIndex: -1 })).message).toContain('target[1] = -100');
  });

  it('BAD_OPTION: unknown keys with a hint, out-of-range values, reduction none', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => engine.crossEntropy(x, target, { classes, label_smoothing: 0.1 } as never), /unknown option 'label_smoothing' \(did you mean 'labelSmoothing'\?\)/],
      [() => engine.crossEntropy(x, target, { classes, labelSmoothing: 1.5 }), /labelSmoothing must be a number in \[0, 1\], got 1\.5/],
      [() => engine.crossEntropy(x, target, { classes, reduction: 'none' as never }), /result\.losses/],
      [() => engine.crossEntropy(x, target, { classes, grad: 'yes' as never }), /grad must be false, true, 'inplace' or a Float32Array, got 'yes'/],
      [() => engine.softmax(x, { classes, temperature: 0 }), /temperature must be a finite number > 0, got 0/],
      [() => engine.crossEntropy(x, target, { classes, softcap: -1 }), /softcap/],
    ];
    for (const [call, message] of cases) {
      const error = thrown(call);
      expect(error.code, error.message).toBe('BAD_OPTION');
      expect(error.message).toMatch(message);
    }
  });

  it('BAD_OPTION from createEngine', async () => {
    await expect(createEngine({ simd: 'fast' as never })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining("got 'fast'") });
    await expect(createEngine({ maxMemoryBytes: 1000 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(createEngine({ threads: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('OUT_OF_MEMORY: a tensor larger than maxMemoryBytes', async () => {
    const small = await createEngine({ maxMemoryBytes: 8 << 20 });
    const error = thrown(() => small.tensor(3000, 1000));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.message).toMatch(/maxMemoryBytes \(8388608\)/);
    small.dispose();
  });

  it('DISPOSED: every call after dispose, and the tensors of a disposed engine', async () => {
    const doomed = await createEngine();
    const t = doomed.tensor(3, classes);
    doomed.dispose();
    for (const call of [
      () => doomed.logSumExp(x, { classes }),
      () => doomed.softmax(x, { classes }),
      () => doomed.logSoftmax(x, { classes }),
      () => doomed.crossEntropy(x, target, { classes }),
      () => doomed.tensor(1, 1),
      () => t.data,
    ]) {
      expect(thrown(call).code).toBe('DISPOSED');
    }
    doomed.dispose(); // idempotent
  });

  it('FREED: a freed tensor, read or passed to an op', () => {
    const t = engine.tensor(3, classes);
    t.free();
    expect(thrown(() => t.data).code).toBe('FREED');
    expect(thrown(() => engine.softmax(t)).code).toBe('FREED');
    expect(thrown(() => engine.crossEntropy(t, target)).code).toBe('FREED');
    t.free(); // idempotent
  });

  it('a refused call leaves the logits of an in-place request, out and grad arrays unchanged', () => {
    const logits = copy(x);
    const grad = new Float32Array(15).fill(7);
    const out = new Float32Array(15).fill(9);
    thrown(() => engine.crossEntropy(logits, [0, 9, 1], { classes, grad: 'inplace' }));
    thrown(() => engine.crossEntropy(logits, target, { classes, grad, labelSmoothing: 2 }));
    thrown(() => engine.softmax(logits, { classes, out, temperature: -1 }));
    expect(logits).toEqual(x);
    expect(grad).toEqual(new Float32Array(15).fill(7));
    expect(out).toEqual(new Float32Array(15).fill(9));
    const t = engine.tensor(3, classes);
    t.data.set(x);
    thrown(() => engine.crossEntropy(t, [0, 1, 99], { grad: 'inplace' }));
    expect(t.data).toEqual(x);
    t.free();
  });

  it('NaN and infinite logits are not errors', () => {
    const odd = new Float32Array([NaN, 0, 1, Infinity, 0, 1, -Infinity, 0, 1]);
    expect(() => engine.crossEntropy(odd, [0, 1, 2], { classes: 3, grad: true })).not.toThrow();
    expect(Number.isNaN(engine.logSumExp(odd, { classes: 3 })[0])).toBe(true);
  });
});
