// softmax and log-softmax of x / T, XNNPACK-style: row max, exp-store-sum, scale.

import { at } from '../math/lanes';
import { rowMax } from './rmax';
import { rowSumExp, SumExp } from './sumexp';

/**
 * y[r, j] = exp((x[r, j] - m) / T) / sum_k exp((x[r, k] - m) / T), m the row max, given
 * invT = 1 / T > 0. y may alias x. Three passes per row: max, exp-store-sum, scale.
 */
export function softmax(x: usize, y: usize, rows: i32, cols: i32, invT: f32): void {
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const m = rowMax(at(x, offset), cols);
    const s = rowSumExp(at(x, offset), at(y, offset), 0, cols, m, invT, 1, SumExp.STORE);
    scaleRow(at(y, offset), cols, <f32>(1 / s));
  }
}

/**
 * y[r, j] = (x[r, j] - m) / T - log sum_k exp((x[r, k] - m) / T). y may alias x.
 * The shift is the row max even when it is infinite, so such rows are NaN, as in PyTorch.
 */
export function logSoftmax(x: usize, y: usize, rows: i32, cols: i32, invT: f32): void {
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const m = rowMax(at(x, offset), cols);
    const s = rowSumExp(at(x, offset), 0, 0, cols, m, invT, 1, SumExp.PLAIN);
    shiftRow(at(x, offset), at(y, offset), cols, m, invT, <f32>Math.log(s));
  }
}

/** y[i] *= c for i < n: 16 per step, then 4, then a scalar tail. */
// @ts-ignore: decorator
@inline export function scaleRow(y: usize, n: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(y, i);
    v128.store(p, f32x4.mul(v128.load(p), vc));
    v128.store(p, f32x4.mul(v128.load(p, 16), vc), 16);
    v128.store(p, f32x4.mul(v128.load(p, 32), vc), 32);
    v128.store(p, f32x4.mul(v128.load(p, 48), vc), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(y, i)), vc));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) * c);
}

/** y[i] = (x[i] - m) * invT - logSum for i < n. */
// @ts-ignore: decorator
@inline function shiftRow(x: usize, y: usize, n: i32, m: f32, invT: f32, logSum: f32): void {
  const vm = f32x4.splat(m), vinvT = f32x4.splat(invT), vlog = f32x4.splat(logSum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(y, i), f32x4.sub(f32x4.mul(f32x4.sub(v128.load(at(x, i)), vm), vinvT), vlog));
  }
  for (; i < n; i++) store<f32>(at(y, i), (load<f32>(at(x, i)) - m) * invT - logSum);
}
