// Log-probabilities of given classes: the two passes of log-sum-exp.ts per row, then a gather.

import { at } from '../math/lanes';
import { rowMax } from './rmax';
import { rowSumExp, SumExp } from './sumexp';
import { rowHasNaN } from './log-sum-exp';
import { LSE_SMALL_COLS, logProbsRows4 } from './log-sum-exp-rows4';

/**
 * For each of `rows` rows of `classes` >= 1 logits x, with m the row max and s =
 * sum_j exp(x[j] - m):
 *   logprobs[r, i] = (x[r, ids[r, i]] - m) - log s   for the k ids of the row,
 *                    -inf where ids[r, i] == ignoreIndex (padding of a ragged list),
 *   lses[r]        = m + log s, as log-sum-exp.ts gives it (torch.logsumexp, infinite max included).
 * A row whose max is infinite has NaN log-probs, as logSoftmax gives them.
 * Preconditions: every id is ignoreIndex or in [0, classes).
 * The difference and the log are taken in f64, so a log-prob near 0 keeps its digits. Rows of 4
 * to LSE_SMALL_COLS classes go four at a time (log-sum-exp-rows4.ts).
 */
export function logProbs(
  x: usize, ids: usize, logprobs: usize, lses: usize,
  rows: i32, classes: i32, k: i32, ignoreIndex: i32,
): void {
  if (classes >= 4 && classes <= LSE_SMALL_COLS) logProbsRows4(x, ids, logprobs, lses, rows, classes, k, ignoreIndex);
  else logProbsRowwise(x, ids, logprobs, lses, rows, classes, k, ignoreIndex);
}

/** logProbs one row at a time, for any row; arguments as logProbs'. */
export function logProbsRowwise(
  x: usize, ids: usize, logprobs: usize, lses: usize,
  rows: i32, classes: i32, k: i32, ignoreIndex: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * classes);
    const m = rowMax(row, classes);
    const s = rowSumExp(row, 0, 0, classes, m, 1, 1, SumExp.PLAIN);
    const logS = Math.log(s);
    const infinite = Mathf.abs(m) == Infinity;
    store<f32>(at(lses, r), infinite ? (rowHasNaN(row, classes) ? NaN : m) : <f32>(<f64>m + logS));
    for (let i = r * k, end = i + k; i < end; i++) {
      const id = load<i32>(at(ids, i));
      const logp = id == ignoreIndex ? -Infinity : (<f64>load<f32>(at(row, id)) - <f64>m) - logS;
      store<f32>(at(logprobs, i), <f32>logp);
    }
  }
}
