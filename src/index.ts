// xent: cross-entropy losses in WebAssembly SIMD. The public surface only.

export { createEngine, type Engine, type EngineOptions, type Features } from './engine.js';
export { XentError, type XentErrorCode } from './errors.js';
export type { Tensor } from './memory.js';
export type { WasmSource } from './loader.js';
export type * from './types.js';
export { mergeCrossEntropyShards } from './ops/shards.js';
