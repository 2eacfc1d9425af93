// crossEntropy, logSumExp and logSoftmax against PyTorch at real vocabulary sizes (32000 and
// 128256 classes). The inputs are regenerated from test/torch/large-vectors.json's seeds by
// the generator that test/torch/large.py mirrors; gradients and log-probs are compared at the
// sampled positions stored there (each row's target and eight columns).

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CrossEntropyOptions, Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { expectField, expectLogProbs, expectLoss, expectLosses } from './support/compare.js';
import { rng } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';

interface LargeCase {
  name: string;
  seed: number;
  rows: number;
  classes: number;
  spread: number;
  options: { weight?: boolean; labelSmoothing?: number; softcap?: number; zLoss?: number };
  ignoreRow: number | null;
  expected: {
    loss: number;
    losses: number[];
    lse: number[];
    grad: [row: number, column: number, value: number][];
    logSoftmax: [row: number, column: number, value: number][];
  };
}

const file = JSON.parse(readFileSync(new URL('./torch/large-vectors.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: LargeCase[];
};

/** test/torch/large.py's inputs, from the same 32-bit outputs of the same generator. */
function inputs(c: LargeCase) {
  const random = rng(c.seed);
  const next = () => random() * 2 ** 32; // exact: the generator's integer output
  const logits = Float32Array.from({ length: c.rows * c.classes }, () => ((next() >>> 8) / 2 ** 23 - 1) * c.spread);
  const target = Int32Array.from({ length: c.rows }, () => next() % c.classes);
  const weight = Float32Array.from({ length: c.classes }, () => 0.5 + (next() >>> 8) / 2 ** 24);
  if (c.ignoreRow !== null) target[c.ignoreRow] = -100;
  const options: CrossEntropyOptions & { classes: number } = { classes: c.classes };
  if (c.options.weight) options.weight = weight;
  if (c.options.labelSmoothing !== undefined) options.labelSmoothing = c.options.labelSmoothing;
  if (c.options.softcap !== undefined) options.softcap = c.options.softcap;
  if (c.options.zLoss !== undefined) options.zLoss = c.options.zLoss;
  return { logits, target, options };
}

const at = (values: ArrayLike<number>, classes: number, points: LargeCase['expected']['grad']) =>
  points.map(([r, col]) => values[r * classes + col]!);

describe.each(['reference', ...BUILDS] as const)(`crossEntropy at real vocabularies against PyTorch ${file.torch} [%s]`, (who) => {
  let engine: Engine | undefined;
  beforeAll(async () => {
    if (who !== 'reference') engine = await makeEngine(who);
  });

  it.each(file.cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const { logits, target, options } = inputs(c);
    const label = `${who} ${name}`;
    const ce = (engine ?? reference).crossEntropy(logits, target, { ...options, grad: true });
    expectLoss(ce.loss, c.expected.loss, { label });
    expectLosses(ce.losses, c.expected.losses, { label: `${label} losses` });
    expectLosses(ce.lse, c.expected.lse, { label: `${label} lse` });
    const want = c.expected.grad.map(([, , v]) => v);
    expectField(at(ce.grad!, c.classes, c.expected.grad), want, { label: `${label} grad at sampled positions` });
    const logp = (engine ?? reference).logSoftmax(logits, { classes: c.classes });
    expectLogProbs(at(logp, c.classes, c.expected.logSoftmax), c.expected.logSoftmax.map(([, , v]) => v), { label: `${label} logSoftmax` });
    expect(ce.count).toBe(c.rows - (c.ignoreRow === null ? 0 : 1));
  });
});
