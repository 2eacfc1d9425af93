// logSumExp, softmax and logSoftmax against the float64 reference and PyTorch.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { TEST_CLASSES } from '../bench/shapes.js';
import { expectField, expectLogProbs, expectLosses } from './support/compare.js';
import { DATA_CLASSES, makeLogits } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { TORCH_VERSION, torchCases } from './support/vectors.js';

describe.each(BUILDS)('softmax family [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe.each(TEST_CLASSES.filter((c) => c <= 32000))('%i classes', (classes) => {
    const rows = classes >= 1000 ? 3 : 9;
    it.each(DATA_CLASSES)('%s', (data) => {
      const x = makeLogits(rows, classes, data, classes + 1);
      const label = `${build} ${rows}x${classes} ${data}`;
      expectLosses(engine.logSumExp(x, { classes }), reference.logSumExp(x, { classes }), { label: `logSumExp ${label}` });
      for (const temperature of [1, 0.5, 3]) {
        const where = { label: `${label} T=${temperature}`, classes };
        expectField(engine.softmax(x, { classes, temperature }), reference.softmax(x, { classes, temperature }), where);
        // Per element: the log-probs near 0, the ones users read, are held to their own size.
        expectLogProbs(engine.logSoftmax(x, { classes, temperature }), reference.logSoftmax(x, { classes, temperature }), where);
      }
    });
  });

  it('out: a Float32Array or a Tensor is written and returned; a Tensor input is read in place', () => {
    const classes = 19, rows = 6;
    const x = makeLogits(rows, classes, 'normal', 4);
    const want = reference.softmax(x, { classes });
    const out = new Float32Array(rows * classes);
    expect(engine.softmax(x, { classes, out })).toBe(out);
    expectField(out, want, { label: 'out array', classes });
    const t = engine.tensor(rows, classes);
    t.data.set(x);
    const o = engine.tensor(rows, classes);
    engine.softmax(t, { out: o });
    expectField(o.data, want, { label: 'tensor in, tensor out', classes });
    engine.softmax(t, { out: t });
    expectField(t.data, want, { label: 'tensor in place', classes });
    t.free();
    o.free();
  });

  describe(`against PyTorch ${TORCH_VERSION}`, () => {
    it.each(torchCases('logSumExp').map((c) => [c.name, c] as const))('logSumExp %s', (label, c) => {
      const got = engine.logSumExp(new Float32Array(c.inputs.logits!), { classes: c.classes });
      expectLosses(got, c.expected.lse as number[], { label });
    });
    it.each([...torchCases('softmax'), ...torchCases('logSoftmax')].map((c) => [`${c.op} ${c.name}`, c] as const))('%s', (label, c) => {
      const x = new Float32Array(c.inputs.logits!);
      const options = { classes: c.classes, temperature: c.options.temperature as number };
      if (c.op === 'softmax') expectField(engine.softmax(x, options), c.expected.out as number[], { label, classes: c.classes });
      else expectLogProbs(engine.logSoftmax(x, options), c.expected.out as number[], { label });
    });
  });
});
