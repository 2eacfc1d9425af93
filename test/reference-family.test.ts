// The float64 reference of the rest of the loss family (binaryCrossEntropy, sigmoidFocalLoss,
// klDivergence, evaluate) is the oracle of their kernels, so it is tested first: against
// hand-worked cases, central finite differences, and vectors computed by PyTorch.

import { describe, expect, it } from 'vitest';
import * as reference from '../src/reference/index.js';
import type { TorchCase } from './support/vectors.js';
import { expectField, expectLoss, expectLossOutputs, expectLosses, expectXentError } from './support/compare.js';
import { normal, rng } from './support/data.js';
import { torchOptions } from './support/torch-args.js';
import { TORCH_VERSION, expectedOutputs, torchCases } from './support/vectors.js';
import type { BinaryCrossEntropyOptions, KlDivergenceOptions, SigmoidFocalLossOptions } from '../src/types.js';

/** The reference against PyTorch in float64: far tighter than the engine's promise. */
const TIGHT = 1e-10;

/** A case's options with every array as Float64Array: exact, like the float64 inputs. */
const options64 = (c: TorchCase) => torchOptions(c, Float64Array);

const f64 = (values: number[]) => new Float64Array(values);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Central differences of the reduced loss, times gradScale. */
function numericGrad(x: Float64Array, loss: (x: Float64Array) => number, scale = 1, h = 1e-6): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const up = x.slice(); up[i]! += h;
    const down = x.slice(); down[i]! -= h;
    out[i] = (scale * (loss(up) - loss(down))) / (2 * h);
  }
  return out;
}

/**
 * A gradient against PyTorch's: relative to its largest value, except where that is rounding
 * noise around an exact 0 (student = teacher), which is compared absolutely.
 */
function expectTorchGrad(got: ArrayLike<number>, want: number[], where: { label: string; classes: number }, tol: number): void {
  if (want.every((g) => Math.abs(g) < 1e-15)) {
    expect(Array.from(got).every((g) => Math.abs(g) < 1e-15), `${where.label}: gradient should be 0`).toBe(true);
  } else expectField(got, want, where, tol);
}

describe('reference binaryCrossEntropy: hand-worked cases', () => {
  it('x = 0 costs ln 2 whatever the target; gradient sigmoid(0) - t', () => {
    const r = reference.binaryCrossEntropy(f64([0, 0, 0]), f64([0, 0.5, 1]), { grad: true, reduction: 'sum' });
    for (const l of r.losses) expect(l).toBeCloseTo(Math.LN2, 15);
    expect(Array.from(r.grad!)).toEqual([0.5, 0, -0.5]);
  });

  it('x = 2, t = 1 costs softplus(-2); the mean divides by the element count', () => {
    const r = reference.binaryCrossEntropy(f64([2, 2]), f64([1, 1]), { grad: true });
    expect(r.losses[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 15);
    expect(r.loss).toBeCloseTo(Math.log1p(Math.exp(-2)), 15);
    expect(r.grad![0]).toBeCloseTo((sigmoid(2) - 1) / 2, 15);
  });

  it('posWeight scales the positive term: x = 0, t = 1, P = 3 costs 3 ln 2, gradient 3/2 - 3', () => {
    const r = reference.binaryCrossEntropy(f64([0]), f64([1]), { posWeight: 3, grad: true });
    expect(r.loss).toBeCloseTo(3 * Math.LN2, 15);
    expect(r.grad![0]).toBeCloseTo(-1.5, 15);
    // per class: column 1 has P = 3, column 0 has P = 1
    const c = reference.binaryCrossEntropy(f64([0, 0, 0, 0]), f64([1, 1, 1, 1]), { classes: 2, posWeight: f64([1, 3]), reduction: 'sum' });
    expect(Array.from(c.losses, (l) => l / Math.LN2).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, 3, 1, 3]);
  });

  it('per-element weights multiply each loss and gradient', () => {
    const r = reference.binaryCrossEntropy(f64([0, 0]), f64([0, 1]), { weight: f64([2, 0.5]), reduction: 'sum', grad: true });
    expect(r.losses[0]).toBeCloseTo(2 * Math.LN2, 15);
    expect(r.losses[1]).toBeCloseTo(0.5 * Math.LN2, 15);
    expect(Array.from(r.grad!)).toEqual([1, -0.25]);
  });

  it('logits of +-1e4 cost 0 or |x| exactly: no cancellation', () => {
    const r = reference.binaryCrossEntropy(f64([1e4, -1e4, 1e4, -1e4]), f64([1, 0, 0, 1]), { reduction: 'sum', grad: true });
    expect(Array.from(r.losses)).toEqual([0, 0, 1e4, 1e4]);
    expect(Array.from(r.grad!, (g) => g + 0)).toEqual([0, 0, 1, -1]); // + 0: -0 counts as 0
  });

  it('infinite logits give what PyTorch gives: NaN at -inf, 0 * inf = NaN at +inf with t = 1', () => {
    const r = reference.binaryCrossEntropy(f64([-Infinity, -Infinity, Infinity, Infinity]), f64([0, 0.5, 0.5, 1]), { reduction: 'sum', grad: true });
    expect(Number.isNaN(r.losses[0])).toBe(true);
    expect(Number.isNaN(r.losses[1])).toBe(true);
    expect(r.losses[2]).toBe(Infinity);
    expect(Number.isNaN(r.losses[3])).toBe(true);
    // the gradient lw sigmoid(x) - P t stays finite
    expect(Array.from(r.grad!, (g) => g + 0)).toEqual([0, -0.5, 0.5, 0]);
  });

  it('targets outside [0, 1] are refused, naming the first', () => {
    expectXentError(() => reference.binaryCrossEntropy(f64([0, 0, 0]), f64([0, 1.5, -1])), 'TARGET_OUT_OF_RANGE', /target\[1\] = 1\.5 is outside \[0, 1\]/);
    expectXentError(() => reference.binaryCrossEntropy(f64([0, 0, 0, 0]), f64([0, 1, 0, NaN]), { classes: 2 }), 'TARGET_OUT_OF_RANGE', /target\[3\] \(row 1, column 1\) = NaN/);
  });
});

describe('reference sigmoidFocalLoss: hand-worked cases', () => {
  it('x = 0, t = 1, alpha 0.25, gamma 2: 0.25 * (1/2)^2 * ln 2', () => {
    const r = reference.sigmoidFocalLoss(f64([0]), f64([1]), { grad: true });
    expect(r.loss).toBeCloseTo(0.25 * 0.25 * Math.LN2, 15);
    // d/dx: alpha ((p - t) q^2 + 2 ce q (1 - 2t) p (1 - p)) at p = q = 1/2
    expect(r.grad![0]).toBeCloseTo(0.25 * (-0.5 * 0.25 + 2 * Math.LN2 * 0.5 * -1 * 0.25), 15);
  });

  it('gamma 0 with alpha disabled is binary cross-entropy', () => {
    const x = f64([-3, -0.5, 0, 0.7, 4]), t = f64([0, 1, 0.3, 0, 1]);
    const focal = reference.sigmoidFocalLoss(x, t, { alpha: -1, gamma: 0, grad: true });
    const bce = reference.binaryCrossEntropy(x, t, { grad: true });
    expectLosses(focal.losses, bce.losses, { label: 'losses' }, 1e-15);
    expectField(focal.grad!, bce.grad!, { label: 'grad' }, 1e-15);
  });

  it('alpha weighs positives alpha and negatives 1 - alpha', () => {
    const x = f64([0.4, 0.4]);
    const on = reference.sigmoidFocalLoss(x, f64([1, 0]), { alpha: 0.8, gamma: 0, reduction: 'sum' });
    const off = reference.sigmoidFocalLoss(x, f64([1, 0]), { alpha: -1, gamma: 0, reduction: 'sum' });
    expect(on.losses[0]).toBeCloseTo(0.8 * off.losses[0]!, 15);
    expect(on.losses[1]).toBeCloseTo(0.2 * off.losses[1]!, 15);
  });

  it('fractional gamma at p_t = 1 (a saturated binary target): loss 0, gradient 0, not NaN', () => {
    const r = reference.sigmoidFocalLoss(f64([800, -800, 30]), f64([1, 0, 1]), { gamma: 0.5, grad: true, reduction: 'sum' });
    expect(Array.from(r.losses.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(r.grad!.subarray(0, 2))).toEqual([0, 0]);
    expect(r.losses[2]).toBeGreaterThan(0);
    expect(Number.isFinite(r.grad![2])).toBe(true);
  });

  it('alpha above 1 and negative gamma are refused', () => {
    expectXentError(() => reference.sigmoidFocalLoss(f64([0]), f64([1]), { alpha: 2 }), 'BAD_OPTION', /alpha must be a number in \[0, 1\].*got 2/);
    expectXentError(() => reference.sigmoidFocalLoss(f64([0]), f64([1]), { gamma: -1 }), 'BAD_OPTION', /gamma must be a finite number >= 0, got -1/);
  });
});

describe('reference klDivergence: hand-worked cases', () => {
  it('p_t = [1/2, 1/2], p_s = [1/4, 3/4]: KL = ln(4/3) / 2, gradient p_s - p_t', () => {
    const r = reference.klDivergence(f64([0, Math.log(3)]), f64([0, 0]), { classes: 2, grad: true });
    expect(r.loss).toBeCloseTo(0.5 * Math.log(4 / 3), 15);
    expect(r.grad![0]).toBeCloseTo(-0.25, 15);
    expect(r.grad![1]).toBeCloseTo(0.25, 15);
  });

  it('equal rows cost exactly 0 with a zero gradient', () => {
    const x = f64([1, -2, 3, 0.5, 0.5, 7]);
    const r = reference.klDivergence(x, x.slice(), { classes: 3, grad: true, temperature: 1.7 });
    expect(Array.from(r.losses)).toEqual([0, 0]);
    expect(Array.from(r.grad!).every((g) => Math.abs(g) < 1e-16)).toBe(true);
  });

  it('temperature T: the loss of the logits / T, and the gradient 1/T of theirs; no T^2', () => {
    const s = f64([1, 2, -1, 0.5, 3, 3]), t = f64([0, 1, 2, -1, 2, 0]);
    const a = reference.klDivergence(s, t, { classes: 3, temperature: 2, grad: true });
    const b = reference.klDivergence(s.map((v) => v / 2), t.map((v) => v / 2), { classes: 3, grad: true });
    expect(a.loss).toBeCloseTo(b.loss, 14);
    expectField(a.grad!, b.grad!.map((g) => g / 2), { label: 'T = 2' }, 1e-12);
  });

  it("'batchmean' divides the sum by the rows; 'mean' is refused with a hint", () => {
    const s = f64([1, 2, -1, 0.5, 3, 3]), t = f64([0, 1, 2, -1, 2, 0]);
    const sum = reference.klDivergence(s, t, { classes: 3, reduction: 'sum' });
    expect(reference.klDivergence(s, t, { classes: 3 }).loss).toBeCloseTo(sum.loss / 2, 15);
    expectXentError(() => reference.klDivergence(s, t, { classes: 3, reduction: 'mean' as 'sum' }), 'BAD_OPTION', /'batchmean'/);
  });
});

describe('reference evaluate: hand-worked cases', () => {
  it('p = [1/4, 3/4], target 1: nll ln(4/3), entropy of (1/4, 3/4), argmax 1, perplexity 4/3', () => {
    const r = reference.evaluate(f64([0, Math.log(3)]), [1], { classes: 2 });
    expect(r.loss).toBeCloseTo(Math.log(4 / 3), 15);
    expect(r.perplexity).toBeCloseTo(4 / 3, 15);
    expect(r.bitsPerToken).toBeCloseTo(Math.log2(4 / 3), 15);
    expect(r.entropy).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 15);
    expect(r.accuracy).toBe(1);
    expect(r.count).toBe(1);
    expect(Array.from(r.rows.argmax)).toEqual([1]);
  });

  it('an ignored row has nll 0 but its entropy and argmax; means cover counted rows only', () => {
    const r = reference.evaluate(f64([0, 0, 5, 0, 0, 5]), [1, -100], { classes: 3 });
    expect(r.count).toBe(1);
    expect(r.rows.nll[1]).toBe(0);
    expect(r.rows.entropy[1]).toBeCloseTo(r.rows.entropy[0]!, 15);
    expect(Array.from(r.rows.argmax)).toEqual([2, 2]);
    expect(r.loss).toBeCloseTo(r.rows.nll[0]!, 15);
    expect(r.accuracy).toBe(0);
    expect(r.entropy).toBeCloseTo(r.rows.entropy[0]!, 15);
  });

  it('a -inf logit adds nothing to the entropy (entr(0) = 0)', () => {
    const r = reference.evaluate(f64([0, 0, -Infinity]), [0], { classes: 3 });
    expect(r.rows.entropy[0]).toBeCloseTo(Math.LN2, 15);
  });

  it('ties go to the lowest index; NaN ranks above every number, as torch.argmax', () => {
    const t = reference.evaluate(f64([5, 5, 1, 5, 1, NaN, 3, NaN]), [0, 1], { classes: 4, topK: 4 });
    expect(Array.from(t.rows.argmax)).toEqual([0, 1]);
    expect(Array.from(t.topK!.indices)).toEqual([0, 1, 3, 2, 1, 3, 2, 0]);
    expect(Number.isNaN(t.rows.nll[1])).toBe(true);
  });

  it('top k log-probabilities are the largest log-softmax values, best first', () => {
    const x = f64([0.5, 2, -1, 2.5]);
    const r = reference.evaluate(x, [0], { classes: 4, topK: 3 });
    const lse = Math.log(x.reduce((s, v) => s + Math.exp(v), 0));
    expect(Array.from(r.topK!.indices)).toEqual([3, 1, 0]);
    expectLosses(r.topK!.logprobs, [2.5 - lse, 2 - lse, 0.5 - lse], { label: 'top-3' }, 1e-15);
    expect(r.topK!.k).toBe(3);
  });

  it('segments report per-segment means; an empty segment has count 0, NaN means, logprob 0', () => {
    const x = f64([0, 0, 0, Math.log(3), 1, 1]);
    const r = reference.evaluate(x, [0, 1, -100], { classes: 2, segments: [0, 2, 2, 3] });
    const [a, empty, ignored] = r.segments!;
    expect(a!.count).toBe(2);
    expect(a!.logprob).toBeCloseTo(Math.log(0.5) + Math.log(0.75), 15);
    expect(a!.loss).toBeCloseTo(-a!.logprob / 2, 15);
    expect(a!.perplexity).toBeCloseTo(Math.exp(a!.loss), 15);
    expect(a!.accuracy).toBe(1); // row 0: tie -> index 0 = target; row 1: argmax 1 = target
    for (const s of [empty!, ignored!]) {
      expect(s.count).toBe(0);
      expect(s.logprob).toBe(0);
      expect(Object.is(s.logprob, -0)).toBe(false);
      expect(s.loss).toBeNaN();
      expect(s.accuracy).toBeNaN();
    }
  });

  it('every row ignored: NaN means, count 0', () => {
    const r = reference.evaluate(f64([1, 2]), [-100], { classes: 2 });
    expect(r.count).toBe(0);
    for (const v of [r.loss, r.perplexity, r.bitsPerToken, r.accuracy, r.entropy]) expect(v).toBeNaN();
  });
});

describe('reference gradients against central finite differences', () => {
  const random = rng(17);
  const rows = 3, classes = 5;
  const x = new Float64Array(rows * classes).map(() => 2 * normal(random));
  const targets = new Float64Array(rows * classes).map((_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : random()));

  it.each<[string, BinaryCrossEntropyOptions<Float64Array>]>([
    ['plain', {}],
    ['weights, per-class posWeight, sum, gradScale', { weight: new Float64Array(rows * classes).map(() => 0.5 + random()), posWeight: f64([0.5, 1, 2, 4, 0.25]), reduction: 'sum', gradScale: 0.7 }],
    ['scalar posWeight, mean', { posWeight: 3 }],
  ])('binaryCrossEntropy %s', (_, options) => {
    const opts = { classes, ...options };
    const { grad } = reference.binaryCrossEntropy(x, targets, { ...opts, grad: true });
    const numeric = numericGrad(x, (z) => reference.binaryCrossEntropy(z, targets, opts).loss, options.gradScale ?? 1);
    expectField(grad!, numeric, { label: 'binaryCrossEntropy finite differences', classes }, 1e-7);
  });

  it.each<[string, SigmoidFocalLossOptions]>([
    ['alpha 0.25, gamma 2', { alpha: 0.25, gamma: 2 }],
    ['alpha off, gamma 0', { alpha: -1, gamma: 0 }],
    ['gamma 1, sum', { gamma: 1, reduction: 'sum' }],
    ['gamma 1.5, gradScale', { gamma: 1.5, gradScale: 2.5 }],
    ['gamma 0.5, alpha 0.9', { gamma: 0.5, alpha: 0.9 }],
  ])('sigmoidFocalLoss %s', (_, options) => {
    const { grad } = reference.sigmoidFocalLoss(x, targets, { ...options, grad: true });
    const numeric = numericGrad(x, (z) => reference.sigmoidFocalLoss(z, targets, options).loss, options.gradScale ?? 1);
    expectField(grad!, numeric, { label: 'sigmoidFocalLoss finite differences', classes }, 1e-7);
  });

  it.each<[string, KlDivergenceOptions]>([
    ['T = 1', {}],
    ['T = 2.5, sum, gradScale', { temperature: 2.5, reduction: 'sum', gradScale: 0.3 }],
    ['T = 0.5', { temperature: 0.5 }],
  ])('klDivergence %s', (_, options) => {
    const teacher = new Float64Array(rows * classes).map(() => 2 * normal(random));
    const opts = { classes, ...options };
    const { grad } = reference.klDivergence(x, teacher, { ...opts, grad: true });
    const numeric = numericGrad(x, (z) => reference.klDivergence(z, teacher, opts).loss, options.gradScale ?? 1);
    expectField(grad!, numeric, { label: 'klDivergence finite differences', classes }, 1e-7);
  });
});

describe(`reference against PyTorch ${TORCH_VERSION}`, () => {
  it.each(torchCases('binaryCrossEntropy').map((c) => [c.name, c] as const))('binaryCrossEntropy %s', (label, c) => {
    const r = reference.binaryCrossEntropy(f64(c.inputs.logits!), f64(c.inputs.target!), { ...options64(c), grad: true });
    const where = { label, classes: c.classes };
    expectLossOutputs(r, expectedOutputs(c), where, TIGHT);
  });

  it.each(torchCases('sigmoidFocalLoss').map((c) => [c.name, c] as const))('sigmoidFocalLoss %s', (label, c) => {
    const r = reference.sigmoidFocalLoss(f64(c.inputs.logits!), f64(c.inputs.target!), { ...options64(c), grad: true });
    const where = { label, classes: c.classes };
    expectLossOutputs(r, expectedOutputs(c), where, TIGHT);
  });

  it.each(torchCases('klDivergence').map((c) => [c.name, c] as const))('klDivergence %s', (label, c) => {
    const r = reference.klDivergence(f64(c.inputs.student!), f64(c.inputs.teacher!), { ...options64(c), grad: true });
    const where = { label, classes: c.classes };
    expectLoss(r.loss, c.expected.loss as number, where, TIGHT);
    expectLosses(r.losses, c.expected.losses as number[], where, TIGHT);
    expectTorchGrad(r.grad!, c.expected.grad as number[], where, TIGHT);
  });

  it.each(torchCases('evaluate').map((c) => [c.name, c] as const))('evaluate %s', (label, c) => {
    const r = reference.evaluate(f64(c.inputs.logits!), c.inputs.target!, options64(c));
    const e = c.expected;
    const where = { label, classes: c.classes };
    expectLosses(r.rows.nll, e.nll as number[], where, TIGHT);
    expectLosses(r.rows.entropy, e.entropy as number[], where, TIGHT);
    expect(Array.from(r.rows.argmax)).toEqual(e.argmax);
    expectLoss(r.loss, e.loss as number, where, TIGHT);
    expectLoss(r.entropy, e.meanEntropy as number, where, TIGHT);
    expect(r.accuracy).toBe(e.accuracy);
    expect(r.count).toBe(e.count);
    if (e.topkIndices !== undefined) {
      expect(Array.from(r.topK!.indices)).toEqual(e.topkIndices);
      expectLosses(r.topK!.logprobs, e.topkLogprobs as number[], where, TIGHT);
    }
  });
});
