// float16 and bfloat16 logits: widened exactly in engine memory, then the f32 kernels.

import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { fromBfloat16, fromFloat16 } from '../src/reference/rows.js';
import { expectField, expectLoss, expectLosses, sameBits, thrown } from './support/compare.js';
import { makeLogits, makeTargets, toHalfBits } from './support/data.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';

describe.each(BUILDS)('16-bit logits [%s]', (build) => {
  const { kernels, memory, base } = rawKernels(build);

  it.each(['f16', 'bf16'] as const)('%s: every one of the 65536 bit patterns widens exactly', (dtype) => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    new Uint16Array(memory.buffer, base, bits.length).set(bits);
    const out = base + bits.length * 2;
    (dtype === 'f16' ? kernels.widenF16 : kernels.widenBf16)(base, out, bits.length - 3); // a scalar tail too
    const got = new Float32Array(memory.buffer, out, bits.length - 3);
    const decode = dtype === 'f16' ? fromFloat16 : fromBfloat16;
    for (let b = 0; b < got.length; b++) {
      const want = decode(b);
      if (Number.isNaN(want)) expect(got[b], `bits ${b}`).toBeNaN();
      else if (got[b] !== want) expect.fail(`bits 0x${b.toString(16)}: got ${got[b]}, expected ${want}`);
    }
  });

  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe.each(['f16', 'bf16'] as const)('%s', (dtype) => {
    it.each([[5, 7], [9, 1000], [2, 50257]])('%i x %i: crossEntropy, softmax, logSumExp match the reference on the same bits', (rows, classes) => {
      const bits = toHalfBits(makeLogits(rows, classes, 'normal', classes), dtype);
      const target = makeTargets(rows, classes, 3, 0.2);
      const label = `${build} ${dtype} ${rows}x${classes}`;
      const options = { classes, dtype, labelSmoothing: 0.1, grad: true } as const;
      const got = engine.crossEntropy(bits, target, options);
      const want = reference.crossEntropy(bits, target, options);
      expectLoss(got.loss, want.loss, { label });
      expectLosses(got.losses, want.losses, { label });
      expectField(got.grad!, want.grad!, { label, classes });
      expectField(engine.softmax(bits, { classes, dtype }), reference.softmax(bits, { classes, dtype }), { label, classes });
      expectLosses(engine.logSumExp(bits, { classes, dtype }), reference.logSumExp(bits, { classes, dtype }), { label });
    });

    it('goes through memory in chunks, with the bits of the widened values as one resident tensor', async () => {
      const small = await createEngine({ simd: build, maxMemoryBytes: 8 << 20 });
      const rows = 400, classes = 10000; // 8 MB of bits through 8 MiB of memory: chunks of a few rows
      const bits = toHalfBits(makeLogits(rows, classes, 'normal', 5), dtype);
      const target = makeTargets(rows, classes);
      const chunked = small.crossEntropy(bits, target, { classes, dtype, grad: true });
      const decode = dtype === 'f16' ? fromFloat16 : fromBfloat16;
      const table = Float32Array.from({ length: 65536 }, (_, b) => decode(b)); // widening is exact
      const resident = engine.tensor(rows, classes);
      const data = resident.data;
      for (let i = 0; i < bits.length; i++) data[i] = table[bits[i]!]!;
      const whole = engine.crossEntropy(resident, target, { grad: 'inplace' });
      expect(sameBits(chunked.losses, whole.losses)).toBe(true);
      expect(sameBits(chunked.grad!, resident.data)).toBe(true);
      resident.free();
      small.dispose();
    });
  });

  it("refuses 'inplace' for 16-bit logits, and arrays of the wrong type", () => {
    const bits = new Uint16Array(12);
    expect(thrown(() => engine.crossEntropy(bits, [0, 1, 2], { classes: 4, dtype: 'f16', grad: 'inplace' })).code).toBe('BAD_OPTION');
    expect(thrown(() => engine.crossEntropy(new Float32Array(12), [0, 1, 2], { classes: 4, dtype: 'bf16' })).message).toMatch(/Uint16Array of their bits/);
    expect(thrown(() => engine.logSumExp(bits, { classes: 4, dtype: 'f8' as 'f16' })).code).toBe('BAD_OPTION');
    expect(bits.every((b) => b === 0)).toBe(true);
  });
});
