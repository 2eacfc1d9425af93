// Causal language models: evaluate's sequenceLength, shift and attentionMask against the
// reference fed targets shifted and masked by hand, as Hugging Face's causal-LM loss does
// (logits[:, :-1] against labels[:, 1:]; masked target positions not scored).

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { expectLoss, expectLosses, thrown } from './support/compare.js';
import { makeLogits, rng } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';

/** The targets of a shifted, masked batch, written out the long way. */
function shiftByHand(ids: Int32Array, mask: Uint8Array | undefined, B: number, T: number): Int32Array {
  const out = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const next = b * T + t + 1;
      if (mask === undefined || mask[next] === 1) out[b * T + t] = ids[next]!;
    }
  }
  return out;
}

describe.each(BUILDS)('causal evaluation [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  it.each([[1, 1, 5], [2, 7, 11], [3, 16, 300], [4, 9, 1000]])('B = %i, T = %i, V = %i: shift and mask as by hand', (B, T, V) => {
    const random = rng(B * T + V);
    const x = makeLogits(B * T, V, 'normal', V);
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(random() * V));
    // Right padding: each sequence keeps a random prefix.
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < 1 + ((i / T) | 0) * 3 ? 1 : 0));
    for (const m of [undefined, mask]) {
      const label = `${build} ${B}x${T}x${V} ${m ? 'masked' : 'unmasked'}`;
      const options = { classes: V, sequenceLength: T, shift: true, topK: Math.min(3, V), ...(m && { attentionMask: m }) };
      const got = engine.evaluate(x, ids, options);
      const want = reference.evaluate(x, shiftByHand(ids, m, B, T), { classes: V, topK: Math.min(3, V) });
      expect(got.count, label).toBe(want.count);
      expectLoss(got.loss, want.loss, { label });
      expectLoss(got.entropy, want.entropy, { label: `${label} entropy` });
      expect(got.accuracy, label).toBe(want.accuracy);
      expectLosses(got.rows.nll, want.rows.nll, { label: `${label} nll` });
      // The reference takes the same options and agrees with its own hand-shifted self.
      const self = reference.evaluate(x, ids, options);
      expect(self.loss).toBe(want.loss);
    }
  });

  it('without shift, the mask alone drops rows; the mask may be number[] or BigInt64Array (ONNX int64)', () => {
    const V = 7, rows = 6;
    const x = makeLogits(rows, V, 'normal', 2);
    const ids = [1, 2, 3, 4, 5, 6];
    const mask = [1, 1, 0, 1, 0, 1];
    const got = engine.evaluate(x, ids, { classes: V, attentionMask: mask });
    const want = engine.evaluate(x, [1, 2, -100, 4, -100, 6], { classes: V });
    expect(got.loss).toBe(want.loss);
    expect(engine.evaluate(x, ids, { classes: V, attentionMask: BigInt64Array.from(mask, BigInt) }).loss).toBe(want.loss);
  });

  it('refuses a sequence length or mask that does not fit the rows', () => {
    const x = makeLogits(6, 4, 'normal', 3);
    const ids = [0, 1, 2, 3, 0, 1];
    const cases: [object, string, RegExp][] = [
      [{ sequenceLength: 4, shift: true }, 'SHAPE_MISMATCH', /sequenceLength must be an integer >= 1 that divides the 6 rows/],
      [{ sequenceLength: 3, attentionMask: [1, 1, 1] }, 'SHAPE_MISMATCH', /attentionMask has 3 entries, expected one per row \(6/],
      [{ sequenceLength: 3, attentionMask: [1, 1, 2, 1, 1, 1] }, 'BAD_OPTION', /attentionMask\[2\] = 2; expected 0 or 1/],
      [{ shift: 'yes' }, 'BAD_OPTION', /shift must be true or false/],
    ];
    for (const [options, code, message] of cases) {
      const error = thrown(() => engine.evaluate(x, ids, { classes: 4, ...options }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
  });
});

describe('long documents: a sliding window with a stride scores every token exactly once', () => {
  // The README's recipe; the stride must be below the window, whose first token is never a target.
  // The "model" is a bigram table (its logits at a position depend on that
  // position's token only), so that a window's logits equal the whole document's.
  const V = 13, N = 101;
  const random = rng(99);
  const ids = Int32Array.from({ length: N }, () => Math.floor(random() * V));
  const table = makeLogits(V, V, 'normal', 98);
  const model = (window: Int32Array) => {
    const out = new Float32Array(window.length * V);
    window.forEach((id, t) => out.set(table.subarray(id * V, (id + 1) * V), t * V));
    return { data: out, dims: [1, window.length, V], type: 'float32' };
  };

  it.each(BUILDS)('[%s] windows of 32 with strides of 8, 16 and 31 agree with one pass', async (build) => {
    const engine = await makeEngine(build);
    const whole = engine.evaluate(model(ids), ids, { shift: true });
    for (const stride of [8, 16, 31]) {
      const W = 32;
      const ev = engine.evaluator();
      for (let begin = 0, scoredTo = 0; scoredTo < N - 1; begin += stride) {
        const end = Math.min(begin + W, N);
        const window = ids.slice(begin, end);
        // Targets already scored by an earlier window are context only: ignoreIndex.
        const targets = window.slice();
        for (let t = 0; t < targets.length; t++) if (begin + t <= scoredTo) targets[t] = -100;
        ev.add(model(window), targets, { shift: true });
        scoredTo = end - 1;
      }
      expect(ev.count, `stride ${stride}`).toBe(N - 1);
      expect(ev.result().loss, `stride ${stride}`).toBe(whole.loss);
    }
    engine.dispose();
  });
});
