// Row log-sum-exp, as torch.logsumexp computes it.

import { at } from '../math/lanes';
import { rowMax } from './rmax';
import { rowSumExp, SumExp } from './sumexp';
import { LSE_SMALL_COLS, lseRows4 } from './log-sum-exp-rows4';

/**
 * out[r] = log sum_j exp(x[r, j]) for each of `rows` rows of `cols` >= 1 values, shifted by
 * the row max. Where the max is infinite the answer is that infinity, as torch.logsumexp
 * gives it (+inf for a row holding +inf, -inf for a row of -inf), unless the row holds a NaN.
 * Rows of 4 to LSE_SMALL_COLS values go four at a time (log-sum-exp-rows4.ts).
 */
export function lse(x: usize, out: usize, rows: i32, cols: i32): void {
  if (cols >= 4 && cols <= LSE_SMALL_COLS) lseRows4(x, out, rows, cols);
  else lseRowwise(x, out, rows, cols);
}

/** lse one row at a time, for any row; arguments as lse's. */
export function lseRowwise(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * cols);
    const m = rowMax(row, cols);
    let result: f32;
    if (Mathf.abs(m) == Infinity) {
      result = rowHasNaN(row, cols) ? NaN : m;
    } else {
      const s = rowSumExp(row, 0, 0, cols, m, 1, 1, SumExp.PLAIN);
      result = <f32>(<f64>m + Math.log(s));
    }
    store<f32>(at(out, r), result);
  }
}

/** Whether any x[i], i < n, is NaN. Only rows with an infinite max come here. */
export function rowHasNaN(x: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (v != v) return true;
  }
  return false;
}
