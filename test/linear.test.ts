// linearCrossEntropy: against the float64 reference (F.linear + F.cross_entropy by the chain
// rule) and PyTorch's own values, every option, 16-bit heads, tensors, accumulation; bits that
// do not depend on memory or threads; memory that stays small; refusals before any write.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { LinearCrossEntropyOptions, LinearCrossEntropyResult } from '../src/types.js';
import { expectBitIdentical, expectField, expectLoss, expectLosses, expectXentError } from './support/compare.js';
import { makeTargets, normal, rng, toHalfBits } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { enginesOneAndTwoThreads } from './support/thread-engines.js';

/** The promise for products summed in f32: 1e-4 relative (loss), 1e-4 of the largest gradient. */
const TOL = 1e-4;

/** Hidden states N(0, 1) and a head N(0, 1 / dim), as a trained model's scale keeps its logits O(1). */
function problem(rows: number, dim: number, classes: number, seed = 1) {
  const random = rng(seed);
  const hidden = Float32Array.from({ length: rows * dim }, () => normal(random));
  const head = Float32Array.from({ length: classes * dim }, () => normal(random) / Math.sqrt(dim));
  const bias = Float32Array.from({ length: classes }, () => 0.1 * normal(random));
  const weight = Float32Array.from({ length: classes }, () => 0.5 + random());
  return { hidden, head, bias, weight, target: makeTargets(rows, classes, seed + 1, 0.2) };
}

const ALL_GRADS = { hidden: true, head: true, bias: true } as const;

function expectMatches(
  got: LinearCrossEntropyResult,
  want: LinearCrossEntropyResult<Float64Array>,
  label: string,
): void {
  const where = { label };
  expectLoss(got.loss, want.loss, where, TOL);
  expectLosses(got.losses, want.losses, where, TOL);
  expectLosses(got.lse, want.lse, where, TOL);
  expect(got.count).toBe(want.count);
  for (const name of ['hidden', 'head', 'bias'] as const) {
    if (want.grad?.[name] !== undefined) expectField(got.grad![name]!, want.grad[name]!, { label: `${label} grad.${name}` }, TOL);
  }
}

/** The argmax rows whose two best reference logits are too close for f32 products to order. */
function expectArgmax(got: Int32Array, want: Int32Array, hidden: Float32Array, head: Float32Array, bias: Float32Array | undefined, classes: number): void {
  const dim = head.length / classes;
  for (let r = 0; r < got.length; r++) {
    if (got[r] === want[r]) continue;
    const logit = (c: number) => {
      let z = bias?.[c] ?? 0;
      for (let d = 0; d < dim; d++) z += hidden[r * dim + d]! * head[c * dim + d]!;
      return z;
    };
    expect(Math.abs(logit(got[r]!) - logit(want[r]!)), `row ${r}: argmax ${got[r]} vs ${want[r]}`).toBeLessThan(1e-5 * dim);
  }
}

const SHAPES: Array<[rows: number, dim: number, classes: number]> = [
  [1, 1, 1], [5, 8, 11], [13, 7, 3], [70, 6, 3], [9, 65, 300], [6, 600, 130], [3, 4096, 40], [6, 3, 270000],
];

const OPTION_SETS: Array<[string, (p: ReturnType<typeof problem>) => Omit<LinearCrossEntropyOptions, 'classes'>]> = [
  ['plain', () => ({})],
  ['bias, class weights, smoothing 0.1, sum', (p) => ({ bias: p.bias, weight: p.weight, labelSmoothing: 0.1, reduction: 'sum' })],
  ['zLoss, softcap, gradScale', (p) => ({ bias: p.bias, zLoss: 1e-3, softcap: 2, gradScale: 0.5 })],
];

describe.each(BUILDS)('linearCrossEntropy [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe.each(SHAPES)('%i rows x dim %i -> %i classes', (rows, dim, classes) => {
    it.each(OPTION_SETS)('matches the reference: %s', (_name, optionsOf) => {
      const p = problem(rows, dim, classes);
      const options = { classes, ...optionsOf(p), argmax: true, grad: ALL_GRADS };
      const got = engine.linearCrossEntropy(p.hidden, p.head, p.target, options);
      const want = reference.linearCrossEntropy(p.hidden, p.head, p.target, options);
      expectMatches(got, want, `${build} ${rows}x${dim}->${classes}`);
      expectArgmax(got.argmax!, want.argmax!, p.hidden, p.head, options.bias, classes);
    });
  });

  it('forward only gives the same losses as with gradients, and no grad field', () => {
    const p = problem(11, 20, 300);
    const scored = engine.linearCrossEntropy(p.hidden, p.head, p.target, { classes: 300, bias: p.bias });
    const trained = engine.linearCrossEntropy(p.hidden, p.head, p.target, { classes: 300, bias: p.bias, grad: { hidden: true } });
    expect(scored.grad).toBeUndefined();
    expectBitIdentical(scored.losses, trained.losses, 'losses');
    expect(trained.grad!.head).toBeUndefined();
  });

  it('agrees with crossEntropy on the logits it never materialises', () => {
    const p = problem(9, 33, 500);
    const logits = new Float32Array(9 * 500);
    for (let r = 0; r < 9; r++) {
      for (let c = 0; c < 500; c++) {
        let z = p.bias[c]!;
        for (let d = 0; d < 33; d++) z += p.hidden[r * 33 + d]! * p.head[c * 33 + d]!;
        logits[r * 500 + c] = z;
      }
    }
    const options = { weight: p.weight, labelSmoothing: 0.2, zLoss: 1e-4 };
    const fused = engine.linearCrossEntropy(p.hidden, p.head, p.target, { classes: 500, bias: p.bias, ...options });
    const plain = engine.crossEntropy(logits, p.target, { classes: 500, ...options });
    expectLoss(fused.loss, plain.loss, { label: 'loss' }, TOL);
    expectLosses(fused.losses, plain.losses, { label: 'losses' }, TOL);
  });

  it.each(['f16', 'bf16'] as const)('reads a %s head, widened a chunk at a time', (headDtype) => {
    const rows = 7, dim = 100, classes = 700; // chunks of 655 classes at dim 100: two of them
    const p = problem(rows, dim, classes);
    const bits = toHalfBits(p.head, headDtype);
    const options = { classes, headDtype, bias: p.bias, argmax: true, grad: ALL_GRADS };
    const got = engine.linearCrossEntropy(p.hidden, bits, p.target, options);
    const want = reference.linearCrossEntropy(p.hidden, bits, p.target, options);
    expectMatches(got, want, `${headDtype} head`);
  });

  it('takes Tensors, tensor-likes [B, T, dim] and views of engine memory, with the same bits', () => {
    const rows = 12, dim = 16, classes = 90;
    const p = problem(rows, dim, classes);
    const options = { classes, bias: p.bias, grad: ALL_GRADS };
    const plain = engine.linearCrossEntropy(p.hidden, p.head, p.target, options);
    const hidden = engine.tensor(rows, dim);
    const head = engine.tensor(classes, dim);
    hidden.data.set(p.hidden);
    head.data.set(p.head);
    try {
      for (const [label, h, w] of [
        ['tensors', hidden, head],
        ['views of tensors', hidden.data, head.data],
        ['a tensor-like', { data: p.hidden, dims: [3, 4, dim], type: 'float32' }, p.head],
      ] as const) {
        const got = engine.linearCrossEntropy(h, w, p.target, options);
        expectBitIdentical(got.losses, plain.losses, `${label} losses`);
        for (const name of ['hidden', 'head', 'bias'] as const) expectBitIdentical(got.grad![name]!, plain.grad![name]!, `${label} grad.${name}`);
      }
    } finally {
      hidden.free();
      head.free();
    }
  });

  it('writes into given arrays, accumulates across micro-batches, and may compute hidden\'s gradient in place', () => {
    const rows = 10, dim = 12, classes = 50;
    const p = problem(rows, dim, classes);
    const q = problem(rows, dim, classes, 7);
    const out = { hidden: new Float32Array(rows * dim), head: new Float32Array(classes * dim), bias: new Float32Array(classes) };
    const first = engine.linearCrossEntropy(p.hidden, p.head, p.target, { classes, bias: p.bias, grad: out });
    expect(first.grad!.head).toBe(out.head);
    engine.linearCrossEntropy(q.hidden, p.head, q.target, { classes, bias: p.bias, grad: { head: out.head, bias: out.bias, accumulate: true } });
    const a = reference.linearCrossEntropy(p.hidden, p.head, p.target, { classes, bias: p.bias, grad: ALL_GRADS });
    const b = reference.linearCrossEntropy(q.hidden, p.head, q.target, { classes, bias: p.bias, grad: { head: a.grad!.head!, bias: a.grad!.bias!, accumulate: true } });
    expectField(out.head, b.grad!.head!, { label: 'accumulated head' }, TOL);
    expectField(out.bias, b.grad!.bias!, { label: 'accumulated bias' }, TOL);

    const inPlace = Float32Array.from(p.hidden);
    engine.linearCrossEntropy(inPlace, p.head, p.target, { classes, bias: p.bias, grad: { hidden: inPlace } });
    expectBitIdentical(inPlace, first.grad!.hidden!, 'in place');
  });

  it('handles empty input, one class, ignored and NaN rows like crossEntropy', () => {
    const empty = engine.linearCrossEntropy(new Float32Array(0), new Float32Array(12), [], { classes: 3, grad: ALL_GRADS });
    expect(empty.count).toBe(0);
    expect(empty.grad!.head).toEqual(new Float32Array(12));
    const p = problem(4, 5, 6);
    p.hidden[7] = NaN; // row 1
    const target = [0, 1, -100, 5];
    const options = { classes: 6, argmax: true, grad: ALL_GRADS };
    const got = engine.linearCrossEntropy(p.hidden, p.head, target, options);
    const want = reference.linearCrossEntropy(p.hidden, p.head, target, options);
    expect(Number.isNaN(got.loss) && Number.isNaN(want.loss)).toBe(true);
    expect(Number.isNaN(got.losses[1]!)).toBe(true);
    expect(got.losses[2]).toBe(0);
    expectLosses([got.losses[0]!, got.losses[3]!], [want.losses[0]!, want.losses[3]!], { label: 'rows without NaN' }, TOL);
    expect(got.argmax![1]).toBe(want.argmax![1]);
  });
});

describe('linearCrossEntropy against PyTorch', () => {
  const file = JSON.parse(readFileSync(new URL('./torch/linear-vectors.json', import.meta.url), 'utf8')) as {
    cases: Array<{
      name: string; dim: number; classes: number; hidden: number[]; head: number[]; bias: number[] | null; target: number[];
      options: Record<string, unknown>; expected: { loss: number; losses: number[]; gradHidden: number[]; gradHead: number[]; gradBias: number[] | null };
    }>;
  };
  it.each(BUILDS)('[%s] F.linear + F.cross_entropy and their gradients', async (build) => {
    const engine = await makeEngine(build);
    for (const c of file.cases) {
      const { weight, ...rest } = c.options;
      const options = {
        classes: c.classes, ...rest, ...(weight ? { weight: Float32Array.from(weight as number[]) } : {}),
        ...(c.bias ? { bias: Float32Array.from(c.bias) } : {}),
        grad: { hidden: true, head: true, ...(c.bias ? { bias: true } : {}) },
      } as LinearCrossEntropyOptions;
      const got = engine.linearCrossEntropy(Float32Array.from(c.hidden), Float32Array.from(c.head), c.target, options);
      const label = { label: `${build} ${c.name}` };
      expectLoss(got.loss, c.expected.loss, label, TOL);
      expectLosses(got.losses, c.expected.losses, label, TOL);
      expectField(got.grad!.hidden!, c.expected.gradHidden, { label: `${c.name} grad.hidden` }, TOL);
      expectField(got.grad!.head!, c.expected.gradHead, { label: `${c.name} grad.head` }, TOL);
      if (c.expected.gradBias) expectField(got.grad!.bias!, c.expected.gradBias, { label: `${c.name} grad.bias` }, TOL);
    }
    engine.dispose();
  });
});

describe('linearCrossEntropy: bits and memory', () => {
  const engines = enginesOneAndTwoThreads();

  // The first shape has hidden and its gradient (10 MB) beyond an 8 MiB cap: groups of rows; the
  // others blocks with enough work to split across threads, by classes and by rows, for both dtypes.
  it.each([
    [5000, 256, 40, 'f32'], [150, 256, 3001, 'f32'], [70, 130, 20000, 'bf16'],
  ] as const)('%i x %i -> %i (%s head): the same bits whatever the memory cap and the threads', async (rows, dim, classes, headDtype) => {
    const p = problem(rows, dim, classes);
    const head = headDtype === 'f32' ? p.head : toHalfBits(p.head, headDtype);
    const options = { classes, headDtype, bias: p.bias, argmax: true, grad: ALL_GRADS };
    const small = await createEngine({ simd: 'baseline', maxMemoryBytes: 8 << 20 });
    const want = engines.one.linearCrossEntropy(p.hidden, head, p.target, options);
    const engines2 = rows === 5000 ? [['8 MiB cap', small], ['two threads', engines.two]] as const : [['two threads', engines.two]] as const;
    for (const [label, engine] of engines2) {
      const got = engine.linearCrossEntropy(p.hidden, head, p.target, options);
      expectBitIdentical(got.losses, want.losses, `${label} losses`);
      expectBitIdentical(got.argmax!, want.argmax!, `${label} argmax`);
      for (const name of ['hidden', 'head', 'bias'] as const) expectBitIdentical(got.grad![name]!, want.grad![name]!, `${label} grad.${name}`);
    }
    expect(small.arena.memory.buffer.byteLength).toBeLessThanOrEqual(8 << 20);
    small.dispose();
  });

  it('keeps engine memory to the inputs, the outputs and a few MiB, never the logits', async () => {
    const rows = 64, dim = 32, classes = 200_000; // logits 51 MB, with their gradient 102 MB
    const p = problem(rows, dim, classes);
    const engine = await createEngine({ simd: 'baseline', maxMemoryBytes: 1 << 30 });
    engine.linearCrossEntropy(p.hidden, p.head, p.target, { classes, grad: ALL_GRADS });
    const inputsAndOutputs = 2 * (p.hidden.byteLength + p.head.byteLength) + 3 * classes * 4 + rows * 16;
    const block = 16 * classes * 4; // 16 rows of logits: 12.8 MB here, against 102 MB for all of them
    expect(engine.arena.memory.buffer.byteLength).toBeLessThan(inputsAndOutputs + block + (4 << 20));
    engine.dispose();
  });
});

describe('linearCrossEntropy where the logits could not exist', () => {
  it('scores 4096 positions over a 262144-token vocabulary (4 GiB of logits, beyond wasm32) from hidden states and a bf16 head', async () => {
    const rows = 4096, dim = 16, classes = 262_144;
    const random = rng(5);
    const hidden = Float32Array.from({ length: rows * dim }, () => normal(random));
    const weights = Float32Array.from({ length: classes * dim }, () => normal(random) / 8);
    const head = Uint16Array.from(new Uint32Array(weights.buffer), (bits) => bits >>> 16); // bf16, truncated
    const target = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
    const engine = await createEngine({ threads: 2, maxMemoryBytes: 256 << 20 });
    const scored = engine.linearCrossEntropy(hidden, head, target, { classes, headDtype: 'bf16', argmax: true });
    engine.dispose();
    expect(rows * classes * 4).toBeGreaterThan(4 * 2 ** 30 - 65536); // the most memory an engine may have
    // Rows are independent: a few of them, their logits made here in float64 (the reference's
    // own full rows take seconds each at this vocabulary).
    const widened = new Float32Array(Uint32Array.from(head, (bits) => bits << 16).buffer);
    for (const r of [0, 1, 2047, 4095]) {
      const logits = new Float64Array(classes);
      for (let c = 0; c < classes; c++) {
        let z = 0;
        for (let d = 0; d < dim; d++) z += hidden[r * dim + d]! * widened[c * dim + d]!;
        logits[c] = z;
      }
      let m = -Infinity, best = 0;
      for (let c = 0; c < classes; c++) if (logits[c]! > m) [m, best] = [logits[c]!, c];
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[c]! - m);
      expectLoss(scored.losses[r]!, m + Math.log(sum) - logits[target[r]!]!, { label: `row ${r}` }, TOL);
      expect(scored.argmax![r]).toBe(best);
    }
  });
});

describe('linearCrossEntropy refuses bad input before writing', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine('baseline');
  });
  const p = problem(4, 6, 10);
  const call = (o: Partial<LinearCrossEntropyOptions> & Record<string, unknown>, hidden: unknown = p.hidden, head: unknown = p.head, target: unknown = p.target) =>
    () => engine.linearCrossEntropy(hidden as Float32Array, head as Float32Array, target as Int32Array, { classes: 10, ...o } as LinearCrossEntropyOptions);

  it.each([
    ['a head that is not classes x dim', call({ classes: 7 }), 'SHAPE_MISMATCH', /head has 60 values, which is not classes x dim for 7/],
    ['hidden not rows x dim', call({}, p.hidden.subarray(1)), 'SHAPE_MISMATCH', /hidden has 23 values/],
    ['a bias of the wrong length', call({ bias: new Float32Array(9) }), 'SHAPE_MISMATCH', /bias has 9 values, expected 10/],
    ['a head dtype that does not match the array', call({ headDtype: 'bf16' }), 'SHAPE_MISMATCH', /head must be a Uint16Array of bf16 bits/],
    ['an f32 head given as bits', call({}, p.hidden, new Uint16Array(60)), 'SHAPE_MISMATCH', /head must be a Float32Array or a Tensor/],
    ['a gradient buffer of the wrong length', call({ grad: { head: new Float32Array(59) } }), 'SHAPE_MISMATCH', /grad.head has 59 values, expected 60/],
    ['an accumulate buffer of the wrong length', call({ grad: { hidden: new Float32Array(25), accumulate: true } }), 'SHAPE_MISMATCH', /grad.hidden has 25 values, expected 24/],
    ['a grad asking for nothing', call({ grad: {} }), 'BAD_OPTION', /asks for no gradient/],
    ['an unknown grad key', call({ grad: { weight: true } as never }), 'BAD_OPTION', /weight/],
    ['a target out of range', call({}, p.hidden, p.head, [0, 1, 10, 2]), 'TARGET_OUT_OF_RANGE', /10/],
    ['a gradient over the head', call({ grad: { head: p.head } }), 'BAD_OPTION', /grad.head overlaps head/],
    ['an unknown option', call({ logits: true }), 'BAD_OPTION', /logits/],
  ])('%s', (_what, fn, code, message) => {
    expectXentError(fn, code, message);
  });

  it('leaves every caller array untouched when it throws', () => {
    const out = { hidden: new Float32Array(24).fill(7), head: new Float32Array(60).fill(7) };
    expectXentError(call({ grad: { ...out, bias: new Float32Array(3) } }), 'SHAPE_MISMATCH', /grad.bias/);
    expect(out.hidden.every((v) => v === 7) && out.head.every((v) => v === 7)).toBe(true);
    const capped = createEngine({ simd: 'baseline', maxMemoryBytes: 8 << 20 });
    return capped.then((small) => {
      const big = problem(2, 1024, 3000); // the head alone, 12 MB, cannot fit
      const grad = new Float32Array(2 * 1024).fill(7);
      expectXentError(() => small.linearCrossEntropy(big.hidden, big.head, big.target, { classes: 3000, grad: { hidden: grad } }), 'OUT_OF_MEMORY', /linearCrossEntropy/);
      expect(grad.every((v) => v === 7)).toBe(true);
      small.dispose();
    });
  });
});
