// The float64 totals of per-element losses: sumLanes in wasm, fed chunk by chunk as the runner
// copies them out, against sumOf in JavaScript over the whole array, bit for bit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/index.js';
import { sumOf } from '../src/ops/sum.js';
import { makeLogits, makeUnitTargets } from './support/data.js';
import { BUILDS, rawKernels } from './support/engines.js';

/**
 * f32 values of every kind a loss can take, most of them spread over 2^-60 .. 2^60: f64 sums of
 * f32 values within a few dozen binades are exact, and an order that did not matter would let
 * a lane taken for another pass unseen.
 */
const value = fc.oneof(
  { arbitrary: fc.tuple(fc.float({ min: 1, max: 2, noNaN: true }), fc.integer({ min: -60, max: 60 })).map(([m, e]) => Math.fround(m * 2 ** e)), weight: 8 },
  { arbitrary: fc.float({ noDefaultInfinity: true, noNaN: true }), weight: 1 },
  { arbitrary: fc.constantFrom(0, -0, 1e-45, 3.4e38, Infinity, -Infinity, NaN), weight: 1 },
);

describe.each(BUILDS)('sumLanes [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build);
  const lanes = base, values = base + 64;

  /** sumLanes over `data` in the pieces that `cuts` (sorted indices) make. */
  function inPieces(data: Float32Array, cuts: number[]): number {
    new Float64Array(memory.buffer, lanes, 8).fill(0);
    let total = kernels.sumLanes(values, 0, 0, lanes);
    const ends = [...cuts, data.length];
    let start = 0;
    for (const end of ends) {
      // Each piece at its own place in memory, as chunk buffers are, at any alignment.
      const at = values + 4 * (end % 3);
      new Float32Array(memory.buffer, at, end - start).set(data.subarray(start, end));
      total = kernels.sumLanes(at, end - start, start, lanes);
      start = end;
    }
    return total;
  }

  it('gives the bits of sumOf over the whole array, however it is cut into pieces', () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (list, rawCuts) => {
          const data = Float32Array.from(list);
          const cuts = [...new Set(rawCuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          expect(Object.is(inPieces(data, cuts), sumOf(data))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adds in float64: 2^24 + 1 + 1 is not rounded away as in float32', () => {
    const data = new Float32Array([2 ** 24, 1, 1, 0, 0, 0, 0, 0, 1]);
    expect(inPieces(data, [3])).toBe(2 ** 24 + 3);
  });
});

describe('per-element totals through the runner', () => {
  // 7 classes: chunks start at indices that are not multiples of 8, the lanes' period.
  it('binaryCrossEntropy in chunks that start off the lanes\' period: loss is sumOf(losses) / n, on tensors too', async () => {
    const small = await createEngine({ maxMemoryBytes: 8 << 20 });
    const large = await createEngine();
    const rows = 300_001, classes = 7;
    const n = rows * classes;
    const logits = makeLogits(rows, classes, 'normal', 6), target = makeUnitTargets(n, 7);
    const chunked = small.binaryCrossEntropy(logits, target, { classes, grad: true });
    expect(small.arena.memory.buffer.byteLength).toBeLessThanOrEqual(8 << 20);
    const x = large.tensor(rows, classes), t = large.tensor(rows, classes);
    x.data.set(logits);
    t.data.set(target);
    const whole = large.binaryCrossEntropy(x, t.data, { reduction: 'sum' });
    expect(chunked.loss).toBe(sumOf(chunked.losses) / n);
    expect(whole.loss).toBe(sumOf(whole.losses));
    expect(chunked.loss).toBe(whole.loss / n);
    small.dispose();
    large.dispose();
  });
});
