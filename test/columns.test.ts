// crossEntropy on rows too few to share out evenly among threads: each row's columns split
// among the threads and merged (src/ops/cross-entropy-columns.ts). Checked against the float64
// reference on every option and on adversarial rows, and shown to be the path taken.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { WorkerPool } from '../src/threads/pool.js';
import { expectLossOutputs, expectLosses, sameBits } from './support/compare.js';
import { makeLogits, makeTargets } from './support/data.js';

describe('huge rows across threads', () => {
  let two: Engine;
  beforeAll(async () => {
    two = await createEngine({ simd: 'baseline', threads: 2 });
  });
  afterAll(() => two.dispose());

  // One row, and three rows (uneven on two threads); row lengths not a multiple of the parts' 16.
  const shapes = [[1, 262144], [3, 70001], [1, 100003]] as const;
  const options = {
    plain: {},
    'weights, smoothing and z-loss': { labelSmoothing: 0.2, zLoss: 1e-3 },
    softcap: { softcap: 15 },
    'softcap and smoothing': { softcap: 15, labelSmoothing: 0.1 },
  } as const;

  describe.each(shapes)('%i x %i', (rows, classes) => {
    const weight = Float32Array.from(makeLogits(1, classes, 'normal', 7), Math.abs);
    it.each(Object.entries(options))('%s: the reference within the accuracy promise, in two calls only', (name, o) => {
      const logits = makeLogits(rows, classes, 'normal', rows + classes);
      const target = makeTargets(rows, classes, 5);
      const withWeight = name.startsWith('weights') ? { ...o, weight } : o;
      const run = vi.spyOn(WorkerPool.prototype, 'run');
      const got = two.crossEntropy(logits, target, { classes, grad: true, ...withWeight });
      // One call for the parts' sums, one for their gradients: the columns were split.
      expect(run).toHaveBeenCalledTimes(2);
      run.mockRestore();
      const want = reference.crossEntropy(logits, target, { classes, grad: true, ...withWeight });
      expectLossOutputs(got, want, { label: `crossEntropy 2 threads ${rows}x${classes} ${name}`, classes });
      expectLosses(got.lse, want.lse, { label: 'lse' });
    });
  });

  it.each([
    ['half -inf', -Infinity],
    ['half NaN', NaN],
    ['half 1e30', 1e30],
    ['half -1e30', -1e30],
  ])('a row of 262144 with its first %s: as the reference', (label, fill) => {
    const classes = 262144;
    const logits = makeLogits(1, classes, 'normal', 3);
    logits.fill(fill, 0, classes / 2);
    for (const target of [5, classes - 1]) {
      const got = two.crossEntropy(logits, [target], { classes, grad: true });
      const want = reference.crossEntropy(logits, [target], { classes, grad: true });
      expectLossOutputs(got, want, { label: `${label}, target ${target}`, classes });
    }
  });

  it('an ignored row: zero loss and gradient', () => {
    const classes = 200000;
    const got = two.crossEntropy(makeLogits(1, classes, 'normal', 4), [-100], { classes, grad: true, reduction: 'sum' });
    expect(got.loss).toBe(0);
    expect(got.grad!.every((g) => g === 0)).toBe(true);
  });

  it('the same bits from plain arrays, a tensor in place, and a forward-only call', () => {
    const rows = 1, classes = 300007;
    const logits = makeLogits(rows, classes, 'huge', 9);
    const arrays = two.crossEntropy(logits, [17], { classes, grad: true });
    const tensor = two.tensor(rows, classes);
    tensor.data.set(logits);
    const inPlace = two.crossEntropy(tensor, [17], { grad: 'inplace' });
    expect(sameBits(tensor.data, arrays.grad!)).toBe(true);
    expect(inPlace.loss).toBe(arrays.loss);
    expect(two.crossEntropy(logits, [17], { classes }).loss).toBe(arrays.loss);
    tensor.free();
  });

  it('rows that share out evenly are not split by columns', () => {
    const run = vi.spyOn(WorkerPool.prototype, 'run');
    two.crossEntropy(makeLogits(2, 100000, 'normal', 2), [1, 2], { classes: 100000, grad: true });
    expect(run).not.toHaveBeenCalled();
    run.mockRestore();
  });
});
