// The exports of the wasm module (assembly/index.ts), typed.

import type { RowKernel } from './runner.js';

export interface Kernels {
  heapBase(): number;
  simdLevel(): number;
  lse: RowKernel;
  softmax: RowKernel;
  logSoftmax: RowKernel;
  crossEntropy: RowKernel;
  /** crossEntropy's two paths, exported for the tests that hold them to each other. */
  crossEntropyRowwise: RowKernel;
  crossEntropyRows4: RowKernel;
  crossEntropyProbs: RowKernel;
  vexp(x: number, y: number, n: number): void;
  vexpMinus(x: number, y: number, n: number): void;
  binaryCrossEntropy: RowKernel;
  sigmoidFocalLoss: RowKernel;
  klDivergence: RowKernel;
  evaluate: RowKernel;
  vlog(x: number, y: number, n: number): void;
  vlog1p(x: number, y: number, n: number): void;
  widenF16(halves: number, floats: number, n: number): void;
  widenBf16(halves: number, floats: number, n: number): void;
  logProbs: RowKernel;
  crossEntropyShard: RowKernel;
  crossEntropyShardGrad: RowKernel;
  argmaxRows(x: number, argmax: number, best: number, rows: number, classes: number): void;
  /** The logits' product alone, for the benchmark (bench/linear.js). */
  gemmNT(a: number, b: number, bias: number, c: number, m: number, n: number, k: number, ldc: number): void;
  linearLogits: RowKernel;
  linearHeadGrad: RowKernel;
  linearHiddenGrad: RowKernel;
  /** For the benchmark: the multiply-add rate of this core (see gemm.ts). */
  maddPeak(n: number): number;
}
