// The steps of linearCrossEntropy on a block of rows (src/ops/linear.ts runs them, each split
// across threads where it pays): the block's logits, then, once the crossEntropy kernel has
// turned them into their gradient G in place, the gradients of the head (and bias) and of
// hidden. Each step loops over the head in chunks of `chunk` classes; the head may be f32
// (dtype 0), float16 (1) or bfloat16 (2), widened a chunk at a time into `widened`.
// A step splits the same way whatever the threads: by whole chunks of classes for the logits
// and the head's gradient, by rows for hidden's, whose sums run over every chunk in order.
// So every output element is computed by the same instructions in the same order.

import { at } from '../math/lanes';
import { columnSums, copyBlock, gemmAcc, gemmNT } from './gemm';
import { widenBf16, widenF16 } from './widen';

/** Classes [c, c + n) of the head as f32: in place, or widened into `widened`. */
// @ts-ignore: decorator
@inline function headChunk(head: usize, widened: usize, c: i32, n: i32, dim: i32, dtype: i32): usize {
  if (dtype == 0) return at(head, c * dim);
  const halves = head + (<usize>(c * dim) << 1);
  if (dtype == 1) widenF16(halves, widened, n * dim);
  else widenBf16(halves, widened, n * dim);
  return widened;
}

/**
 * tile[i classes + c] = bias[c] + sum_d x[i dim + d] head[c dim + d] for i < n and c in
 * [c0, c1) (bias = 0: none); c0 is a multiple of chunk.
 */
export function linearLogits(
  x: usize, head: usize, bias: usize, tile: usize, widened: usize,
  n: i32, c0: i32, c1: i32, dim: i32, classes: i32, chunk: i32, dtype: i32,
): void {
  for (let c = c0; c < c1; c += chunk) {
    const nc = min(chunk, c1 - c);
    gemmNT(x, headChunk(head, widened, c, nc, dim, dtype), bias != 0 ? at(bias, c) : 0, at(tile, c), n, nc, dim, classes);
  }
}

/**
 * For c in [c0, c1): headGrad[c dim + d] += sum_i G[i classes + c] x[i dim + d] and
 * biasGrad[c] += sum_i G[i classes + c], over the block's n rows (either pointer 0: not wanted).
 * G is the tile; panel (n x chunk) and packed (max(n, chunk) x dim) are scratch.
 */
export function linearHeadGrad(
  tile: usize, x: usize, headGrad: usize, biasGrad: usize, panel: usize, packed: usize,
  n: i32, c0: i32, c1: i32, dim: i32, classes: i32, chunk: i32,
): void {
  for (let c = c0; c < c1; c += chunk) {
    const nc = min(chunk, c1 - c);
    const g = at(tile, c);
    if (headGrad != 0) {
      // G's columns copied together: in the tile they sit a whole row of classes apart.
      copyBlock(g, classes, panel, nc, n, nc);
      gemmAcc(panel, 1, nc, x, dim, packed, at(headGrad, c * dim), dim, nc, dim, n);
    }
    if (biasGrad != 0) columnSums(g, classes, at(biasGrad, c), n, nc);
  }
}

/**
 * hiddenGrad[i dim + d] += sum_c G[i classes + c] head[c dim + d] for i < n, every class, a
 * chunk at a time in order. Scratch: widened (chunk x dim), panel (n x chunk), packed (chunk x dim).
 */
export function linearHiddenGrad(
  tile: usize, head: usize, hiddenGrad: usize, widened: usize, panel: usize, packed: usize,
  n: i32, dim: i32, classes: i32, chunk: i32, dtype: i32,
): void {
  for (let c = 0; c < classes; c += chunk) {
    const nc = min(chunk, classes - c);
    copyBlock(at(tile, c), classes, panel, nc, n, nc);
    gemmAcc(panel, nc, 1, headChunk(head, widened, c, nc, dim, dtype), dim, packed, hiddenGrad, dim, n, dim, nc);
  }
}
