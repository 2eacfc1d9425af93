// The kernel ABI: src/kernels.ts declares every export of the module with the arity the wasm
// function has, and a row call whose scalars do not fit its kernel's signature does not compile
// (the @ts-expect-error lines fail `npm run typecheck` the day that check is lost).

import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Kernels } from '../src/kernels.js';
import type { Arg, RowCall, ScalarsOf } from '../src/runner.js';
import { makeEngine } from './support/builds.js';

describe('kernel ABI', () => {
  it('src/kernels.ts declares each export of the module with its number of parameters', async () => {
    const declared = new Map(
      [...readFileSync(new URL('../src/kernels.ts', import.meta.url), 'utf8').matchAll(/^ {2}(\w+)\((.*)\): \w+;$/gm)].map(
        ([, name, params]) => [name!, params === '' ? 0 : params!.split(', ').length],
      ),
    );
    const engine = await makeEngine('baseline');
    const exports = Object.entries(engine.kernels as unknown as Record<string, unknown>).filter(([, f]) => typeof f === 'function');
    expect(exports.length).toBeGreaterThan(20);
    for (const [name, f] of exports) expect([name, declared.get(name)]).toEqual([name, (f as () => void).length]);
    expect(declared.size).toBe(exports.length);
    engine.dispose();
  });

  it('a row call takes exactly the scalars of its kernel, in its order', () => {
    expectTypeOf<ScalarsOf<Kernels['softmax'], 2>>().toEqualTypeOf<[invT: number]>();
    expectTypeOf<ScalarsOf<Kernels['lse'], 2>>().toEqualTypeOf<[]>();
    expectTypeOf<ScalarsOf<Kernels['crossEntropyProbs'], 6>>().toEqualTypeOf<[smoothing: number, zLoss: number, cap: number, ceScale: number, zScale: number]>();
    const call = (scalars: RowCall<Kernels['softmax'], [Arg, Arg]>['scalars']) => scalars;
    call([1]);
    // @ts-expect-error: softmax takes one scalar (the inverse temperature)
    call([1, 2]);
    // @ts-expect-error: and not none
    call([]);
  });
});
