// Property-based: random shapes, values and options, engine against reference.

import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { expectField, expectLoss, expectLosses } from './support/compare.js';
import { BUILDS, makeEngine } from './support/engines.js';

const shape = fc.record({ rows: fc.integer({ min: 0, max: 9 }), classes: fc.integer({ min: 1, max: 70 }) });

/** Logits of a shape: mostly moderate values, sometimes huge ones and -inf (a masked class). */
const logitsOf = ({ rows, classes }: { rows: number; classes: number }) =>
  fc
    .array(
      fc.oneof(
        { weight: 20, arbitrary: fc.float({ min: -20, max: 20, noNaN: true }) },
        { weight: 1, arbitrary: fc.float({ min: -3e4, max: 3e4, noNaN: true }) },
        { weight: 1, arbitrary: fc.constant(-Infinity) },
      ),
      { minLength: rows * classes, maxLength: rows * classes },
    )
    .map((values) => new Float32Array(values));

const crossEntropyCase = shape.chain((s) =>
  fc.record({
    shape: fc.constant(s),
    logits: logitsOf(s),
    target: fc.array(fc.oneof(fc.integer({ min: 0, max: s.classes - 1 }), fc.constant(-100)), { minLength: s.rows, maxLength: s.rows }),
    weight: fc.option(
      fc.array(fc.oneof(fc.constant(0), fc.float({ min: Math.fround(1e-6), max: 4, noNaN: true })), { minLength: s.classes, maxLength: s.classes }),
      { nil: undefined },
    ),
    labelSmoothing: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 1e-6, max: 1, noNaN: true })),
    zLoss: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 0.01, noNaN: true })),
    softcap: fc.option(fc.double({ min: 1, max: 50, noNaN: true }), { nil: undefined }),
    reduction: fc.constantFrom('mean' as const, 'sum' as const),
    gradScale: fc.double({ min: 0.01, max: 10, noNaN: true }),
  }),
);

describe.each(BUILDS)('properties [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  it('crossEntropy matches the reference for any shape, values and options', () => {
    fc.assert(
      fc.property(crossEntropyCase, (c) => {
        // Rows with a -inf target logit cost +inf: fine, but then the gradient scale is NaN
        // for the whole batch; keep the targets on finite logits to compare gradients.
        const target = c.target.map((t, r) => (t >= 0 && c.logits[r * c.shape.classes + t] === -Infinity ? -100 : t));
        const options = {
          classes: c.shape.classes,
          ...(c.weight ? { weight: new Float32Array(c.weight) } : {}),
          labelSmoothing: c.labelSmoothing, zLoss: c.zLoss, reduction: c.reduction, gradScale: c.gradScale,
          ...(c.softcap ? { softcap: c.softcap } : {}),
          grad: true,
        };
        const got = engine.crossEntropy(c.logits, target, options);
        const want = reference.crossEntropy(c.logits, target, options);
        const label = `${build} ${JSON.stringify({ ...c.shape, ...options, weight: c.weight, logits: undefined })}`;
        expectLosses(got.losses, want.losses, { label });
        expectLoss(got.loss, want.loss, { label });
        // The gradient's terms are gradScale / (the mean divisor) times a class weight.
        const weights = c.weight ?? [1];
        const divisor = c.reduction === 'sum' ? 1 : target.reduce((sum, t) => (t < 0 ? sum : sum + (c.weight?.[t] ?? 1)), 0);
        const termScale = divisor > 0 ? (c.gradScale / divisor) * Math.max(...weights) * (1 + 2 * c.zLoss * 3e4) : 0;
        expectField(got.grad!, want.grad!, { label, classes: c.shape.classes, termScale });
      }),
      { numRuns: 300, seed: 20261123 },
    );
  });

  it('softmax and logSumExp match the reference for any shape and temperature', () => {
    const softmaxCase = shape.chain((s) => fc.record({ shape: fc.constant(s), logits: logitsOf(s), temperature: fc.double({ min: 0.05, max: 20, noNaN: true }) }));
    fc.assert(
      fc.property(softmaxCase, ({ shape: { classes }, logits, temperature }) => {
        const label = `${build} classes ${classes} T ${temperature}`;
        expectField(engine.softmax(logits, { classes, temperature }), reference.softmax(logits, { classes, temperature }), { label, classes });
        expectLosses(engine.logSumExp(logits, { classes }), reference.logSumExp(logits, { classes }), { label });
      }),
      { numRuns: 300, seed: 20261124 },
    );
  });
});
