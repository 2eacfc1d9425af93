// binaryCrossEntropy, sigmoidFocalLoss, klDivergence and evaluate in Chromium, both builds,
// against the float64 reference computed in the same page: options, a Tensor input and the
// grad modes, at row lengths around the kernels' unroll and vector width.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, LossResult, Tensor } from '../../src/index.js';
import {
  BUILDS, copy, expectField, expectLoss, expectLosses, makeEngine, makeLogits, makeTargets, reference, rng,
} from './support.js';

const SHAPES = [[7, 1], [5, 17], [3, 33], [2, 1025]] as const;

/** Targets in [0, 1]: a third 0, a third 1, a third fractional. */
function unitTargets(n: number, seed: number): Float32Array {
  const random = rng(seed);
  return new Float32Array(n).map(() => {
    const u = random();
    return u < 0.33 ? 0 : u > 0.67 ? 1 : random();
  });
}

type Loss = { loss: number; losses: ArrayLike<number>; grad?: ArrayLike<number> };

function expectSameLoss(got: Loss, want: Loss, label: string, classes: number): void {
  expectLoss(got.loss, want.loss, { label: `${label}: loss` });
  expectLosses(got.losses, want.losses, { label: `${label}: losses` });
  expectField(got.grad!, want.grad!, { label: `${label}: grad`, classes });
}

describe.each(BUILDS)('binaryCrossEntropy, sigmoidFocalLoss, klDivergence, evaluate [%s] in Chromium', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });
  afterAll(() => engine.dispose());

  it.each(SHAPES)('binaryCrossEntropy %ix%i: defaults, weights with per-class posWeight, scalar posWeight', (rows, classes) => {
    const n = rows * classes;
    for (const kind of ['normal', 'large'] as const) {
      const x = makeLogits(rows, classes, kind, n);
      const target = unitTargets(n, n + 1);
      for (const [name, options] of [
        ['defaults', {}],
        ['weight, posWeight per class, sum', {
          weight: new Float32Array(n).map((_, i) => 0.25 + (i % 7) / 3),
          posWeight: new Float32Array(classes).map((_, j) => 0.5 + (j % 5)),
          reduction: 'sum',
        }],
        ['posWeight 3, gradScale 0.5', { posWeight: 3, gradScale: 0.5 }],
      ] as const) {
        const opts = { classes, grad: true, ...options };
        expectSameLoss(engine.binaryCrossEntropy(x, target, opts), reference.binaryCrossEntropy(x, target, opts), `bce [${build}] ${kind} ${rows}x${classes} ${name}`, classes);
      }
    }
  });

  it.each(SHAPES)('sigmoidFocalLoss %ix%i: defaults, alpha off with gamma 1.5 and sum, gamma 0', (rows, classes) => {
    const n = rows * classes;
    const x = makeLogits(rows, classes, 'normal', n + 2);
    const target = unitTargets(n, n + 3);
    for (const [name, options] of [
      ['defaults', {}],
      ['alpha -1, gamma 1.5, sum', { alpha: -1, gamma: 1.5, reduction: 'sum' }],
      ['alpha 0.5, gamma 0', { alpha: 0.5, gamma: 0 }],
    ] as const) {
      const opts = { classes, grad: true, ...options };
      expectSameLoss(engine.sigmoidFocalLoss(x, target, opts), reference.sigmoidFocalLoss(x, target, opts), `focal [${build}] ${rows}x${classes} ${name}`, classes);
    }
  });

  it.each(SHAPES)('klDivergence %ix%i: batchmean, and T = 2 with sum', (rows, classes) => {
    const student = makeLogits(rows, classes, 'normal', rows + classes);
    const teacher = makeLogits(rows, classes, 'normal', 3 * (rows + classes));
    for (const [name, options] of [
      ['batchmean', {}],
      ['T = 2, sum', { temperature: 2, reduction: 'sum' }],
    ] as const) {
      const opts = { classes, grad: true, ...options };
      expectSameLoss(engine.klDivergence(student, teacher, opts), reference.klDivergence(student, teacher, opts), `kl [${build}] ${rows}x${classes} ${name}`, classes);
    }
  });

  it.each([[9, 5], [13, 33], [4, 1025]] as const)('evaluate %ix%i with ignored rows, top-3 and segments', (rows, classes) => {
    const x = makeLogits(rows, classes, 'normal', 5 * classes);
    const target = makeTargets(rows, classes, 6 * classes, 0.2);
    const segments = new Int32Array([0, 2, 2, rows - 1, rows]);
    const options = { classes, topK: 3, segments };
    const got = engine.evaluate(x, target, options);
    const want = reference.evaluate(x, target, options);
    const label = `evaluate [${build}] ${rows}x${classes}`;
    for (const key of ['loss', 'perplexity', 'bitsPerToken', 'entropy'] as const) expectLoss(got[key], want[key], { label: `${label}: ${key}` });
    expect(got.accuracy, `${label}: accuracy`).toBe(want.accuracy);
    expect(got.count, `${label}: count`).toBe(want.count);
    expectLosses(got.rows.nll, want.rows.nll, { label: `${label}: rows.nll` });
    expectLosses(got.rows.entropy, want.rows.entropy, { label: `${label}: rows.entropy` });
    expect(got.rows.argmax, `${label}: argmax`).toEqual(want.rows.argmax);
    expect(got.topK!.k).toBe(3);
    expect(got.topK!.indices, `${label}: top-3 indices`).toEqual(want.topK!.indices);
    expectField(got.topK!.logprobs, want.topK!.logprobs, { label: `${label}: top-3 logprobs`, classes: 3 });
    expect(got.segments).toHaveLength(want.segments!.length);
    got.segments!.forEach((s, i) => {
      const w = want.segments![i]!;
      expect(s.count, `${label}: segment ${i} count`).toBe(w.count);
      expect(s.accuracy, `${label}: segment ${i} accuracy`).toBe(w.accuracy);
      expectLoss(s.loss, w.loss, { label: `${label}: segment ${i} loss` });
      expectLoss(s.logprob, w.logprob, { label: `${label}: segment ${i} logprob` });
    });
  });

  it('Tensor inputs and the grad modes: the same numbers as flat arrays', () => {
    const rows = 6, classes = 37;
    const x = makeLogits(rows, classes, 'normal', 61);
    const teacher = makeLogits(rows, classes, 'normal', 62);
    const target = unitTargets(rows * classes, 63);
    const t = engine.tensor(rows, classes);
    for (const name of ['binaryCrossEntropy', 'sigmoidFocalLoss', 'klDivergence'] as const) {
      const second = name === 'klDivergence' ? teacher : target;
      // Each method narrows its result by its own options' type: one signature for all three here.
      const op = (logits: Float32Array | Tensor, y: Float32Array, options: object): LossResult =>
        (engine[name] as (logits: Float32Array | Tensor, y: Float32Array, options: object) => LossResult)(logits, y, options);
      const flat = op(x, second, { classes, grad: true });
      t.data.set(x);
      const viaTensor = op(t, second, { grad: true });
      expect(viaTensor.loss, `${name} [${build}] Tensor loss`).toBe(flat.loss);
      expect(viaTensor.losses, `${name} [${build}] Tensor losses`).toEqual(flat.losses);
      expect(viaTensor.grad, `${name} [${build}] Tensor grad`).toEqual(flat.grad);
      const out = new Float32Array(rows * classes);
      expect(op(x, second, { classes, grad: out }).grad).toBe(out);
      expect(out, `${name} [${build}] grad into an array`).toEqual(flat.grad);
      const logits = copy(x);
      expect(op(logits, second, { classes, grad: 'inplace' }).grad).toBe(logits);
      expect(logits, `${name} [${build}] grad in place`).toEqual(flat.grad);
      op(t, second, { grad: 'inplace' });
      expect(t.data, `${name} [${build}] grad in place over a Tensor`).toEqual(flat.grad);
    }
    t.free();
  });
});
