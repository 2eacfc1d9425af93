// linearCrossEntropy in Chromium, both builds, against the float64 reference computed in the
// same page: the GEMM tiles' edges (rows, dims and classes that are not multiples of 4 or 8),
// several blocks and head chunks, a bf16 head, every gradient.

import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Engine } from '../../src/index.js';
import { BUILDS, expectField, expectLoss, expectLosses, makeEngine, makeTargets, reference, rng } from './support.js';

const SHAPES = [[5, 7, 11], [70, 6, 3], [6, 600, 130]] as const;
const TOL = 1e-4;

function uniform(n: number, scale: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: n }, () => (2 * random() - 1) * scale);
}

describe.each(BUILDS)('linearCrossEntropy [%s] in Chromium', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });
  afterAll(() => engine.dispose());

  it.each(SHAPES)('%i rows x dim %i -> %i classes, f32 and bf16 heads', (rows, dim, classes) => {
    const hidden = uniform(rows * dim, 1.5, 1);
    const f32Head = uniform(classes * dim, 1.5 / Math.sqrt(dim), 2);
    const bf16Head = Uint16Array.from(new Uint32Array(f32Head.buffer), (bits) => bits >>> 16);
    const target = makeTargets(rows, classes, 3, 0.2);
    for (const [label, head, headDtype] of [['f32', f32Head, 'f32'], ['bf16', bf16Head, 'bf16']] as const) {
      const options = { classes, headDtype, bias: uniform(classes, 0.1, 4), labelSmoothing: 0.05, grad: { hidden: true, head: true, bias: true } } as const;
      const got = engine.linearCrossEntropy(hidden, head, target, options);
      const want = reference.linearCrossEntropy(hidden, head, target, options);
      const where = `${build} ${label} ${rows}x${dim}->${classes}`;
      expectLoss(got.loss, want.loss, { label: where }, TOL);
      expectLosses(got.losses, want.losses, { label: where }, TOL);
      for (const name of ['hidden', 'head', 'bias'] as const) expectField(got.grad![name]!, want.grad![name]!, { label: `${where} grad.${name}` }, TOL);
    }
  });
});
