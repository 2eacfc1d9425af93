// The builds every engine test runs against. vitest starts its workers with
// --experimental-wasm-relaxed-simd (vitest.config.ts), so Node 20 runs both.

import { readFileSync } from 'node:fs';
import { createEngine, type Engine } from '../../src/index.js';
import type { Kernels } from '../../src/kernels.js';

export const BUILDS = ['baseline', 'relaxed'] as const;
export type Build = (typeof BUILDS)[number];

export function makeEngine(build: Build, options: Parameters<typeof createEngine>[0] = {}): Promise<Engine> {
  return createEngine({ simd: build, ...options });
}

const FILES: Record<Build, string> = { baseline: 'xent.wasm', relaxed: 'xent-relaxed.wasm' };

/** The raw kernels of a build over a fresh memory, for tests of single primitives. */
export function rawKernels(build: Build, pages = 64): { kernels: Kernels; memory: WebAssembly.Memory; base: number } {
  const bytes = readFileSync(new URL(`../../build/${FILES[build]}`, import.meta.url));
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  return { kernels, memory, base: kernels.heapBase() };
}
