// Tensors of other libraries ({ data, dims, type }, as ONNX Runtime's ort.Tensor and
// transformers.js's Tensor are) in place of logits: the same results as the flat arrays they hold.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import { expectBitIdentical, thrown } from './support/compare.js';
import { makeLogits, makeTargets } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { fromFloat16 } from '../src/reference/rows.js';

/** An ort.Tensor-shaped object. */
const tensorLike = (data: Float32Array | Uint16Array, dims: number[], type = data instanceof Uint16Array ? 'float16' : 'float32') =>
  ({ data, dims, type, size: data.length, location: 'cpu' });

describe.each(BUILDS)('tensor-likes [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });
  const B = 3, T = 5, V = 37;
  const x = makeLogits(B * T, V, 'normal', 4);
  const target = makeTargets(B * T, V, 5, 0.2);

  it('every operation takes [B, T, V] float32 and gives the flat array\'s bits; classes comes from the last dim', () => {
    const t = tensorLike(x, [B, T, V]);
    const classes = V;
    expectBitIdentical(engine.logSumExp(t), engine.logSumExp(x, { classes }), 'logSumExp');
    expectBitIdentical(engine.softmax(t), engine.softmax(x, { classes }), 'softmax');
    expectBitIdentical(engine.logSoftmax(t, { classes }), engine.logSoftmax(x, { classes }), 'logSoftmax');
    const ce = engine.crossEntropy(t, target, { grad: true });
    const flat = engine.crossEntropy(x, target, { classes, grad: true });
    expect(ce.loss).toBe(flat.loss);
    expectBitIdentical(ce.grad, flat.grad, 'crossEntropy grad');
    const probs = engine.softmax(x, { classes });
    expect(engine.binaryCrossEntropy(t, probs).loss).toBe(engine.binaryCrossEntropy(x, probs, { classes }).loss);
    expect(engine.sigmoidFocalLoss(t, probs).loss).toBe(engine.sigmoidFocalLoss(x, probs, { classes }).loss);
    const teacher = tensorLike(makeLogits(B * T, V, 'normal', 6), [B, T, V]);
    expect(engine.klDivergence(t, teacher).loss).toBe(engine.klDivergence(x, teacher.data as Float32Array, { classes }).loss);
    expect(engine.evaluate(t, target).loss).toBe(engine.evaluate(x, target, { classes }).loss);
    expectBitIdentical(engine.logProbs(t, target).logprobs, engine.logProbs(x, target, { classes }).logprobs, 'logProbs');
  });

  it('float16 data (the bits as a Uint16Array) is widened exactly', () => {
    const bits = Uint16Array.from({ length: B * T * V }, (_, i) => 0x3c00 + ((i * 37) % 2000) - 1000);
    const widened = Float32Array.from(bits, fromFloat16);
    const t = tensorLike(bits, [B * T, V]);
    expectBitIdentical(engine.logSumExp(t), engine.logSumExp(widened, { classes: V }), 'f16 logSumExp');
    expect(engine.evaluate(t, target).loss).toBe(engine.evaluate(widened, target, { classes: V }).loss);
    expect(engine.crossEntropy(t, target).loss).toBe(engine.crossEntropy(widened, target, { classes: V }).loss);
  });

  it('[B, T, V] gives evaluate its sequence length: shift scores each row against the next input id', () => {
    const shifted = engine.evaluate(tensorLike(x, [B, T, V]), target, { shift: true });
    const explicit = engine.evaluate(x, target, { classes: V, sequenceLength: T, shift: true });
    expect(shifted.loss).toBe(explicit.loss);
    expect(shifted.count).toBe(explicit.count);
  });

  it('refuses dims that disagree with the data or the options, and types that are not float logits', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => engine.logSumExp(tensorLike(x, [B, T, V + 1])), 'SHAPE_MISMATCH', /must hold 570 values for dims \[3, 5, 38\]/],
      [() => engine.logSumExp(tensorLike(x, [B, T, V]), { classes: 5 }), 'SHAPE_MISMATCH', /classes is 5 but logits has dims \[3, 5, 37\]/],
      [() => engine.evaluate(tensorLike(x, [B, T, V]), target, { sequenceLength: 3 }), 'SHAPE_MISMATCH', /sequenceLength is 3/],
      [() => engine.logSumExp({ data: new Int32Array(x.length), dims: [B * T, V], type: 'int32' }), 'SHAPE_MISMATCH', /float32 or float16 logits, got a tensor of type 'int32'/],
      [() => engine.logSumExp({ data: x, dims: 'oops' as unknown as number[] }), 'SHAPE_MISMATCH', /dims must be a non-empty list/],
      [() => engine.binaryCrossEntropy(tensorLike(new Uint16Array(4), [2, 2]), new Float32Array(4)), 'BAD_OPTION', /float16 logits are not supported here/],
      [() => engine.klDivergence(tensorLike(x, [B * T, V]), tensorLike(x.subarray(0, V * 2), [2, V])), 'SHAPE_MISMATCH', /teacher/],
    ];
    for (const [call, code, message] of cases) {
      const error = thrown(call);
      expect(error.code, String(message)).toBe(code);
      expect(error.message).toMatch(message);
    }
  });
});
