// Bit-identical results in Chromium and in Node: the fixed case of determinism-case.js hashes to
// the constant that test/determinism.test.ts checks in Node.

import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { BUILDS } from './support.js';
import { EXPECTED_DIGEST, inputs, outputs, sha256 } from './determinism-case.js';

describe('determinism: Chromium gives the bytes Node gives', () => {
  it('the inputs are the same bytes', async () => {
    expect(await sha256(inputs())).toBe(EXPECTED_DIGEST.inputs);
  });

  it.each(BUILDS)('[%s] crossEntropy loss, losses, lse and grad, softmax, logSoftmax, logSumExp', async (build) => {
    const engine = await createEngine({ simd: build });
    expect(engine.features.simd).toBe(build);
    const digest = await sha256(outputs(engine));
    expect(digest, `SHA-256 of the ${build} outputs in Chromium; Node's is the constant`).toBe(EXPECTED_DIGEST[build]);
    engine.dispose();
  });
});
