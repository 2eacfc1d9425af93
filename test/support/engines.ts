// The builds and their engines (builds.ts), and the raw kernels of a build, for Node tests.

import { readFileSync } from 'node:fs';
import type { Kernels } from '../../src/kernels.js';
import type { Build } from './builds.js';

export { BUILDS, makeEngine, type Build } from './builds.js';

const FILES: Record<Build, string> = { baseline: 'xent.wasm', relaxed: 'xent-relaxed.wasm' };

/** The raw kernels of a build over a fresh memory, for tests of single primitives. */
export function rawKernels(build: Build, pages = 64): { kernels: Kernels; memory: WebAssembly.Memory; base: number } {
  const bytes = readFileSync(new URL(`../../build/${FILES[build]}`, import.meta.url));
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  return { kernels, memory, base: kernels.heapBase() };
}
