// What the browser tests share, all of it from test/support (browser-safe modules) but for
// copy: the builds, engines made in the page, the float64 reference and its tolerance table.
// Nothing here touches node:* modules, so Vite can serve it to the page.

import { TEST_CLASSES } from '../../bench/shapes.js';

export {
  expectBitIdentical, expectField, expectLogProbs, expectLoss, expectLosses, thrown, TOLERANCE,
} from '../support/compare.js';
export { BUILDS, makeEngine, type Build } from '../support/builds.js';
export { makeLogits, makeProbs, makeTargets, rng, rowsFor } from '../support/data.js';
export * as reference from '../../src/reference/index.js';

/** The test plan's row lengths up to a vocabulary of 32000 (the page's memory stays small). */
export const CLASSES = TEST_CLASSES.filter((c) => c <= 32000);

/** A copy of a Float32Array; the engine's in-place modes must leave `before` untouched. */
export function copy(x: Float32Array): Float32Array {
  return new Float32Array(x);
}
