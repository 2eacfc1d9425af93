// The streaming evaluator: exact sums, so that any split of the rows into batches, engines and
// thread counts, and any order of merging states, gives evaluate's bits on all rows at once.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExactSum } from '../src/exact-sum.js';
import { mergeEvaluations, summarizeEvaluation, type EvaluationState } from '../src/index.js';
import { thrown } from './support/compare.js';
import { makeLogits, rng } from './support/data.js';
import { enginesOneAndTwoThreads } from './support/thread-engines.js';

/** The exact sum of f32 values by BigInt: each value times 2^149 is an integer. */
function bigSum(values: Float32Array): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let total = 0n;
  for (const b of bits) {
    const exponent = (b >>> 23) & 0xff;
    const m = BigInt(exponent === 0 ? b & 0x7fffff : (b & 0x7fffff) | 0x800000);
    const scaled = m << BigInt(exponent === 0 ? 0 : exponent - 1);
    total += b >>> 31 ? -scaled : scaled;
  }
  return Number(total) * 2 ** -149;
}

describe('ExactSum', () => {
  it('is the correctly rounded exact sum, in any order, for values across the whole f32 range', () => {
    const random = rng(7);
    const bits = new Uint32Array(20000);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(random() * 2 ** 32) & 0xff7fffff; // finite
    const values = new Float32Array(bits.buffer);
    const want = bigSum(values);
    const forward = new ExactSum(), backward = new ExactSum();
    for (const v of values) forward.add(v);
    for (let i = values.length - 1; i >= 0; i--) backward.add(values[i]!);
    expect(forward.value()).toBe(want);
    expect(backward.value()).toBe(want);
    // A plain float64 sum of the same values in two orders does not agree with itself.
    let a = 0, b = 0;
    for (const v of values) a += v;
    for (let i = values.length - 1; i >= 0; i--) b += values[i]!;
    expect(a === b && a === want).toBe(false);
  });

  it('cancels exactly: huge and tiny values, subnormals, and the folds and carries of many additions', () => {
    const sum = new ExactSum();
    const values = [3.4e38, 1e-45, -3.4e38, 2 ** -140, 1, -1, 2 ** -126];
    for (const v of values) sum.add(v);
    expect(sum.value()).toBe(Math.fround(1e-45) + 2 ** -140 + 2 ** -126);
    const many = new ExactSum();
    for (let i = 0; i < 1_200_000; i++) many.add(0.1);
    expect(many.value()).toBe(Number(BigInt(Math.fround(0.1) * 2 ** 27) * 1_200_000n) / 2 ** 27);
    // 2 + 2^-22, then 2^23 values just below 2^9 and their negatives, all of one group of
    // exponents: the running sum needs 55 bits, and its last (the 2^-22) is kept only if the
    // pending sum is folded into the limbs before it grows past 53 bits.
    const wide = new ExactSum();
    const big = 2 ** 9 - 2 ** -14;
    wide.add(2 + 2 ** -22);
    for (let i = 0; i < 2 ** 23; i++) wide.add(big);
    for (let i = 0; i < 2 ** 23; i++) wide.add(-big);
    expect(wide.value()).toBe(2 + 2 ** -22);
  });

  it('NaN and infinities: NaN wins, +inf and -inf together are NaN; states round-trip through JSON', () => {
    const sum = new ExactSum();
    sum.add(Infinity);
    expect(sum.value()).toBe(Infinity);
    sum.add(-Infinity);
    expect(sum.value()).toBeNaN();
    const other = new ExactSum();
    other.add(1.5);
    const copy = new ExactSum();
    copy.merge(JSON.parse(JSON.stringify(other.state())));
    expect(copy.value()).toBe(1.5);
  });
});

describe('evaluator', () => {
  const engines = enginesOneAndTwoThreads();

  /** rows x classes logits and targets (some ignored) for a property case. */
  const batch = (rows: number, classes: number, seed: number) => {
    const random = rng(seed);
    const logits = makeLogits(rows, classes, 'normal', seed);
    const target = Int32Array.from({ length: rows }, () => (random() < 0.1 ? -100 : Math.floor(random() * classes)));
    return { logits, target };
  };

  it('any split into batches, engines and merge orders gives evaluate\'s bits (fast-check)', () => {
    const shape = fc.oneof(
      fc.record({ rows: fc.integer({ min: 1, max: 61 }), classes: fc.integer({ min: 1, max: 256 }) }),
      fc.record({ rows: fc.integer({ min: 1, max: 9 }), classes: fc.constantFrom(1000, 4097, 32000) }),
    );
    const property = fc.property(shape, fc.integer({ min: 1, max: 1e6 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }), fc.integer(), ({ rows, classes }, seed, cuts, order) => {
      const { logits, target } = batch(rows, classes, seed);
      const whole = engines.one.evaluate(logits, target, { classes, topK: Math.min(2, classes) });
      // Batches of the sizes in cuts, alternately on the one- and two-thread engines, each
      // in an evaluator of its own; the states merged in an order drawn from `order`.
      const states: EvaluationState[] = [];
      for (let start = 0, i = 0; start < rows; i++) {
        const end = Math.min(rows, start + cuts[i % cuts.length]!);
        const engine = i % 2 === 0 ? engines.one : engines.two;
        const ev = engine.evaluator({ topK: Math.min(2, classes) });
        ev.add(logits.subarray(start * classes, end * classes), target.subarray(start, end), { classes });
        states.push(JSON.parse(JSON.stringify(ev.state())) as EvaluationState);
        start = end;
      }
      const shuffled = states.map((s, i) => [(i * 7919 + order) % 1009, s] as const).sort((a, b) => a[0] - b[0]).map(([, s]) => s);
      const merged = summarizeEvaluation(mergeEvaluations(shuffled));
      const one = engines.two.evaluator({ topK: Math.min(2, classes) });
      for (const s of states.reverse()) one.merge(s);
      for (const result of [merged, one.result()]) {
        expect(result.loss).toBe(whole.loss);
        expect(result.entropy).toBe(whole.entropy);
        expect(result.accuracy).toBe(whole.accuracy);
        expect(result.count).toBe(whole.count);
      }
    });
    fc.assert(property, { seed: 20261202, numRuns: 60 });
  });

  it('a row\'s nll, entropy and argmax do not depend on where it sits, at V <= 256 and batch sizes not divisible by 4', () => {
    for (const classes of [1, 3, 4, 10, 33, 256]) {
      const rows = 11;
      const { logits, target } = batch(rows, classes, classes);
      const all = engines.one.evaluate(logits, target, { classes });
      for (let r = 0; r < rows; r++) {
        const alone = engines.one.evaluate(logits.subarray(r * classes, (r + 1) * classes), target.subarray(r, r + 1), { classes });
        expect(Object.is(alone.rows.nll[0], all.rows.nll[r]), `nll of row ${r}, V = ${classes}`).toBe(true);
        expect(Object.is(alone.rows.entropy[0], all.rows.entropy[r]), `entropy of row ${r}, V = ${classes}`).toBe(true);
        expect(alone.rows.argmax[0]).toBe(all.rows.argmax[r]);
      }
    }
  });

  it('reports topKAccuracy, counts what it scored, and takes the causal options', () => {
    const classes = 50, B = 2, T = 6;
    const { logits, target } = batch(B * T, classes, 3);
    const ev = engines.one.evaluator({ topK: 5 });
    ev.add(logits, target, { classes, sequenceLength: T, shift: true });
    const want = engines.one.evaluate(logits, target, { classes, sequenceLength: T, shift: true, topK: 5 });
    expect(ev.count).toBe(want.count);
    expect(ev.result().loss).toBe(want.loss);
    let hits = 0;
    const shifted = Array.from({ length: B * T }, (_, r) => (r % T === T - 1 ? -100 : target[r + 1]!));
    shifted.forEach((t, r) => {
      if (t !== -100 && Array.from(want.topK.indices.subarray(r * 5, r * 5 + 5)).includes(t)) hits += 1;
    });
    expect(ev.result().topKAccuracy).toBe(hits / want.count);
  });

  it('refuses corrupted, foreign and mismatched states with a clear error', () => {
    const ev = engines.one.evaluator();
    ev.add(new Float32Array([1, 2, 3]), [2], { classes: 3 });
    const good = ev.state();
    const corrupt = (patch: object) => ({ ...JSON.parse(JSON.stringify(good)), ...patch }) as EvaluationState;
    const cases: [EvaluationState, RegExp][] = [
      [corrupt({ version: 2 }), /version is 2, expected 1/],
      [corrupt({ format: 'other' }), /format is 'other'/],
      [corrupt({ count: -1 }), /count is -1/],
      [corrupt({ correct: 5 }), /more correct rows than rows/],
      [corrupt({ nll: { ...good.nll, limbs: good.nll.limbs.slice(1) } }), /nll is not an exact sum/],
      [corrupt({ entropy: { ...good.entropy, limbs: good.entropy.limbs.map(() => 2 ** 40) } }), /entropy is not an exact sum/],
    ];
    for (const [state, message] of cases) {
      expect(thrown(() => summarizeEvaluation(state)).message).toMatch(message);
      expect(thrown(() => ev.merge(state)).code).toBe('BAD_OPTION');
    }
    expect(thrown(() => engines.one.evaluator({ topK: 2 }).merge(good)).message).toMatch(/topK unset, this evaluator has topK 2/);
    expect(thrown(() => mergeEvaluations([])).code).toBe('BAD_OPTION');
  });
});
