// The binary cross-entropy kernel against the float64 reference and PyTorch, for both builds.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { XentError, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { BinaryCrossEntropyOptions } from '../src/types.js';
import { expectField, expectLossOutputs, expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, TEST_SHAPES, makeLogits, makeUnitTargets, rowsFor } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { torchOptions } from './support/torch-args.js';
import { TORCH_VERSION, expectedOutputs, torchCases } from './support/vectors.js';

function compare(engine: Engine, label: string, logits: Float32Array, target: Float32Array, options: BinaryCrossEntropyOptions): void {
  const got = engine.binaryCrossEntropy(logits, target, { ...options, grad: true });
  const want = reference.binaryCrossEntropy(logits, target, { ...options, grad: true });
  const where = { label, classes: options.classes };
  expectLossOutputs(got, want, where);
  // Forward alone gives the same numbers, bit for bit.
  const forward = engine.binaryCrossEntropy(logits, target, options);
  expect(sameBits(forward.losses, got.losses), `${label}: forward only`).toBe(true);
  expect(forward.loss).toBe(got.loss);
  expect(forward.grad).toBeUndefined();
}

describe.each(BUILDS)('binaryCrossEntropy [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference over row lengths and data classes', () => {
    for (const { rows, classes } of TEST_SHAPES) {
      it.each(DATA_CLASSES)(`${rows}x${classes} %s`, (data) => {
        const logits = makeLogits(rows, classes, data, classes);
        compare(engine, `${build} ${rows}x${classes} ${data}`, logits, makeUnitTargets(rows * classes, classes), { classes });
      });
    }
  });

  const OPTIONS: Array<[string, (n: number, classes: number) => BinaryCrossEntropyOptions]> = [
    ['sum', () => ({ reduction: 'sum' })],
    ['per-element weight', (n) => ({ weight: new Float32Array(n).map((_, i) => 0.25 + (i % 7) / 3) })],
    ['scalar posWeight 3', () => ({ posWeight: 3 })],
    ['per-class posWeight with weight, sum', (n, c) => ({
      posWeight: new Float32Array(c).map((_, j) => 0.5 + (j % 5)),
      weight: new Float32Array(n).map((_, i) => 1 + (i % 3) / 4),
      reduction: 'sum',
    })],
    ['gradScale 1/8', () => ({ gradScale: 0.125 })],
  ];
  describe.each([1, 7, 33, 1000])('options at %i classes', (classes) => {
    const rows = rowsFor(classes);
    it.each(OPTIONS)('%s', (name, options) => {
      const logits = makeLogits(rows, classes, 'normal', 11);
      const opts = { classes, ...options(rows * classes, classes) };
      compare(engine, `${build} ${rows}x${classes} ${name}`, logits, makeUnitTargets(rows * classes, 12), opts);
    });
  });

  it('a flat array needs no classes: elementwise, any length', () => {
    for (const n of [0, 1, 3, 17, 1001]) {
      const logits = makeLogits(1, n, 'normal', n), target = makeUnitTargets(n, n + 1);
      const got = engine.binaryCrossEntropy(logits, target, { grad: true, posWeight: 2 });
      const want = reference.binaryCrossEntropy(logits, target, { grad: true, posWeight: 2 });
      expectLossOutputs(got, want, { label: `n = ${n}` });
    }
  });

  it('empty input: NaN mean, 0 sum', () => {
    expect(engine.binaryCrossEntropy(new Float32Array(0), new Float32Array(0)).loss).toBeNaN();
    expect(engine.binaryCrossEntropy(new Float32Array(0), new Float32Array(0), { reduction: 'sum' }).loss).toBe(0);
  });

  it('infinite and NaN logits propagate as in PyTorch; the gradient stays finite at +-inf', () => {
    const logits = new Float32Array([-Infinity, -Infinity, Infinity, Infinity, NaN, 1, 2, 3, 4]);
    const target = new Float32Array([0, 0.5, 0.5, 1, 0.5, 0, 0, 1, 1]);
    const got = engine.binaryCrossEntropy(logits, target, { grad: true, reduction: 'sum' });
    const want = reference.binaryCrossEntropy(logits, target, { grad: true, reduction: 'sum' });
    expectLosses(got.losses, want.losses, { label: 'non-finite' });
    expectField(got.grad!, want.grad!, { label: 'non-finite' });
    expect(Number.isNaN(got.losses[0])).toBe(true);
    expect(got.losses[2]).toBe(Infinity);
    expect(got.grad!.subarray(0, 4).every(Number.isFinite)).toBe(true);
    expect(got.loss).toBeNaN();
  });

  describe('gradient requests', () => {
    const classes = 37, rows = 9;
    const logits = makeLogits(rows, classes, 'normal', 21);
    const target = makeUnitTargets(rows * classes, 22);
    const want = reference.binaryCrossEntropy(logits, target, { classes, grad: true }).grad!;

    it('a Float32Array is filled and returned, the logits untouched', () => {
      const copy = logits.slice();
      const out = new Float32Array(rows * classes);
      const r = engine.binaryCrossEntropy(copy, target, { classes, grad: out });
      expect(r.grad).toBe(out);
      expect(copy).toEqual(logits);
      expectField(out, want, { label: 'grad: array', classes });
    });

    it("'inplace' overwrites a Float32Array of logits, and a Tensor", () => {
      const copy = logits.slice();
      const r = engine.binaryCrossEntropy(copy, target, { classes, grad: 'inplace' });
      expect(r.grad).toBe(copy);
      expectField(copy, want, { label: "grad: 'inplace'", classes });
      const t = engine.tensor(rows, classes);
      t.data.set(logits);
      const fresh = engine.binaryCrossEntropy(t, target, { grad: true, posWeight: new Float32Array(classes).fill(1) });
      expect(t.data).toEqual(logits);
      expectField(fresh.grad!, want, { label: 'tensor, grad: true', classes });
      engine.binaryCrossEntropy(t, target, { grad: 'inplace' });
      expectField(t.data, want, { label: "tensor, grad: 'inplace'", classes });
      t.free();
    });
  });

  describe('bad input: a clear XentError, and nothing written', () => {
    const classes = 5, rows = 4, n = rows * classes;
    const logits = makeLogits(rows, classes, 'normal', 31);
    const target = makeUnitTargets(n, 32);
    const CASES: Array<[string, () => [Float32Array, BinaryCrossEntropyOptions], string, RegExp]> = [
      ['target of the wrong length', () => [target.subarray(1), { classes }], 'SHAPE_MISMATCH', /target has 19 values, expected 20/],
      ['target above 1', () => [target.slice().fill(1.5, 17, 18), { classes }], 'TARGET_OUT_OF_RANGE', /target\[17\] \(row 3, column 2\) = 1\.5 is outside \[0, 1\]/],
      ['negative target', () => [target.slice().fill(-0.25, 3, 4), {}], 'TARGET_OUT_OF_RANGE', /target\[3\] = -0\.25 is outside \[0, 1\]/],
      ['NaN target', () => [target.slice().fill(NaN, 9, 10), { classes }], 'TARGET_OUT_OF_RANGE', /target\[9\] \(row 1, column 4\) = NaN/],
      ['weight of the wrong length', () => [target, { classes, weight: new Float32Array(classes) }], 'SHAPE_MISMATCH', /weight has 5 values, expected 20/],
      ['posWeight per class without classes', () => [target, { posWeight: new Float32Array(classes) }], 'BAD_OPTION', /posWeight per class \(5 values\) needs options\.classes/],
      ['posWeight of the wrong length', () => [target, { classes, posWeight: new Float32Array(4) }], 'SHAPE_MISMATCH', /posWeight has 4 values, expected 5/],
      ['NaN posWeight', () => [target, { classes, posWeight: NaN }], 'BAD_OPTION', /posWeight must be a finite number, got NaN/],
      ["reduction 'none'", () => [target, { classes, reduction: 'none' as 'sum' }], 'BAD_OPTION', /result\.losses/],
      ['classes that do not divide the length', () => [target, { classes: 3 }], 'SHAPE_MISMATCH', /20 values, which is not a whole number of rows of 3/],
      ['an unknown option', () => [target, { classes, pos_weight: 2 } as BinaryCrossEntropyOptions], 'BAD_OPTION', /did you mean 'posWeight'/],
    ];
    it.each(CASES)('%s', (_, make, code, message) => {
      const [t, options] = make();
      const out = new Float32Array(n).fill(7);
      expectXentError(() => engine.binaryCrossEntropy(logits, t, { ...options, grad: out }), code, message);
      expect(out.every((v) => v === 7)).toBe(true);
      const inplace = logits.slice();
      expect(() => engine.binaryCrossEntropy(inplace, t, { ...options, grad: 'inplace' })).toThrow(XentError);
      expect(inplace).toEqual(logits);
    });

    it('a grad array of the wrong length', () => {
      expectXentError(() => engine.binaryCrossEntropy(logits, target, { classes, grad: new Float32Array(3) }), 'SHAPE_MISMATCH', /grad has 3 values, expected 20/);
    });
  });

  it('two worker threads give the same bytes as one', async () => {
    const two = await makeEngine(build, { threads: 2 });
    const classes = 33, rows = 3001;
    const logits = makeLogits(rows, classes, 'normal', 41), target = makeUnitTargets(rows * classes, 42);
    const options = {
      classes, grad: true, reduction: 'sum',
      weight: new Float32Array(rows * classes).map((_, i) => 1 + (i % 5) / 4),
      posWeight: new Float32Array(classes).map((_, j) => 0.5 + (j % 3)),
    } as const;
    for (const opts of [options, { grad: true } as const]) {
      const a = engine.binaryCrossEntropy(logits, target, opts);
      const b = two.binaryCrossEntropy(logits, target, opts);
      expect(b.loss).toBe(a.loss);
      expect(sameBits(b.losses, a.losses)).toBe(true);
      expect(sameBits(b.grad!, a.grad!)).toBe(true);
    }
    two.dispose();
  });

  describe('properties', () => {
    const logitArb = fc.float({ min: -50, max: 50, noNaN: true });
    const unitArb = fc.float({ min: 0, max: 1, noNaN: true });
    const pairs = fc.array(fc.tuple(logitArb, unitArb), { minLength: 1, maxLength: 70 });

    it('matches the reference, and every loss is >= 0 for weights and posWeight >= 0', () => {
      fc.assert(
        fc.property(pairs, fc.float({ min: 0, max: 10, noNaN: true }), (xs, p) => {
          const logits = new Float32Array(xs.map(([x]) => x)), target = new Float32Array(xs.map(([, t]) => t));
          const got = engine.binaryCrossEntropy(logits, target, { posWeight: p, grad: true, reduction: 'sum' });
          const want = reference.binaryCrossEntropy(logits, target, { posWeight: p, grad: true, reduction: 'sum' });
          expectLosses(got.losses, want.losses, { label: 'property' });
          expectField(got.grad!, want.grad!, { label: 'property' });
          expect(got.losses.every((l) => l >= 0)).toBe(true);
        }),
        { numRuns: 150, seed: 20261224 },
      );
    });

    it('is symmetric: (x, t) and (-x, 1 - t) cost the same, bit for bit, with opposite gradients', () => {
      fc.assert(
        fc.property(pairs, (xs) => {
          const logits = new Float32Array(xs.map(([x]) => x)), target = new Float32Array(xs.map(([, t]) => t));
          const a = engine.binaryCrossEntropy(logits, target, { grad: true });
          const b = engine.binaryCrossEntropy(logits.map((x) => -x), target.map((t) => 1 - t), { grad: true });
          // 1 - (1 - t) is t again for every f32 t in [0, 1] above 2^-25; skip the rest.
          const exact = target.every((t) => Math.fround(1 - Math.fround(1 - t)) === t);
          if (!exact) return;
          expect(b.losses).toEqual(a.losses);
          expect(Array.from(b.grad!, (g) => -g + 0)).toEqual(Array.from(a.grad!, (g) => g + 0));
        }),
        { numRuns: 150, seed: 20261325 },
      );
    });
  });

  describe(`against PyTorch ${TORCH_VERSION}`, () => {
    it.each(torchCases('binaryCrossEntropy').map((c) => [c.name, c] as const))('%s', (label, c) => {
      const logits = new Float32Array(c.inputs.logits!);
      const r = engine.binaryCrossEntropy(logits, new Float32Array(c.inputs.target!), { ...torchOptions(c), grad: true });
      const where = { label: `${build} ${label}`, classes: c.classes };
      expectLossOutputs(r, expectedOutputs(c), where);
    });
  });
});
