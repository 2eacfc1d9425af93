// The builds every engine test runs against, and engines of each. Browser-safe (no node:*
// imports): the Node suite and the Chromium suite both take them from here. vitest starts its
// Node workers with --experimental-wasm-relaxed-simd (vitest.config.ts), so Node 20 runs both.

import { createEngine, type Engine, type EngineOptions } from '../../src/index.js';

export const BUILDS = ['baseline', 'relaxed'] as const;
export type Build = (typeof BUILDS)[number];

export function makeEngine(build: Build, options: EngineOptions = {}): Promise<Engine> {
  return createEngine({ simd: build, ...options });
}
