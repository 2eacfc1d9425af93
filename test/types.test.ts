// The public types narrow results to what was asked for: checked by `npm run typecheck`
// (expectTypeOf is a compile-time assertion), and run once so that vitest counts the file.

import { describe, expectTypeOf, it } from 'vitest';
import { Tensor, createEngine, type CrossEntropyOptions } from '../src/index.js';
import * as reference from '../src/reference/index.js';

describe('public types', () => {
  it('grad, topK and segments are present for sure when asked for, optional otherwise', async () => {
    const engine = await createEngine();
    const x = new Float32Array(6);
    const target = new Int32Array([0, 1]);
    expectTypeOf(engine.crossEntropy(x, target, { classes: 3, grad: true }).grad).toEqualTypeOf<Float32Array>();
    expectTypeOf(engine.crossEntropy(x, target, { classes: 3, grad: 'inplace' }).grad).toEqualTypeOf<Float32Array>();
    expectTypeOf(engine.crossEntropy(x, target, { classes: 3 }).grad).toEqualTypeOf<Float32Array | undefined>();
    const options: CrossEntropyOptions = { classes: 3 };
    expectTypeOf(engine.crossEntropy(x, target, options).grad).toEqualTypeOf<Float32Array | undefined>();
    expectTypeOf(engine.klDivergence(x, x, { classes: 3, grad: new Float32Array(6) }).grad).toEqualTypeOf<Float32Array>();
    const evaluated = engine.evaluate(x, target, { classes: 3, topK: 2, segments: [0, 2] });
    expectTypeOf(evaluated.topK.indices).toEqualTypeOf<Int32Array>();
    expectTypeOf(evaluated.segments[0]!.logprob).toEqualTypeOf<number>();
    expectTypeOf(engine.evaluate(x, target, { classes: 3 }).topK).toEqualTypeOf<{ k: number; indices: Int32Array; logprobs: Float32Array } | undefined>();
    expectTypeOf(engine.tensor(1, 3)).toEqualTypeOf<Tensor>();
    engine.dispose();
  });

  it('xent/reference returns Float64Array where it computes, the caller\'s array where it fills one', () => {
    const x = new Float32Array(6);
    expectTypeOf(reference.softmax(x, { classes: 3 })).toEqualTypeOf<Float64Array>();
    expectTypeOf(reference.softmax(x, { classes: 3, out: new Float32Array(6) })).toEqualTypeOf<Float32Array>();
    expectTypeOf(reference.logSumExp(x, { classes: 3 })).toEqualTypeOf<Float64Array>();
  });
});
