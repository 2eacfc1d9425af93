// A one-thread and a two-thread engine, for tests that compare their bits.

import { afterAll, beforeAll } from 'vitest';
import { createEngine, type Engine } from '../../src/index.js';

/** Both engines (baseline build), made before and disposed after the enclosing tests. */
export function enginesOneAndTwoThreads(): { one: Engine; two: Engine } {
  const pair = {} as { one: Engine; two: Engine };
  beforeAll(async () => {
    pair.one = await createEngine({ simd: 'baseline' });
    pair.two = await createEngine({ simd: 'baseline', threads: 2 });
  });
  afterAll(() => {
    pair.one.dispose();
    pair.two.dispose();
  });
  return pair;
}
