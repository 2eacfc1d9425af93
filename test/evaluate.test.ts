// The one-pass evaluation kernel (nll, entropy, argmax, top k) and its reductions against the
// float64 reference and PyTorch, for both builds.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { EvaluateOptions, EvaluateResult } from '../src/types.js';
import { expectLoss, expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, TEST_SHAPES, makeLogits, makeTargets, rng } from './support/data.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';
import { TORCH_VERSION, torchCases } from './support/vectors.js';

function expectSame(got: EvaluateResult, want: EvaluateResult<Float64Array>, label: string): void {
  const where = { label };
  expect(Array.from(got.rows.argmax), `${label}: argmax`).toEqual(Array.from(want.rows.argmax));
  expectLosses(got.rows.nll, want.rows.nll, { label: `${label} nll` });
  expectLosses(got.rows.entropy, want.rows.entropy, { label: `${label} entropy` });
  expect(got.count).toBe(want.count);
  expect(got.accuracy).toBe(want.accuracy);
  expectLoss(got.loss, want.loss, where);
  expectLoss(got.perplexity, want.perplexity, { label: `${label} perplexity` });
  expectLoss(got.bitsPerToken, want.bitsPerToken, { label: `${label} bitsPerToken` });
  expectLoss(got.entropy, want.entropy, { label: `${label} mean entropy` });
  expect(got.topK === undefined).toBe(want.topK === undefined);
  if (got.topK !== undefined) {
    expect(got.topK.k).toBe(want.topK!.k);
    expect(Array.from(got.topK.indices), `${label}: top-k indices`).toEqual(Array.from(want.topK!.indices));
    expectLosses(got.topK.logprobs, want.topK!.logprobs, { label: `${label} top-k logprobs` });
  }
  expect(got.segments === undefined).toBe(want.segments === undefined);
  got.segments?.forEach((s, i) => {
    const w = want.segments![i]!;
    expect(s.count).toBe(w.count);
    expect(s.accuracy).toBe(w.accuracy);
    expectLoss(s.loss, w.loss, { label: `${label} segment ${i} loss` });
    expectLoss(s.perplexity, w.perplexity, { label: `${label} segment ${i} perplexity` });
    expectLoss(s.logprob, w.logprob, { label: `${label} segment ${i} logprob` });
  });
}

function compare(engine: Engine, label: string, logits: Float32Array, target: Int32Array, options: EvaluateOptions): EvaluateResult {
  const got = engine.evaluate(logits, target, options);
  expectSame(got, reference.evaluate(logits, target, options), label);
  return got;
}

/** Logits with many exact ties: small integers. */
function tiedLogits(n: number, seed: number, levels = 4): Float32Array {
  const random = rng(seed);
  return new Float32Array(n).map(() => Math.floor(random() * levels));
}

describe.each(BUILDS)('evaluate [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference over row lengths and data classes, with top 5 and ignored rows', () => {
    for (const { rows, classes } of TEST_SHAPES) {
      it.each(DATA_CLASSES)(`${rows}x${classes} %s`, (data) => {
        const logits = makeLogits(rows, classes, data, classes);
        const target = makeTargets(rows, classes, 5, 0.2);
        const topK = Math.min(5, classes);
        const r = compare(engine, `${build} ${rows}x${classes} ${data}`, logits, target, { classes, topK });
        expect(r.rows.entropy.every(Number.isFinite)).toBe(true); // -inf logits add 0, not NaN
      });
    }
  });

  describe('top k: the sorted buffer (k <= 64) and the heap (k > 64) agree with the reference', () => {
    it.each([
      [1, 33], [2, 1000], [17, 1000], [64, 1000], [65, 1000], [100, 1025], [7, 7], [33, 33], [100, 100], [200, 2000],
    ])('top %i of %i classes', (k, classes) => {
      const rows = 7;
      for (const data of ['normal', 'large', 'someNegInf'] as const) {
        compare(engine, `${build} top ${k} of ${classes} ${data}`, makeLogits(rows, classes, data, k), makeTargets(rows, classes, 6, 0.2), { classes, topK: k });
      }
      // Ties everywhere: the lowest index first, in both structures.
      compare(engine, `${build} top ${k} of ${classes} ties`, tiedLogits(rows * classes, k), makeTargets(rows, classes, 7), { classes, topK: k });
    });

    it('rows sorted ascending and descending (every value a new best, or none)', () => {
      const classes = 300, rows = 2;
      const logits = new Float32Array(rows * classes).map((_, i) => (i < classes ? i : classes - (i - classes)));
      for (const topK of [3, 20, 300]) compare(engine, `${build} monotonic top ${topK}`, logits, new Int32Array([299, 0]), { classes, topK });
    });
  });

  it('ties: argmax and top k take the lowest index first; NaN ranks above every number', () => {
    const logits = new Float32Array([5, 5, 1, 5, 1, NaN, 3, NaN, 2, 2, 2, 2]);
    const r = engine.evaluate(logits, [0, 1, 3], { classes: 4, topK: 4 });
    expect(Array.from(r.rows.argmax)).toEqual([0, 1, 0]);
    expect(Array.from(r.topK!.indices)).toEqual([0, 1, 3, 2, 1, 3, 2, 0, 0, 1, 2, 3]);
    expect(Number.isNaN(r.rows.nll[1])).toBe(true);
    expectLosses(r.rows.nll, reference.evaluate(logits, [0, 1, 3], { classes: 4 }).rows.nll, { label: 'ties' });
    // Both structures with NaN and ties: 90 classes, top 20 (sorted) and top 80 (heap).
    const wide = tiedLogits(180, 3, 3);
    for (const i of [4, 25, 31, 95, 96, 179]) wide[i] = NaN;
    for (const topK of [20, 80]) compare(engine, `${build} NaN and ties, top ${topK}`, wide, new Int32Array([0, 1]), { classes: 90, topK });
  });

  describe('short rows, four at a time (evaluate-rows4.ts: 4 to 16 classes)', () => {
    /** Both sides of both switch-overs. */
    const CLASSES = Array.from({ length: 20 }, (_, i) => i + 1);
    /** Ties, both zeros, NaN and infinities: every case of the ordered keys. */
    const SPECIALS = [0, -0, 1, -1, 1, NaN, Infinity, -Infinity, 1e30, -1e30, 1e-45, -1e-45];
    const specialLogits = (n: number, seed: number) => {
      const random = rng(seed);
      return new Float32Array(n).map(() => SPECIALS[Math.floor(random() * SPECIALS.length)]!);
    };
    const topKs = (classes: number) => [...new Set([undefined, 1, Math.min(5, classes), classes])];

    it.each(CLASSES)('%i classes, 1..9 rows, every data class and top k, ignored rows', (classes) => {
      for (let rows = 1; rows <= 9; rows++) {
        const target = makeTargets(rows, classes, 13 * classes + rows, 0.2);
        for (const data of DATA_CLASSES) {
          const logits = makeLogits(rows, classes, data, 11 * classes + rows);
          for (const topK of topKs(classes)) compare(engine, `${build} ${rows}x${classes} ${data} top ${topK}`, logits, target, { classes, topK });
        }
        const tied = tiedLogits(rows * classes, 17 * classes + rows);
        for (const topK of topKs(classes)) compare(engine, `${build} ${rows}x${classes} ties top ${topK}`, tied, target, { classes, topK });
      }
    });

    it('ties, -0 and +0, NaN, infinities: the order and indices of the reference', () => {
      for (const classes of CLASSES) {
        const rows = 9;
        const logits = specialLogits(rows * classes, classes);
        const target = makeTargets(rows, classes, 3 * classes);
        const got = engine.evaluate(logits, target, { classes, topK: classes });
        const want = reference.evaluate(logits, target, { classes, topK: classes });
        expect(Array.from(got.rows.argmax), `${classes} classes argmax`).toEqual(Array.from(want.rows.argmax));
        expect(Array.from(got.topK!.indices), `${classes} classes top k`).toEqual(Array.from(want.topK!.indices));
        expectLosses(got.rows.nll, want.rows.nll, { label: `${build} specials ${classes} nll` });
        expectLosses(got.rows.entropy, want.rows.entropy, { label: `${build} specials ${classes} entropy` });
        expectLosses(got.topK!.logprobs, want.topK!.logprobs, { label: `${build} specials ${classes} logprobs` });
      }
    });

    it('a row gives the same bits wherever it sits: alone, in a group of four or in the last, partial group', () => {
      for (const classes of [4, 5, 7, 10, 13, 16]) {
        const rows = 11;
        const logits = makeLogits(rows, classes, 'normal', 7 * classes);
        const target = makeTargets(rows, classes, 7 * classes + 1, 0.2);
        const whole = engine.evaluate(logits, target, { classes, topK: 3 });
        for (let start = 0; start < 4; start++) {
          for (let length = 1; start + length <= rows; length++) {
            const part = engine.evaluate(logits.subarray(start * classes, (start + length) * classes), target.subarray(start, start + length), { classes, topK: 3 });
            const label = `${build} ${classes} classes, rows ${start}..${start + length - 1}`;
            const rowsOf = <A extends Float32Array | Int32Array>(a: A, per = 1) => a.subarray(start * per, (start + length) * per);
            expect(sameBits(part.rows.nll, rowsOf(whole.rows.nll)), label).toBe(true);
            expect(sameBits(part.rows.entropy, rowsOf(whole.rows.entropy)), `${label} entropy`).toBe(true);
            expect(part.rows.argmax, `${label} argmax`).toEqual(rowsOf(whole.rows.argmax));
            expect(part.topK!.indices, `${label} top k`).toEqual(rowsOf(whole.topK!.indices, 3));
            expect(sameBits(part.topK!.logprobs, rowsOf(whole.topK!.logprobs, 3)), `${label} logprobs`).toBe(true);
          }
        }
      }
    });

    it('the four-rows kernel agrees with the row-at-a-time kernel, called directly', () => {
      const { kernels, memory, base } = rawKernels(build);
      for (const classes of [4, 5, 6, 7, 8, 10, 15, 16]) {
        const rows = 9, k = Math.min(5, classes);
        const logits = specialLogits(rows * classes, 5 * classes).map((v, i) => (i % 3 === 0 ? v : Math.round(v) || v));
        const target = makeTargets(rows, classes, 5 * classes + 1, 0.2);
        const ptr = [base];
        for (const n of [rows * classes, rows, rows, rows, rows, rows * k, rows * k]) ptr.push(ptr[ptr.length - 1]! + 4 * n);
        const [x, t, nll, entropy, argmax, topIdx, topLogp] = ptr as [number, number, number, number, number, number, number];
        new Float32Array(memory.buffer, x, rows * classes).set(logits);
        new Int32Array(memory.buffer, t, rows).set(target);
        const run = (kernel: typeof kernels.evaluateRows4) => {
          kernel(x, t, nll, entropy, argmax, topIdx, topLogp, rows, classes, -100, k);
          const f32 = (p: number, n: number) => new Float32Array(memory.buffer, p, n).slice();
          const i32 = (p: number, n: number) => Array.from(new Int32Array(memory.buffer, p, n));
          return { nll: f32(nll, rows), entropy: f32(entropy, rows), argmax: i32(argmax, rows), topIdx: i32(topIdx, rows * k), topLogp: f32(topLogp, rows * k) };
        };
        const four = run(kernels.evaluateRows4), one = run(kernels.evaluateRowwise);
        const label = `${build} ${rows}x${classes} four rows vs row at a time`;
        expect(four.argmax, label).toEqual(one.argmax);
        expect(four.topIdx, label).toEqual(one.topIdx);
        expectLosses(four.nll, one.nll, { label: `${label} nll` });
        expectLosses(four.entropy, one.entropy, { label: `${label} entropy` });
        expectLosses(four.topLogp, one.topLogp, { label: `${label} logprobs` });
      }
    });
  });

  it('ignored rows: nll 0, entropy and argmax computed; reductions over counted rows only', () => {
    const classes = 9, rows = 6;
    const logits = makeLogits(rows, classes, 'normal', 3);
    const target = new Int32Array([2, -100, 5, -100, 8, 0]);
    const r = compare(engine, `${build} ignored`, logits, target, { classes });
    const all = engine.evaluate(logits, new Int32Array([2, 1, 5, 1, 8, 0]), { classes });
    expect(r.count).toBe(4);
    expect(r.rows.nll[1]).toBe(0);
    expect(r.rows.entropy).toEqual(all.rows.entropy);
    expect(r.rows.argmax).toEqual(all.rows.argmax);
    expectLoss(r.loss, (all.rows.nll[0]! + all.rows.nll[2]! + all.rows.nll[4]! + all.rows.nll[5]!) / 4, { label: 'mean over counted rows' });
    // ignoreIndex other than -100
    compare(engine, `${build} ignoreIndex 5`, logits, target.map((t) => (t === -100 ? 5 : t)), { classes, ignoreIndex: 5 });
  });

  it('every row ignored: NaN means, count 0; no rows at all: the same', () => {
    const r = engine.evaluate(makeLogits(3, 4, 'normal'), [-100, -100, -100], { classes: 4, segments: [0, 3] });
    expect(r.count).toBe(0);
    for (const v of [r.loss, r.perplexity, r.bitsPerToken, r.accuracy, r.entropy]) expect(v).toBeNaN();
    expect(r.segments![0]!.logprob).toBe(0);
    const empty = engine.evaluate(new Float32Array(0), new Int32Array(0), { classes: 10, topK: 3, segments: [0, 0] });
    expect(empty.rows.nll.length).toBe(0);
    expect(empty.topK!.indices.length).toBe(0);
    expect(empty.loss).toBeNaN();
    expect(empty.segments).toHaveLength(1);
  });

  it('segments: per-segment loss, perplexity, accuracy, count, logprob; empty segments allowed', () => {
    const classes = 50, rows = 23;
    const logits = makeLogits(rows, classes, 'normal', 8);
    const target = makeTargets(rows, classes, 9, 0.25);
    const segments = new Int32Array([0, 4, 4, 11, 12, 12, 23]);
    const r = compare(engine, `${build} segments`, logits, target, { classes, segments, topK: 3 });
    expect(r.segments).toHaveLength(6);
    expect(r.segments![1]!.count).toBe(0);
    expect(r.segments!.reduce((n, s) => n + s.count, 0)).toBe(r.count);
    expectLoss(-r.segments!.reduce((sum, s) => sum + s.logprob, 0) / r.count, r.loss, { label: 'segments add up' });
    // A number[] works too, and a Tensor input gives the same.
    const t = engine.tensor(rows, classes);
    t.data.set(logits);
    expectSame(engine.evaluate(t, target, { segments: Array.from(segments), topK: 3 }), reference.evaluate(logits, target, { classes, segments, topK: 3 }), `${build} tensor`);
    t.free();
  });

  describe('bad input: a clear XentError', () => {
    const classes = 6, rows = 5;
    const logits = makeLogits(rows, classes, 'normal', 31);
    const target = makeTargets(rows, classes, 32);
    const CASES: Array<[string, unknown, EvaluateOptions, string, RegExp]> = [
      ['topK 0', target, { classes, topK: 0 }, 'BAD_OPTION', /topK must be an integer in \[1, 6\] \(the number of classes\), got 0/],
      ['topK above classes', target, { classes, topK: 7 }, 'BAD_OPTION', /topK must be an integer in \[1, 6\].*got 7/],
      ['topK 2.5', target, { classes, topK: 2.5 }, 'BAD_OPTION', /got 2\.5/],
      ['topK as a string', target, { classes, topK: '3' as unknown as number }, 'BAD_OPTION', /got '3'/],
      ['segments not starting at 0', target, { classes, segments: new Int32Array([1, 5]) }, 'BAD_OPTION', /segments\[0\] = 1, expected 0/],
      ['decreasing segments', target, { classes, segments: new Int32Array([0, 3, 2, 5]) }, 'BAD_OPTION', /segments\[2\] = 2 is below segments\[1\] = 3; offsets must not decrease/],
      ['segments not ending at rows', target, { classes, segments: new Int32Array([0, 2, 4]) }, 'SHAPE_MISMATCH', /segments ends at 4, expected 5 \(the number of rows/],
      ['segments past the rows', target, { classes, segments: [0, 2, 7] }, 'SHAPE_MISMATCH', /segments ends at 7, expected 5/],
      ['a single offset', target, { classes, segments: new Int32Array([0]) }, 'BAD_OPTION', /segments has 1 offset\(s\); expected at least two/],
      ['a fractional offset', target, { classes, segments: [0, 2.5, 5] }, 'BAD_OPTION', /segments\[1\] = 2\.5 is not an integer row offset/],
      ['segments as a Float32Array', target, { classes, segments: new Float32Array([0, 5]) as unknown as Int32Array }, 'BAD_OPTION', /segments must be an Int32Array of row offsets/],
      ['a target out of range', Int32Array.from([0, 1, 6, 2, 3]), { classes }, 'TARGET_OUT_OF_RANGE', /target\[2\] = 6 is out of range \[0, 6\) and is not ignoreIndex \(-100\)/],
      ['probability targets', new Float32Array(rows * classes), { classes }, 'SHAPE_MISMATCH', /class-index targets must be an Int32Array or number\[\]/],
      ['too few targets', new Int32Array(4), { classes }, 'SHAPE_MISMATCH', /target has 4 entries, expected one per row \(5\)/],
      ['an unknown option', target, { classes, top_k: 3 } as EvaluateOptions, 'BAD_OPTION', /did you mean 'topK'/],
    ];
    it.each(CASES)('%s', (_, t, options, code, message) => {
      const before = logits.slice();
      expectXentError(() => engine.evaluate(logits, t as Int32Array, options), code, message);
      expect(logits).toEqual(before);
    });
  });

  it('two worker threads give the same bytes as one, with and without a top k', async () => {
    const two = await makeEngine(build, { threads: 2 });
    const classes = 333, rows = 301;
    const logits = makeLogits(rows, classes, 'normal', 41);
    const target = makeTargets(rows, classes, 42, 0.1);
    for (const options of [{ classes }, { classes, topK: 5 }, { classes, topK: 70 }]) {
      const a = engine.evaluate(logits, target, options);
      const b = two.evaluate(logits, target, options);
      expect(b.loss).toBe(a.loss);
      expect(sameBits(b.rows.nll, a.rows.nll)).toBe(true);
      expect(sameBits(b.rows.entropy, a.rows.entropy)).toBe(true);
      expect(sameBits(b.rows.argmax, a.rows.argmax)).toBe(true);
      if (a.topK) expect(sameBits(b.topK!.indices, a.topK.indices) && sameBits(b.topK!.logprobs, a.topK.logprobs)).toBe(true);
    }
    two.dispose();
  });

  describe('properties', () => {
    const input = fc.integer({ min: 1, max: 5 }).chain((rows) =>
      fc.integer({ min: 1, max: 45 }).chain((classes) =>
        fc.record({
          rows: fc.constant(rows),
          classes: fc.constant(classes),
          // integers from a small range: many exact ties
          logits: fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.float({ min: -20, max: 20, noNaN: true })), { minLength: rows * classes, maxLength: rows * classes }),
          target: fc.array(fc.oneof(fc.integer({ min: 0, max: classes - 1 }), fc.constant(-100)), { minLength: rows, maxLength: rows }),
          k: fc.integer({ min: 1, max: classes }),
        }),
      ),
    );

    it('matches the reference; the top 1 is the argmax; log-probabilities come largest first', () => {
      fc.assert(
        fc.property(input, ({ rows, classes, logits, target, k }) => {
          const x = new Float32Array(logits), t = new Int32Array(target);
          const r = engine.evaluate(x, t, { classes, topK: k, segments: [0, rows >> 1, rows] });
          expectSame(r, reference.evaluate(x, t, { classes, topK: k, segments: [0, rows >> 1, rows] }), 'property');
          for (let row = 0; row < rows; row++) {
            expect(r.topK!.indices[row * k]).toBe(r.rows.argmax[row]);
            for (let j = 1; j < k; j++) expect(r.topK!.logprobs[row * k + j]!).toBeLessThanOrEqual(r.topK!.logprobs[row * k + j - 1]!);
          }
        }),
        { numRuns: 200, seed: 20261426 },
      );
    });

    it('rows long enough for the top k to start from the least of k slice maxima: the reference, ties and NaN included', () => {
      // The floor path of selectSorted (classes >= 16 k): ties at the floor, NaN in slices and
      // whole slices of -inf must neither drop a value nor reorder equal ones.
      const value = fc.oneof(
        { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 6 },
        { arbitrary: fc.float({ min: -20, max: 20, noNaN: true }), weight: 2 },
        { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 1 },
      );
      const long = fc.integer({ min: 17, max: 400 }).chain((classes) =>
        fc.record({
          classes: fc.constant(classes),
          logits: fc.array(value, { minLength: 2 * classes, maxLength: 2 * classes }),
          k: fc.integer({ min: 1, max: Math.max(1, Math.floor(classes / 16)) }),
          negInfSlice: fc.boolean(),
        }),
      );
      fc.assert(
        fc.property(long, ({ classes, logits, k, negInfSlice }) => {
          const x = new Float32Array(logits);
          if (negInfSlice) x.fill(-Infinity, 0, Math.ceil(classes / k));
          const t = new Int32Array([0, classes - 1]);
          expectSame(engine.evaluate(x, t, { classes, topK: k }), reference.evaluate(x, t, { classes, topK: k }), 'long rows');
        }),
        { numRuns: 300, seed: 20261204 },
      );
    });

    it('with k = classes the top k is a permutation whose probabilities sum to 1', () => {
      fc.assert(
        fc.property(input, ({ rows, classes, logits, target }) => {
          const r = engine.evaluate(new Float32Array(logits), new Int32Array(target), { classes, topK: classes });
          for (let row = 0; row < rows; row++) {
            const idx = Array.from(r.topK!.indices.subarray(row * classes, (row + 1) * classes));
            expect([...idx].sort((a, b) => a - b)).toEqual(Array.from({ length: classes }, (_, j) => j));
            const mass = Array.from(r.topK!.logprobs.subarray(row * classes, (row + 1) * classes)).reduce((s, l) => s + Math.exp(l), 0);
            expect(Math.abs(mass - 1)).toBeLessThan(1e-5);
          }
        }),
        { numRuns: 100, seed: 20261527 },
      );
    });
  });

  describe(`against PyTorch ${TORCH_VERSION}`, () => {
    it.each(torchCases('evaluate').map((c) => [c.name, c] as const))('%s', (label, c) => {
      const r = engine.evaluate(new Float32Array(c.inputs.logits!), c.inputs.target!, { classes: c.classes, ...c.options });
      const e = c.expected;
      const where = { label: `${build} ${label}` };
      expectLosses(r.rows.nll, e.nll as number[], where);
      expectLosses(r.rows.entropy, e.entropy as number[], where);
      expect(Array.from(r.rows.argmax)).toEqual(e.argmax);
      expectLoss(r.loss, e.loss as number, where);
      expectLoss(r.entropy, e.meanEntropy as number, where);
      expect(r.accuracy).toBe(e.accuracy);
      expect(r.count).toBe(e.count);
      if (e.topkIndices !== undefined) {
        expect(Array.from(r.topK!.indices)).toEqual(e.topkIndices);
        expectLosses(r.topK!.logprobs, e.topkLogprobs as number[], where);
      }
    });
  });
});
