// The sigmoid focal loss kernel against the float64 reference and PyTorch (torchvision's
// formula), for both builds.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { XentError, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { SigmoidFocalLossOptions } from '../src/types.js';
import { expectField, expectLossOutputs, expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, TEST_SHAPES, makeLogits, makeUnitTargets, rowsFor } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { torchOptions } from './support/torch-args.js';
import { TORCH_VERSION, expectedOutputs, torchCases } from './support/vectors.js';

function compare(engine: Engine, label: string, logits: Float32Array, target: Float32Array, options: SigmoidFocalLossOptions): void {
  const got = engine.sigmoidFocalLoss(logits, target, { ...options, grad: true });
  const want = reference.sigmoidFocalLoss(logits, target, { ...options, grad: true });
  const where = { label, classes: options.classes };
  expectLossOutputs(got, want, where);
  const forward = engine.sigmoidFocalLoss(logits, target, options);
  expect(sameBits(forward.losses, got.losses), `${label}: forward only`).toBe(true);
  expect(forward.grad).toBeUndefined();
}

describe.each(BUILDS)('sigmoidFocalLoss [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference over row lengths and data classes (defaults: alpha 0.25, gamma 2)', () => {
    for (const { rows, classes } of TEST_SHAPES) {
      it.each(DATA_CLASSES)(`${rows}x${classes} %s`, (data) => {
        const logits = makeLogits(rows, classes, data, classes);
        compare(engine, `${build} ${rows}x${classes} ${data}`, logits, makeUnitTargets(rows * classes, classes), { classes });
      });
    }
  });

  const OPTIONS: Array<[string, SigmoidFocalLossOptions]> = [
    ['gamma 0', { gamma: 0 }],
    ['gamma 1, sum', { gamma: 1, reduction: 'sum' }],
    ['gamma 1.5, alpha off', { gamma: 1.5, alpha: -1 }],
    ['gamma 0.5, alpha 0.75', { gamma: 0.5, alpha: 0.75 }],
    ['gamma 3, gradScale 4', { gamma: 3, gradScale: 4 }],
    ['alpha 0 (negatives only)', { alpha: 0 }],
  ];
  describe.each([7, 33, 1000])('options at %i classes', (classes) => {
    const rows = rowsFor(classes);
    it.each(OPTIONS)('%s', (name, options) => {
      for (const data of ['normal', 'huge'] as const) {
        const logits = makeLogits(rows, classes, data, 11);
        compare(engine, `${build} ${rows}x${classes} ${data} ${name}`, logits, makeUnitTargets(rows * classes, 12), { classes, ...options });
      }
    });
  });

  it('fractional gamma where p_t = 1 exactly (saturated binary targets): loss 0, gradient 0, not NaN', () => {
    const logits = new Float32Array([200, -200, 1e4, -1e4, 88, -88, 30, -30, 0]);
    const target = new Float32Array([1, 0, 1, 0, 1, 0, 1, 0, 1]);
    for (const gamma of [0.25, 0.5, 1.5]) {
      const got = engine.sigmoidFocalLoss(logits, target, { gamma, grad: true, reduction: 'sum' });
      const want = reference.sigmoidFocalLoss(logits, target, { gamma, grad: true, reduction: 'sum' });
      expect(got.grad!.every(Number.isFinite)).toBe(true);
      expect(Array.from(got.losses.subarray(0, 4), (l) => l + 0)).toEqual([0, 0, 0, 0]);
      expect(Array.from(got.grad!.subarray(0, 4), (g) => g + 0)).toEqual([0, 0, 0, 0]);
      expectLosses(got.losses, want.losses, { label: `gamma ${gamma}` });
      expectField(got.grad!, want.grad!, { label: `gamma ${gamma}` });
    }
  });

  it('infinite and NaN logits: NaN where PyTorch is NaN', () => {
    const logits = new Float32Array([-Infinity, Infinity, Infinity, NaN, 0.5]);
    const target = new Float32Array([1, 0, 1, 0.5, 0.5]);
    const got = engine.sigmoidFocalLoss(logits, target, { reduction: 'sum' });
    const want = reference.sigmoidFocalLoss(logits, target, { reduction: 'sum' });
    expectLosses(got.losses, want.losses, { label: 'non-finite' });
    expect(Number.isNaN(got.losses[0])).toBe(true); // binary cross-entropy is NaN at -inf
    expect(got.losses[1]).toBe(Infinity);
    expect(got.loss).toBeNaN();
  });

  describe('gradient requests', () => {
    const classes = 37, rows = 9;
    const logits = makeLogits(rows, classes, 'normal', 21);
    const target = makeUnitTargets(rows * classes, 22);
    const want = reference.sigmoidFocalLoss(logits, target, { grad: true, gamma: 1.5 }).grad!;

    it("a Float32Array is filled; 'inplace' overwrites the logits or a Tensor", () => {
      const out = new Float32Array(rows * classes);
      const r = engine.sigmoidFocalLoss(logits, target, { grad: out, gamma: 1.5 });
      expect(r.grad).toBe(out);
      expectField(out, want, { label: 'grad: array', classes });
      const copy = logits.slice();
      expect(engine.sigmoidFocalLoss(copy, target, { grad: 'inplace', gamma: 1.5 }).grad).toBe(copy);
      expectField(copy, want, { label: "grad: 'inplace'", classes });
      const t = engine.tensor(rows, classes);
      t.data.set(logits);
      engine.sigmoidFocalLoss(t, target, { grad: 'inplace', gamma: 1.5 });
      expectField(t.data, want, { label: "tensor, grad: 'inplace'", classes });
      t.free();
    });
  });

  describe('bad input: a clear XentError, and nothing written', () => {
    const n = 24;
    const logits = makeLogits(1, n, 'normal', 31);
    const target = makeUnitTargets(n, 32);
    const CASES: Array<[string, () => [Float32Array, SigmoidFocalLossOptions], string, RegExp]> = [
      ['target of the wrong length', () => [target.subarray(2), {}], 'SHAPE_MISMATCH', /target has 22 values, expected 24/],
      ['target of class indices', () => [new Int32Array(n) as unknown as Float32Array, {}], 'SHAPE_MISMATCH', /target must be a Float32Array of 24 probabilities/],
      ['target 2 (a class index)', () => [target.slice().fill(2, 5, 6), {}], 'TARGET_OUT_OF_RANGE', /target\[5\] = 2 is outside \[0, 1\]/],
      ['alpha above 1', () => [target, { alpha: 1.5 }], 'BAD_OPTION', /alpha must be a number in \[0, 1\], or negative to disable the weighting, got 1\.5/],
      ['NaN alpha', () => [target, { alpha: NaN }], 'BAD_OPTION', /alpha .* got NaN/],
      ['negative gamma', () => [target, { gamma: -0.5 }], 'BAD_OPTION', /gamma must be a finite number >= 0, got -0\.5/],
      ['reduction batchmean', () => [target, { reduction: 'batchmean' as 'sum' }], 'BAD_OPTION', /reduction must be one of 'mean', 'sum', got 'batchmean'/],
    ];
    it.each(CASES)('%s', (_, make, code, message) => {
      const [t, options] = make();
      const out = new Float32Array(n).fill(7);
      expectXentError(() => engine.sigmoidFocalLoss(logits, t, { ...options, grad: out }), code, message);
      expect(out.every((v) => v === 7)).toBe(true);
      const inplace = logits.slice();
      expect(() => engine.sigmoidFocalLoss(inplace, t, { ...options, grad: 'inplace' })).toThrow(XentError);
      expect(inplace).toEqual(logits);
    });
  });

  it('two worker threads give the same bytes as one', async () => {
    const two = await makeEngine(build, { threads: 2 });
    const n = 100_003;
    const logits = makeLogits(1, n, 'normal', 41), target = makeUnitTargets(n, 42);
    for (const gamma of [2, 1.5]) {
      const a = engine.sigmoidFocalLoss(logits, target, { gamma, grad: true });
      const b = two.sigmoidFocalLoss(logits, target, { gamma, grad: true });
      expect(b.loss).toBe(a.loss);
      expect(sameBits(b.losses, a.losses)).toBe(true);
      expect(sameBits(b.grad!, a.grad!)).toBe(true);
    }
    two.dispose();
  });

  describe('properties', () => {
    const pairs = fc.array(fc.tuple(fc.float({ min: -40, max: 40, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 70 });
    const split = (xs: Array<[number, number]>) => [new Float32Array(xs.map(([x]) => x)), new Float32Array(xs.map(([, t]) => t))] as const;

    it('gamma 0 with alpha disabled is binary cross-entropy, bit for bit', () => {
      fc.assert(
        fc.property(pairs, (xs) => {
          const [logits, target] = split(xs);
          const focal = engine.sigmoidFocalLoss(logits, target, { gamma: 0, alpha: -1, grad: true });
          const bce = engine.binaryCrossEntropy(logits, target, { grad: true });
          expect(focal.losses).toEqual(bce.losses);
          expectField(focal.grad!, bce.grad!, { label: 'gamma 0 vs bce' });
        }),
        { numRuns: 100, seed: 20261628 },
      );
    });

    it('matches the reference for any alpha and gamma, and never exceeds binary cross-entropy', () => {
      const alpha = fc.oneof(fc.constant(-1), fc.float({ min: 0, max: 1, noNaN: true }));
      const gamma = fc.oneof(fc.constantFrom(0, 1, 2), fc.float({ min: 0, max: 5, noNaN: true }));
      fc.assert(
        fc.property(pairs, alpha, gamma, (xs, a, g) => {
          const [logits, target] = split(xs);
          const options = { alpha: a, gamma: g, reduction: 'sum' as const };
          const got = engine.sigmoidFocalLoss(logits, target, { ...options, grad: true });
          const want = reference.sigmoidFocalLoss(logits, target, { ...options, grad: true });
          const label = `alpha ${a}, gamma ${g}`;
          expectLosses(got.losses, want.losses, { label });
          expectField(got.grad!, want.grad!, { label });
          const bce = engine.binaryCrossEntropy(logits, target).losses;
          got.losses.forEach((l, i) => expect(l).toBeLessThanOrEqual(bce[i]! * (1 + 1e-6)));
        }),
        { numRuns: 150, seed: 20261729 },
      );
    });
  });

  describe(`against PyTorch ${TORCH_VERSION}`, () => {
    it.each(torchCases('sigmoidFocalLoss').map((c) => [c.name, c] as const))('%s', (label, c) => {
      const r = engine.sigmoidFocalLoss(new Float32Array(c.inputs.logits!), new Float32Array(c.inputs.target!), { ...torchOptions(c), grad: true });
      const where = { label: `${build} ${label}`, classes: c.classes };
      expectLossOutputs(r, expectedOutputs(c), where);
    });
  });
});
