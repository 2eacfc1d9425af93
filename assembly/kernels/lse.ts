// Row log-sum-exp, as torch.logsumexp computes it.

import { at } from '../math/lanes';
import { rowMax } from './rmax';
import { rowSumExp } from './sumexp';

/**
 * out[r] = log sum_j exp(x[r, j]) for each of `rows` rows of `cols` >= 1 values.
 * Shifted by the row max, except where the max is infinite: there torch.logsumexp
 * shifts by 0, so a row holding +inf gives +inf and a row of -inf gives -inf.
 */
export function lse(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * cols);
    let m = rowMax(row, cols);
    if (Mathf.abs(m) == Infinity) m = 0;
    const s = rowSumExp(row, 0, 0, cols, m, 1, 1, false, false, false, false);
    store<f32>(at(out, r), <f32>(<f64>m + Math.log(s)));
  }
}
