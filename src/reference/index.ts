// xent/reference: the float64 oracle. Plain loops, the same functions and result fields as
// the engine (arrays are Float64Array), no Tensor, no WebAssembly.

export { logSumExp, softmax, logSoftmax } from './softmax.js';
export { crossEntropy } from './cross-entropy.js';
export { XentError } from '../errors.js';
export { binaryCrossEntropy } from './bce.js';
export { sigmoidFocalLoss } from './focal.js';
export { klDivergence } from './kl.js';
export { evaluate } from './evaluate.js';
export { logProbs } from './log-probs.js';
export { crossEntropyShard, crossEntropyShardGrad, mergeCrossEntropyShards } from './shards.js';
export { linearCrossEntropy } from './linear.js';
