// The wasm module's exports, typed from the AssemblyScript source: written by scripts/abi.js on
// every `npm run build:wasm`; do not edit. Pointers (usize) are byte addresses in linear memory.

export interface Kernels {
  /** assembly/index/heapBase */
  heapBase(): number;
  /** assembly/index/simdLevel */
  simdLevel(): number;
  /** assembly/kernels/log-sum-exp/lse */
  lse(x: number /* usize */, out: number /* usize */, rows: number /* i32 */, cols: number /* i32 */): void;
  /** assembly/kernels/log-sum-exp/lseRowwise */
  lseRowwise(x: number /* usize */, out: number /* usize */, rows: number /* i32 */, cols: number /* i32 */): void;
  /** assembly/kernels/log-sum-exp-rows4/logProbsRows4 */
  logProbsRows4(x: number /* usize */, ids: number /* usize */, logprobs: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, k: number /* i32 */, ignoreIndex: number /* i32 */): void;
  /** assembly/kernels/log-sum-exp-rows4/lseRows4 */
  lseRows4(x: number /* usize */, out: number /* usize */, rows: number /* i32 */, cols: number /* i32 */): void;
  /** assembly/kernels/softmax/softmax */
  softmax(x: number /* usize */, y: number /* usize */, rows: number /* i32 */, cols: number /* i32 */, invT: number /* f32 */): void;
  /** assembly/kernels/softmax/logSoftmax */
  logSoftmax(x: number /* usize */, y: number /* usize */, rows: number /* i32 */, cols: number /* i32 */, invT: number /* f32 */): void;
  /** assembly/kernels/cross-entropy/crossEntropy */
  crossEntropy(x: number /* usize */, target: number /* usize */, weight: number /* usize */, grad: number /* usize */, losses: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, weightSum: number /* f64 */, smoothing: number /* f32 */, zLoss: number /* f32 */, cap: number /* f32 */, ceScale: number /* f64 */, zScale: number /* f64 */): void;
  /** assembly/kernels/cross-entropy/crossEntropyRowwise */
  crossEntropyRowwise(x: number /* usize */, target: number /* usize */, weight: number /* usize */, grad: number /* usize */, losses: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, weightSum: number /* f64 */, smoothing: number /* f32 */, zLoss: number /* f32 */, cap: number /* f32 */, ceScale: number /* f64 */, zScale: number /* f64 */): void;
  /** assembly/kernels/cross-entropy-rows4/crossEntropyRows4 */
  crossEntropyRows4(x: number /* usize */, target: number /* usize */, weight: number /* usize */, grad: number /* usize */, losses: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, zLoss: number /* f32 */, ceScale: number /* f64 */, zScale: number /* f64 */): void;
  /** assembly/kernels/cross-entropy-probs/crossEntropyProbs */
  crossEntropyProbs(x: number /* usize */, q: number /* usize */, weight: number /* usize */, grad: number /* usize */, losses: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, smoothing: number /* f32 */, zLoss: number /* f32 */, cap: number /* f32 */, ceScale: number /* f64 */, zScale: number /* f64 */): void;
  /** assembly/kernels/cross-entropy-shard/crossEntropyShard */
  crossEntropyShard(x: number /* usize */, target: number /* usize */, weight: number /* usize */, maxes: number /* usize */, sums: number /* usize */, targetLogits: number /* usize */, gaps: number /* usize */, exps: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, stride: number /* i32 */, offset: number /* i32 */, ignoreIndex: number /* i32 */, weightSum: number /* f64 */, cap: number /* f32 */): void;
  /** assembly/kernels/cross-entropy-shard/crossEntropyShardGrad */
  crossEntropyShardGrad(x: number /* usize */, target: number /* usize */, weight: number /* usize */, lses: number /* usize */, logSums: number /* usize */, maxes: number /* usize */, targetLogits: number /* usize */, grad: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, stride: number /* i32 */, offset: number /* i32 */, totalClasses: number /* i32 */, ignoreIndex: number /* i32 */, weightSum: number /* f64 */, smoothing: number /* f32 */, zLoss: number /* f32 */, cap: number /* f32 */, ceScale: number /* f64 */, zScale: number /* f64 */): void;
  /** assembly/kernels/bce/binaryCrossEntropy */
  binaryCrossEntropy(x: number /* usize */, target: number /* usize */, weight: number /* usize */, posWeight: number /* usize */, grad: number /* usize */, losses: number /* usize */, rows: number /* i32 */, cols: number /* i32 */, posWeightScalar: number /* f32 */, scale: number /* f32 */): void;
  /** assembly/kernels/focal/sigmoidFocalLoss */
  sigmoidFocalLoss(x: number /* usize */, target: number /* usize */, grad: number /* usize */, losses: number /* usize */, rows: number /* i32 */, cols: number /* i32 */, alphaPos: number /* f32 */, alphaNeg: number /* f32 */, gamma: number /* f32 */, scale: number /* f32 */): void;
  /** assembly/kernels/kl/klDivergence */
  klDivergence(s: number /* usize */, t: number /* usize */, grad: number /* usize */, losses: number /* usize */, terms: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, invT: number /* f32 */, scale: number /* f32 */): void;
  /** assembly/kernels/kl/klRowwise */
  klRowwise(s: number /* usize */, t: number /* usize */, grad: number /* usize */, losses: number /* usize */, terms: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, invT: number /* f32 */, scale: number /* f32 */): void;
  /** assembly/kernels/kl-rows4/klRows4 */
  klRows4(s: number /* usize */, t: number /* usize */, grad: number /* usize */, losses: number /* usize */, terms: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, invT: number /* f32 */, scale: number /* f32 */): void;
  /** assembly/kernels/evaluate/evaluate */
  evaluate(x: number /* usize */, target: number /* usize */, nll: number /* usize */, entropy: number /* usize */, argmax: number /* usize */, topIdx: number /* usize */, topLogp: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, k: number /* i32 */): void;
  /** assembly/kernels/evaluate/evaluateRowwise */
  evaluateRowwise(x: number /* usize */, target: number /* usize */, nll: number /* usize */, entropy: number /* usize */, argmax: number /* usize */, topIdx: number /* usize */, topLogp: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, k: number /* i32 */): void;
  /** assembly/kernels/evaluate/argmaxRows */
  argmaxRows(x: number /* usize */, argmax: number /* usize */, best: number /* usize */, rows: number /* i32 */, classes: number /* i32 */): void;
  /** assembly/kernels/evaluate-rows4/evaluateRows4 */
  evaluateRows4(x: number /* usize */, target: number /* usize */, nll: number /* usize */, entropy: number /* usize */, argmax: number /* usize */, topIdx: number /* usize */, topLogp: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */, k: number /* i32 */): void;
  /** assembly/kernels/log-probs/logProbs */
  logProbs(x: number /* usize */, ids: number /* usize */, logprobs: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, k: number /* i32 */, ignoreIndex: number /* i32 */): void;
  /** assembly/kernels/log-probs/logProbsRowwise */
  logProbsRowwise(x: number /* usize */, ids: number /* usize */, logprobs: number /* usize */, lses: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, k: number /* i32 */, ignoreIndex: number /* i32 */): void;
  /** assembly/kernels/targets/countClassTargets */
  countClassTargets(target: number /* usize */, rows: number /* i32 */, classes: number /* i32 */, ignoreIndex: number /* i32 */): number;
  /** assembly/kernels/targets/firstOutsideUnit */
  firstOutsideUnit(x: number /* usize */, n: number /* i32 */): number;
  /** assembly/kernels/sum/sumLanes */
  sumLanes(values: number /* usize */, n: number /* i32 */, first: number /* i32 */, lanes: number /* usize */): number;
  /** assembly/kernels/vexp/vexp */
  vexp(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/kernels/vexp/vexpMinus */
  vexpMinus(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/math/log/vlog */
  vlog(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/math/log/vlog1p */
  vlog1p(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/math/log/vlog1pUnit */
  vlog1pUnit(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/kernels/widen/widenF16 */
  widenF16(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/kernels/widen/widenBf16 */
  widenBf16(x: number /* usize */, y: number /* usize */, n: number /* i32 */): void;
  /** assembly/kernels/gemm/gemmNT */
  gemmNT(a: number /* usize */, b: number /* usize */, bias: number /* usize */, c: number /* usize */, m: number /* i32 */, n: number /* i32 */, k: number /* i32 */, ldc: number /* i32 */): void;
  /** assembly/kernels/gemm/maddPeak */
  maddPeak(n: number /* i32 */): number;
  /** assembly/kernels/linear/linearLogits */
  linearLogits(x: number /* usize */, head: number /* usize */, bias: number /* usize */, tile: number /* usize */, widened: number /* usize */, n: number /* i32 */, c0: number /* i32 */, c1: number /* i32 */, dim: number /* i32 */, classes: number /* i32 */, chunk: number /* i32 */, dtype: number /* i32 */): void;
  /** assembly/kernels/linear/linearHeadGrad */
  linearHeadGrad(tile: number /* usize */, x: number /* usize */, headGrad: number /* usize */, biasGrad: number /* usize */, panel: number /* usize */, packed: number /* usize */, n: number /* i32 */, c0: number /* i32 */, c1: number /* i32 */, dim: number /* i32 */, classes: number /* i32 */, chunk: number /* i32 */): void;
  /** assembly/kernels/linear/linearHiddenGrad */
  linearHiddenGrad(tile: number /* usize */, head: number /* usize */, hiddenGrad: number /* usize */, widened: number /* usize */, panel: number /* usize */, packed: number /* usize */, n: number /* i32 */, dim: number /* i32 */, classes: number /* i32 */, chunk: number /* i32 */, dtype: number /* i32 */): void;
}
