// The float64 reference is the oracle for every kernel, so it is tested first: against
// hand-worked cases, central finite differences, and vectors computed by PyTorch.

import { describe, expect, it } from 'vitest';
import * as reference from '../src/reference/index.js';
import type { CrossEntropyOptions } from '../src/types.js';
import { expectField, expectLoss, expectLosses } from './support/compare.js';
import { normal, rng } from './support/data.js';
import { torchOptions } from './support/torch-args.js';
import { TORCH_VERSION, torchCases } from './support/vectors.js';

/** The reference against PyTorch in float64: far tighter than the engine's promise. */
const TIGHT = 1e-10;

describe('reference crossEntropy: hand-worked cases', () => {
  it('two equal logits cost ln 2, gradient -1/2 and +1/2', () => {
    const r = reference.crossEntropy(new Float64Array([0, 0]), [0], { classes: 2, grad: true });
    expect(r.loss).toBeCloseTo(Math.LN2, 15);
    expect(Array.from(r.grad!)).toEqual([-0.5, 0.5]);
    expect(r.lse[0]).toBeCloseTo(Math.LN2, 15);
    expect(r.count).toBe(1);
  });

  it('three classes [1, 2, 3] with target 2 cost ln(1 + e^-1 + e^-2)', () => {
    const r = reference.crossEntropy(new Float64Array([1, 2, 3]), [2], { classes: 3 });
    expect(r.loss).toBeCloseTo(0.40760596444437, 13);
    expect(r.lse[0]).toBeCloseTo(3.40760596444437, 13);
  });

  it('label smoothing: p = [1/4, 3/4], target 0, eps 0.2 gives 0.9 ln 4 + 0.1 ln(4/3)', () => {
    const r = reference.crossEntropy(new Float64Array([0, Math.log(3)]), [0], { classes: 2, labelSmoothing: 0.2 });
    expect(r.loss).toBeCloseTo(0.9 * Math.log(4) + 0.1 * Math.log(4 / 3), 14);
  });

  it("class weights: 'mean' divides by the target classes' weights, 'sum' does not", () => {
    // Row losses are ln 2 each; weights 1 and 3 on the two targets.
    const x = new Float64Array([0, 0, 0, 0]);
    const weight = new Float32Array([1, 3]);
    const mean = reference.crossEntropy(x, [0, 1], { classes: 2, weight });
    const sum = reference.crossEntropy(x, [0, 1], { classes: 2, weight, reduction: 'sum' });
    expect(mean.loss).toBeCloseTo(Math.LN2, 15);
    expect(sum.loss).toBeCloseTo(4 * Math.LN2, 15);
    expect(Array.from(sum.losses)).toEqual([Math.LN2, 3 * Math.LN2]);
  });

  it('z-loss adds zLoss * lse^2 per row and reports its part; mean over counted rows', () => {
    const x = new Float64Array([0, 0, 5, 5, 9, 9]);
    const r = reference.crossEntropy(x, [0, -100, 1], { classes: 2, zLoss: 0.01 });
    const z = (l: number) => 0.01 * l * l;
    const lse0 = Math.LN2, lse2 = 9 + Math.LN2;
    expect(r.zLoss).toBeCloseTo((z(lse0) + z(lse2)) / 2, 14);
    expect(r.loss).toBeCloseTo(Math.LN2 + r.zLoss, 14);
    expect(r.losses[1]).toBe(0);
    expect(r.lse[1]).toBe(0);
    expect(r.losses[2]).toBeCloseTo(Math.LN2 + z(lse2), 14);
  });

  it('softcap maps logits through cap * tanh(x / cap) before the softmax', () => {
    const x = new Float64Array([30, -10, 2]);
    const capped = new Float64Array(Array.from(x, (v) => 5 * Math.tanh(v / 5)));
    const a = reference.crossEntropy(x, [1], { classes: 3, softcap: 5 });
    const b = reference.crossEntropy(capped, [1], { classes: 3 });
    expect(a.loss).toBeCloseTo(b.loss, 14);
    expect(a.lse[0]).toBeCloseTo(b.lse[0]!, 14);
  });

  it('all rows ignored: NaN under mean, 0 under sum, zero gradient', () => {
    const x = new Float64Array([1, 2, 3, 4]);
    const mean = reference.crossEntropy(x, [-100, -100], { classes: 2, grad: true });
    expect(mean.loss).toBeNaN();
    expect(mean.count).toBe(0);
    expect(Array.from(mean.grad!)).toEqual([0, 0, 0, 0]);
    expect(reference.crossEntropy(x, [-100, -100], { classes: 2, reduction: 'sum' }).loss).toBe(0);
  });
});

describe('reference gradients against central finite differences', () => {
  const cases: Array<[string, CrossEntropyOptions, 'sparse' | 'probs']> = [
    ['plain', {}, 'sparse'],
    ['weights + label smoothing + ignored row', { weight: new Float32Array([0.5, 2, 1, 0.25, 3]), labelSmoothing: 0.15 }, 'sparse'],
    ['z-loss, sum, gradScale', { zLoss: 0.05, reduction: 'sum', gradScale: 0.7 }, 'sparse'],
    ['softcap with everything', { softcap: 2, zLoss: 0.02, labelSmoothing: 0.1, weight: new Float32Array([1, 2, 3, 0.5, 1]) }, 'sparse'],
    ['probability targets, weights, smoothing, softcap, z-loss', { weight: new Float32Array([1, 2, 3, 0.5, 1]), labelSmoothing: 0.2, softcap: 3, zLoss: 0.01 }, 'probs'],
  ];
  it.each(cases)('%s', (_, options, kind) => {
    const random = rng(7);
    const rows = 4, classes = 5;
    const x = new Float64Array(rows * classes).map(() => 2 * normal(random));
    const target =
      kind === 'sparse'
        ? [3, -100, 0, 4]
        : new Float32Array(rows * classes).map(() => random()).map((v, i, a) => v / a.slice(i - (i % classes), i - (i % classes) + classes).reduce((s, u) => s + u, 0));
    const opts = { ...options, classes };
    const { grad } = reference.crossEntropy(x, target, { ...opts, grad: true });
    const h = 1e-6;
    const numeric = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const up = x.slice(); up[i]! += h;
      const down = x.slice(); down[i]! -= h;
      const scale = options.gradScale ?? 1;
      numeric[i] = (scale * (reference.crossEntropy(up, target, opts).loss - reference.crossEntropy(down, target, opts).loss)) / (2 * h);
    }
    expectField(grad!, numeric, { label: `finite differences, ${kind}`, classes }, 1e-7);
  });
});

describe(`reference against PyTorch ${TORCH_VERSION}`, () => {
  const input = (values: number[]) => new Float64Array(values);

  it.each(torchCases('crossEntropy').map((c) => [`${c.targetKind}: ${c.name}`, c] as const))('crossEntropy %s', (label, c) => {
    const target = c.targetKind === 'probs' ? new Float64Array(c.inputs.probs!) : c.inputs.target!;
    const r = reference.crossEntropy(input(c.inputs.logits!), target, { ...torchOptions(c), grad: true });
    const where = { label, classes: c.classes };
    expectLoss(r.loss, c.expected.loss as number, where, TIGHT);
    expectLosses(r.losses, c.expected.losses as number[], where, TIGHT);
    // Deliberate difference: xent never reads an ignored row, so its gradient is 0 even
    // where PyTorch's log_softmax backward turns a NaN logit into a NaN gradient.
    if (c.name.includes('ignored; torch still gives that row NaN grad')) return;
    expectField(r.grad!, c.expected.grad as number[], where, TIGHT);
  });

  it.each(torchCases('logSumExp').map((c) => [c.name, c] as const))('logSumExp %s', (label, c) => {
    expectLosses(reference.logSumExp(input(c.inputs.logits!), { classes: c.classes }), c.expected.lse as number[], { label }, TIGHT);
  });

  it.each([...torchCases('softmax'), ...torchCases('logSoftmax')].map((c) => [`${c.op} ${c.name}`, c] as const))('%s', (label, c) => {
    const fn = c.op === 'softmax' ? reference.softmax : reference.logSoftmax;
    const out = fn(input(c.inputs.logits!), { classes: c.classes, temperature: c.options.temperature as number });
    expectField(out, c.expected.out as number[], { label, classes: c.classes }, TIGHT);
  });
});
