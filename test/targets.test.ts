// Targets checked in wasm (assembly/kernels/targets.ts) against the JavaScript loops of
// options.ts: class indices counted, probabilities kept in [0, 1]; and the engine's refusals
// naming the row or element either way.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import { countTargets, firstOutsideUnit32 } from '../src/options.js';
import { expectXentError } from './support/compare.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';

describe.each(BUILDS)('countClassTargets [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build);
  const count = (indices: Int32Array, classes: number, ignoreIndex: number) => {
    new Int32Array(memory.buffer, base, indices.length).set(indices);
    return kernels.countClassTargets(base, indices.length, classes, ignoreIndex);
  };

  it('gives the count, or the first bad row, as the JavaScript loop does (fast-check)', () => {
    const ignoreIndex = fc.oneof(fc.constant(-100), fc.integer({ min: -3, max: 40 }));
    const target = fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(-100), fc.constant(-(2 ** 31)), fc.constant(2 ** 31 - 1));
    fc.assert(
      fc.property(fc.array(target, { maxLength: 70 }), fc.integer({ min: 1, max: 40 }), ignoreIndex, (values, classes, ignore) => {
        const indices = Int32Array.from(values);
        expect(count(indices, classes, ignore)).toBe(countTargets(indices, classes, ignore));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a bad target in each lane and in the tail', () => {
    for (let bad = 0; bad < 11; bad++) {
      const indices = new Int32Array(11).fill(2);
      indices[bad] = 7;
      expect(count(indices, 5, -100)).toBe(-1 - bad);
    }
    expect(count(Int32Array.of(0, -100, 4, -100, 3), 5, -100)).toBe(3);
    expect(count(Int32Array.of(0, 1, 0, 2, 0, 3), 5, 0)).toBe(3); // an ignoreIndex among the classes
    expect(count(new Int32Array(0), 5, -100)).toBe(0);
  });
});

describe.each(BUILDS)('firstOutsideUnit [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build);
  const first = (values: Float32Array) => {
    new Float32Array(memory.buffer, base, values.length).set(values);
    return kernels.firstOutsideUnit(base, values.length);
  };

  it('finds the first value outside [0, 1], NaN included, as the JavaScript loop does (fast-check)', () => {
    const value = fc.oneof(
      fc.float({ min: 0, max: 1, noNaN: true }), fc.constant(0), fc.constant(1), fc.constant(-0),
      fc.constant(NaN), fc.constant(1.0000001), fc.constant(-1e-45), fc.constant(Infinity),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 70 }), (values) => {
        const t = Float32Array.from(values);
        expect(first(t)).toBe(firstOutsideUnit32(t));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('targets of large calls, checked in wasm', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine('baseline');
  });
  afterAll(() => engine.dispose());

  it('the bad row is named, past the first block of rows, and nothing is written', () => {
    const rows = 10000, classes = 3;
    const logits = new Float32Array(rows * classes);
    const target = new Int32Array(rows).fill(1);
    target[9001] = 3;
    const grad = new Float32Array(rows * classes).fill(7);
    expectXentError(
      () => engine.crossEntropy(logits, target, { classes, grad }),
      'TARGET_OUT_OF_RANGE',
      /^crossEntropy: target\[9001\] = 3 is out of range \[0, 3\) and is not ignoreIndex \(-100\)$/,
    );
    expect(grad.every((g) => g === 7)).toBe(true);
  });

  it('a probability outside [0, 1] past the first block is named, from an array and from a tensor', () => {
    const n = 20000;
    const target = new Float32Array(n).fill(0.5);
    target[17003] = 1.5;
    const grad = new Float32Array(n).fill(7);
    const message = /^binaryCrossEntropy: target\[17003\] = 1.5 is outside \[0, 1\]/;
    expectXentError(() => engine.binaryCrossEntropy(new Float32Array(n), target, { grad }), 'TARGET_OUT_OF_RANGE', message);
    expect(grad.every((g) => g === 7)).toBe(true);
    const t = engine.tensor(1, n);
    t.data.set(target);
    expectXentError(() => engine.binaryCrossEntropy(new Float32Array(n), t.data), 'TARGET_OUT_OF_RANGE', message);
    t.data[17003] = NaN;
    expectXentError(() => engine.sigmoidFocalLoss(new Float32Array(n), t.data), 'TARGET_OUT_OF_RANGE', /target\[17003\] = NaN/);
    t.free();
  });

  it("ignored rows count out of 'mean'", () => {
    const rows = 5000, classes = 4;
    const target = Int32Array.from({ length: rows }, (_, r) => (r % 5 === 0 ? -100 : r % classes));
    const result = engine.crossEntropy(new Float32Array(rows * classes), target, { classes });
    expect(result.count).toBe(4000);
    expect(result.loss).toBeCloseTo(Math.log(4), 6);
  });
});
