// Bit-identical results in Node and in Chromium: the fixed case of
// test/browser/determinism-case.js hashes, in Node, to the constant that the browser suite
// (test/browser/determinism.test.ts) checks in Chromium.

import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/index.js';
import { EXPECTED_DIGEST, inputs, outputs, sha256 } from './browser/determinism-case.js';

describe('determinism: Node gives the bytes Chromium gives', () => {
  it('the inputs are the same bytes', async () => {
    expect(await sha256(inputs())).toBe(EXPECTED_DIGEST.inputs);
  });

  it.each(['baseline', 'relaxed'] as const)('[%s] crossEntropy loss, losses, lse and grad, softmax, logSoftmax, logSumExp', async (build) => {
    const engine = await createEngine({ simd: build });
    expect(engine.features.simd).toBe(build);
    const digest = await sha256(outputs(engine));
    expect(
      digest,
      `SHA-256 of the ${build} outputs in Node. If the kernels changed on purpose, set EXPECTED_DIGEST.${build} ` +
        `in test/browser/determinism-case.js to ${digest} and run the browser suite to see that Chromium agrees.`,
    ).toBe(EXPECTED_DIGEST[build]);
    // Computing twice in one engine gives the same bytes too (no state leaks between calls).
    expect(await sha256(outputs(engine))).toBe(digest);
    engine.dispose();
  });
});
