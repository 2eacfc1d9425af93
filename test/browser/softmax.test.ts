// logSumExp, softmax and logSoftmax in Chromium, both builds, against the float64 reference
// computed in the same page.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index.js';
import {
  BUILDS, CLASSES, copy, expectField, expectLogProbs, expectLosses, makeEngine, makeLogits, reference, rowsFor,
} from './support.js';

const KINDS = ['normal', 'large', 'huge', 'someNegInf'] as const;

describe.each(BUILDS)('logSumExp, softmax, logSoftmax [%s] in Chromium', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });
  afterAll(() => engine.dispose());

  it.each(CLASSES)('logSumExp over %i classes matches the reference for every data class', (classes) => {
    for (const kind of KINDS) {
      const x = makeLogits(rowsFor(classes), classes, kind, classes);
      expectLosses(engine.logSumExp(x, { classes }), reference.logSumExp(x, { classes }), { label: `logSumExp [${build}] ${kind} x${classes}` });
    }
  });

  it.each(CLASSES)('softmax and logSoftmax over %i classes, T = 1 and 0.5, match the reference', (classes) => {
    for (const kind of KINDS) {
      const x = makeLogits(rowsFor(classes), classes, kind, 7 * classes);
      const before = copy(x);
      for (const temperature of [1, 0.5]) {
        for (const op of ['softmax', 'logSoftmax'] as const) {
          const where = { label: `${op} [${build}] ${kind} x${classes} T=${temperature}`, classes };
          const check = op === 'softmax' ? expectField : expectLogProbs;
          check(engine[op](x, { classes, temperature }), reference[op](x, { classes, temperature }), where);
        }
      }
      expect(x, 'the logits are only read').toEqual(before);
    }
  });

  it('out: a Float32Array is filled and returned; out = logits works in place', () => {
    const classes = 33;
    const x = makeLogits(4, classes, 'normal', 11);
    const want = reference.softmax(x, { classes, temperature: 2 });
    const out = new Float32Array(x.length);
    expect(engine.softmax(x, { classes, temperature: 2, out })).toBe(out);
    expectField(out, want, { label: `softmax [${build}] out`, classes });
    const inPlace = copy(x);
    expect(engine.logSoftmax(inPlace, { classes, out: inPlace })).toBe(inPlace);
    expectLogProbs(inPlace, reference.logSoftmax(x, { classes }), { label: `logSoftmax [${build}] in place`, classes });
  });

  it('Tensor logits and a Tensor out give the same values as flat arrays, bit for bit', () => {
    const rows = 5, classes = 1025;
    const x = makeLogits(rows, classes, 'normal', 12);
    const t = engine.tensor(rows, classes);
    t.data.set(x);
    const out = engine.tensor(rows, classes);
    expect(engine.logSumExp(t)).toEqual(engine.logSumExp(x, { classes }));
    const viaTensor = engine.softmax(t, { out, temperature: 0.7 });
    expect(viaTensor).toEqual(out.data);
    expect(viaTensor).toEqual(engine.softmax(x, { classes, temperature: 0.7 }));
    expect(t.data, 'the logits tensor is only read').toEqual(x);
    expect(engine.logSoftmax(t, { classes })).toEqual(engine.logSoftmax(x, { classes }));
    t.free();
    out.free();
  });
});
