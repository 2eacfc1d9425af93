// xent: cross-entropy losses in WebAssembly SIMD. The public surface only.

export { createEngine, type Engine, type EngineOptions, type Features } from './engine.js';
export { XentError, type XentErrorCode } from './errors.js';
export { Tensor } from './memory.js';
export type { SimdLevel, WasmSource } from './loader.js';
export type { Logits, TensorLike } from './ops/logits.js';
export type * from './types.js';
export { mergeCrossEntropyShards } from './ops/shards.js';
export { mergeEvaluations, summarizeEvaluation, type Evaluator } from './ops/evaluator.js';
