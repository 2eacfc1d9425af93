// The wasm ABI: pointer-first, counts in elements, then scalars; no managed types.
// Linear memory is imported and owned by the TypeScript side (src/memory.ts).

export { lse } from './kernels/lse';
export { softmax, logSoftmax } from './kernels/softmax';
export { crossEntropy, crossEntropyRowwise } from './kernels/xent';
export { crossEntropyRows4 } from './kernels/xent-rows4';
export { crossEntropyProbs } from './kernels/xent-probs';
export { vexp, vexpMinus } from './kernels/vexp';

/** First byte the TypeScript side may use: everything below holds static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/** 1 in the relaxed-SIMD build, 0 in the baseline one: the engine reports what runs. */
export function simdLevel(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
export { binaryCrossEntropy } from './kernels/bce';
export { sigmoidFocalLoss } from './kernels/focal';
export { klDivergence } from './kernels/kl';
export { evaluate, argmaxRows } from './kernels/evaluate';
export { vlog, vlog1p } from './math/log';
export { widenF16, widenBf16 } from './kernels/widen';
export { logProbs } from './kernels/log-probs';
export { crossEntropyShard, crossEntropyShardGrad } from './kernels/xent-shard';
export { gemmNT, maddPeak } from './kernels/gemm';
export { linearLogits, linearHeadGrad, linearHiddenGrad } from './kernels/linear';
