// logProbs: the log-probabilities of given classes against the float64 reference, for both
// builds, every input form (plain arrays in chunks, tensors, 16-bit floats, threads) and
// bad ids.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, TEST_SHAPES, makeLogits, rng } from './support/data.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';
import { enginesOneAndTwoThreads } from './support/thread-engines.js';

/** rows * k ids: random classes, the last class, and padding (ignoreIndex) at the end of some rows. */
function makeIds(rows: number, classes: number, k: number, seed: number, ignoreIndex = -100): Int32Array {
  const random = rng(seed);
  const ids = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const used = r % 3 === 2 ? Math.floor(random() * k) : k; // a ragged list, padded
    for (let j = 0; j < k; j++) ids[r * k + j] = j >= used ? ignoreIndex : j === 0 ? classes - 1 : Math.floor(random() * classes);
  }
  return ids;
}

function compare(engine: Engine, label: string, logits: Float32Array, ids: Int32Array, classes: number, ignoreIndex?: number) {
  const options = { classes, ...(ignoreIndex === undefined ? {} : { ignoreIndex }) };
  const got = engine.logProbs(logits, ids, options);
  const want = reference.logProbs(logits, ids, options);
  expectLosses(got.logprobs, want.logprobs, { label: `${label} logprobs` });
  expectLosses(got.lse, want.lse, { label: `${label} lse` });
  // The same two passes as logSumExp: the same bits.
  expect(sameBits(got.lse, engine.logSumExp(logits, { classes })), `${label}: lse is logSumExp's`).toBe(true);
}

describe.each(BUILDS)('logProbs [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference over row lengths and data classes', () => {
    for (const { rows, classes } of TEST_SHAPES) {
      it.each(DATA_CLASSES)(`${rows}x${classes} %s`, (data) => {
        const logits = makeLogits(rows, classes, data, classes);
        compare(engine, `${build} ${rows}x${classes} ${data}`, logits, makeIds(rows, classes, 5, classes), classes);
      });
    }
  });

  it('padding ids are -Infinity, with the default and a custom ignoreIndex', () => {
    const logits = makeLogits(6, 50, 'normal', 3);
    for (const ignoreIndex of [undefined, -1, 7]) {
      const ids = makeIds(6, 50, 4, 9, ignoreIndex ?? -100);
      const got = engine.logProbs(logits, ids, { classes: 50, ...(ignoreIndex === undefined ? {} : { ignoreIndex }) });
      ids.forEach((id, i) => {
        if (id === (ignoreIndex ?? -100)) expect(got.logprobs[i]).toBe(-Infinity);
        else expect(got.logprobs[i]).toBeLessThanOrEqual(0);
      });
      compare(engine, `${build} ignoreIndex ${ignoreIndex}`, logits, ids, 50, ignoreIndex);
    }
  });

  it('each log-prob is the logSoftmax at that class', () => {
    const classes = 1000, rows = 7;
    const logits = makeLogits(rows, classes, 'normal', 11);
    const ids = makeIds(rows, classes, 3, 12);
    const full = engine.logSoftmax(logits, { classes });
    const got = engine.logProbs(logits, ids, { classes });
    const want = Float64Array.from(ids, (id, i) => (id < 0 ? -Infinity : full[Math.floor(i / 3) * classes + id]!));
    expectLosses(got.logprobs, want, { label: `${build} logSoftmax gathered` });
  });

  it('rows whose max is infinite or NaN: lse as logSumExp, log-probs NaN as logSoftmax', () => {
    const classes = 5;
    const logits = new Float32Array([
      -Infinity, -Infinity, -Infinity, -Infinity, -Infinity,
      1, Infinity, 2, 3, 4,
      1, NaN, 2, 3, 4,
      0, -Infinity, 1, 2, -Infinity,
    ]);
    compare(engine, `${build} specials`, logits, Int32Array.from([0, 4, 1, 2, 0, 3, 1, 0]), classes);
  });

  describe('short rows, four at a time (log-sum-exp-rows4.ts: 4 to 256 classes, logSumExp and logProbs alike)', () => {
    const CLASSES = [...Array.from({ length: 20 }, (_, i) => i + 1), 63, 64, 65, 255, 256, 257, 260];

    it.each(CLASSES)('%i classes, 1..9 rows, every data class', (classes) => {
      for (let rows = 1; rows <= 9; rows++) {
        for (const data of DATA_CLASSES) {
          const logits = makeLogits(rows, classes, data, 7 * classes + rows);
          compare(engine, `${build} ${rows}x${classes} ${data}`, logits, makeIds(rows, classes, 3, classes + rows), classes);
        }
      }
    });

    it('infinite maxes and NaN in every lane and in partial groups', () => {
      const SPECIALS = [0, 1, -1, 5, NaN, Infinity, -Infinity, -Infinity, -Infinity];
      for (const classes of [4, 5, 6, 9, 17]) {
        const random = rng(classes);
        for (let rows = 1; rows <= 9; rows++) {
          const logits = new Float32Array(rows * classes).map(() => SPECIALS[Math.floor(random() * SPECIALS.length)]!);
          logits.fill(-Infinity, 0, classes); // a row of -inf
          compare(engine, `${build} ${rows}x${classes} specials`, logits, makeIds(rows, classes, 2, rows), classes);
        }
      }
    });

    it('a row gives the same bits wherever it sits: alone, in a group of four or in the last, partial group', () => {
      for (const classes of [4, 7, 10, 64, 255]) {
        const rows = 11, k = 3;
        const logits = makeLogits(rows, classes, 'normal', 3 * classes);
        const ids = makeIds(rows, classes, k, 3 * classes + 1);
        const whole = engine.logProbs(logits, ids, { classes });
        for (let start = 0; start < 4; start++) {
          for (let length = 1; start + length <= rows; length++) {
            const part = engine.logProbs(logits.subarray(start * classes, (start + length) * classes), ids.subarray(start * k, (start + length) * k), { classes });
            const label = `${build} ${classes} classes, rows ${start}..${start + length - 1}`;
            expect(sameBits(part.lse, whole.lse.subarray(start, start + length)), label).toBe(true);
            expect(sameBits(part.logprobs, whole.logprobs.subarray(start * k, (start + length) * k)), `${label} logprobs`).toBe(true);
          }
        }
      }
    });

    it('the four-rows kernels agree with the row-at-a-time kernels, called directly', () => {
      const { kernels, memory, base } = rawKernels(build);
      for (const classes of [4, 5, 6, 7, 8, 10, 33, 100, 256]) {
        const rows = 9, k = 4, n = rows * classes;
        const logits = makeLogits(rows, classes, 'normal', 11 * classes);
        const ids = makeIds(rows, classes, k, 11 * classes + 1);
        const [x, idp, logprobs, lses, out] = [0, n, n + rows * k, n + 2 * rows * k, n + 2 * rows * k + rows].map((o) => base + 4 * o) as [number, number, number, number, number];
        new Float32Array(memory.buffer, x, n).set(logits);
        new Int32Array(memory.buffer, idp, rows * k).set(ids);
        const f32 = (p: number, len: number) => new Float32Array(memory.buffer, p, len).slice();
        const run = (four: boolean) => {
          (four ? kernels.lseRows4 : kernels.lseRowwise)(x, out, rows, classes);
          (four ? kernels.logProbsRows4 : kernels.logProbsRowwise)(x, idp, logprobs, lses, rows, classes, k, -100);
          return { lse: f32(out, rows), lses: f32(lses, rows), logprobs: f32(logprobs, rows * k) };
        };
        const four = run(true), one = run(false);
        const label = `${build} ${rows}x${classes} four rows vs row at a time`;
        expectLosses(four.lse, one.lse, { label });
        expect(sameBits(four.lses, four.lse), `${label}: logProbs' lses are lse's`).toBe(true);
        expectLosses(four.logprobs, one.logprobs, { label: `${label} logprobs` });
      }
    });
  });

  it('k = 0 ids, and no rows at all', () => {
    const got = engine.logProbs(makeLogits(3, 4, 'normal'), [], { classes: 4 });
    expect(got.logprobs).toHaveLength(0);
    expect(got.lse).toHaveLength(3);
    const none = engine.logProbs(new Float32Array(0), new Int32Array(0), { classes: 4 });
    expect([none.logprobs.length, none.lse.length]).toEqual([0, 0]);
  });

  it('a tensor, a number[] and 16-bit logits', () => {
    const rows = 9, classes = 300;
    const logits = makeLogits(rows, classes, 'large', 5);
    const ids = makeIds(rows, classes, 2, 6);
    const plain = engine.logProbs(logits, ids, { classes });
    const tensor = engine.tensor(rows, classes);
    tensor.data.set(logits);
    const fromTensor = engine.logProbs(tensor, Array.from(ids));
    tensor.free();
    expect(sameBits(fromTensor.logprobs, plain.logprobs)).toBe(true);
    expect(sameBits(fromTensor.lse, plain.lse)).toBe(true);
    // bfloat16 bits: the top half of each f32 (the values the reference decodes).
    const bits = Uint16Array.from(new Uint32Array(logits.buffer), (u) => u >>> 16);
    for (const dtype of ['bf16', 'f16'] as const) {
      const got = engine.logProbs(bits, ids, { classes, dtype });
      const want = reference.logProbs(bits, ids, { classes, dtype });
      expectLosses(got.logprobs, want.logprobs, { label: `${build} ${dtype} logprobs` });
      expectLosses(got.lse, want.lse, { label: `${build} ${dtype} lse` });
    }
  });

  it('plain arrays larger than a chunk give the bits of one call per row', () => {
    const rows = 700, classes = 1000; // 2.8 MB: several chunks
    const logits = makeLogits(rows, classes, 'normal', 21);
    const ids = makeIds(rows, classes, 4, 22);
    const whole = engine.logProbs(logits, ids, { classes });
    for (const r of [0, 333, rows - 1]) {
      const one = engine.logProbs(logits.subarray(r * classes, (r + 1) * classes), ids.subarray(r * 4, r * 4 + 4), { classes });
      expect(sameBits(one.logprobs, whole.logprobs.subarray(r * 4, r * 4 + 4)), `row ${r}`).toBe(true);
    }
    compare(engine, `${build} ${rows}x${classes} chunked`, logits, ids, classes);
  });

  it('bad ids and options are refused before anything is computed', () => {
    const logits = makeLogits(3, 10, 'normal');
    expectXentError(() => engine.logProbs(logits, [1, 2, 3, 4, 10, 5], { classes: 10 }), 'TARGET_OUT_OF_RANGE', /ids\[4\] = 10 is out of range \[0, 10\)/);
    expectXentError(() => engine.logProbs(logits, [1, 2, -1], { classes: 10 }), 'TARGET_OUT_OF_RANGE', /ids\[2\] = -1 .* not ignoreIndex \(-100\)/);
    expectXentError(() => engine.logProbs(logits, [1, 2.5, 3], { classes: 10 }), 'TARGET_OUT_OF_RANGE', /ids\[1\] = 2.5/);
    expectXentError(() => engine.logProbs(logits, [1, 2, 3, 4], { classes: 10 }), 'SHAPE_MISMATCH', /ids has 4 entries.*3 rows/);
    expectXentError(() => engine.logProbs(logits, new Float32Array(3) as never, { classes: 10 }), 'SHAPE_MISMATCH', /ids must be an Int32Array or number\[\]/);
    expectXentError(() => engine.logProbs(logits, [1, 2, 3], { classes: 7 }), 'SHAPE_MISMATCH', /30 values/);
    expectXentError(() => engine.logProbs(logits, [1, 2, 3], { classes: 10, temperature: 2 } as never), 'BAD_OPTION', /unknown option 'temperature'/);
    expectXentError(() => reference.logProbs(logits, [1, 2, 30], { classes: 10 }), 'TARGET_OUT_OF_RANGE', /ids\[2\] = 30/);
  });

  it('matches the reference for any shape, values and ids (fast-check)', () => {
    const logProbsCase = fc
      .record({ rows: fc.integer({ min: 0, max: 9 }), classes: fc.integer({ min: 1, max: 300 }), k: fc.integer({ min: 0, max: 6 }) })
      .chain(({ rows, classes, k }) =>
        fc.record({
          classes: fc.constant(classes),
          logits: fc.array(
            fc.oneof(
              { weight: 20, arbitrary: fc.float({ min: -30, max: 30, noNaN: true }) },
              { weight: 1, arbitrary: fc.float({ min: -3e4, max: 3e4, noNaN: true }) },
              { weight: 1, arbitrary: fc.constant(-Infinity) },
            ),
            { minLength: rows * classes, maxLength: rows * classes },
          ),
          ids: fc.array(fc.oneof(fc.integer({ min: 0, max: classes - 1 }), fc.constant(-100)), { minLength: rows * k, maxLength: rows * k }),
        }),
      );
    fc.assert(
      fc.property(logProbsCase, ({ classes, logits, ids }) => {
        compare(engine, `${build} classes ${classes}`, new Float32Array(logits), Int32Array.from(ids), classes);
      }),
      { numRuns: 200, seed: 20261202 },
    );
  });
});

describe('logProbs with two threads', () => {
  const engines = enginesOneAndTwoThreads();

  it('gives the bits of one thread, in chunks and on a tensor', () => {
    const { one, two } = engines;
    const rows = 3000, classes = 1000;
    const logits = makeLogits(rows, classes, 'normal', 31);
    const ids = makeIds(rows, classes, 3, 32);
    const a = one.logProbs(logits, ids, { classes });
    const b = two.logProbs(logits, ids, { classes });
    expect(two.features.threads).toBe(2);
    expect(sameBits(b.logprobs, a.logprobs)).toBe(true);
    expect(sameBits(b.lse, a.lse)).toBe(true);
    const tensor = two.tensor(rows, classes);
    tensor.data.set(logits);
    expect(sameBits(two.logProbs(tensor, ids).logprobs, a.logprobs)).toBe(true);
    tensor.free();
  });
});
