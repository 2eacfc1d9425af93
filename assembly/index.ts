// The wasm ABI: every kernel takes its arguments in one order: pointers to what it reads, then
// to what it writes (and its scratch), then counts in elements, then scalars; no managed types.
// Linear memory is imported and owned by the TypeScript side (src/memory.ts); src/kernels.ts
// is these exports' signatures, generated from this source on every build (scripts/abi.js).

export { lse, lseRowwise } from './kernels/log-sum-exp';
export { logProbsRows4, lseRows4 } from './kernels/log-sum-exp-rows4';
export { softmax, logSoftmax } from './kernels/softmax';
export { crossEntropy, crossEntropyRowwise } from './kernels/cross-entropy';
export { crossEntropyRows4 } from './kernels/cross-entropy-rows4';
export { crossEntropyProbs } from './kernels/cross-entropy-probs';
export { crossEntropyShard, crossEntropyShardGrad } from './kernels/cross-entropy-shard';
export { binaryCrossEntropy } from './kernels/bce';
export { sigmoidFocalLoss } from './kernels/focal';
export { klDivergence, klRowwise } from './kernels/kl';
export { klRows4 } from './kernels/kl-rows4';
export { evaluate, evaluateRowwise, argmaxRows } from './kernels/evaluate';
export { evaluateRows4 } from './kernels/evaluate-rows4';
export { logProbs, logProbsRowwise } from './kernels/log-probs';
export { countClassTargets, firstOutsideUnit } from './kernels/targets';
export { sumLanes } from './kernels/sum';
export { vexp, vexpMinus } from './kernels/vexp';
export { vlog, vlog1p, vlog1pUnit } from './math/log';
export { widenF16, widenBf16 } from './kernels/widen';
export { gemmNT, maddPeak } from './kernels/gemm';
export { linearLogits, linearHeadGrad, linearHiddenGrad } from './kernels/linear';

/** First byte the TypeScript side may use: everything below holds static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/** 1 in the relaxed-SIMD build, 0 in the baseline one: the engine reports what runs. */
export function simdLevel(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
