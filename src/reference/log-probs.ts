// Reference logProbs, float64: log softmax of each row, read at the given classes.

import { DEFAULT_IGNORE_INDEX, checkOptionKeys, integerOption, tokenIds } from '../options.js';
import { LOG_PROBS_OPTIONS, type LogProbsOptions, type LogProbsResult } from '../types.js';
import { logitValues, logitsShape, row, rowMax, sumExp, type FloatArray } from './rows.js';

export function logProbs(
  input: FloatArray | Uint16Array,
  ids: Int32Array | number[],
  options: LogProbsOptions = {},
): LogProbsResult<Float64Array> {
  const op = 'logProbs';
  checkOptionKeys(op, options, LOG_PROBS_OPTIONS);
  const logits = logitValues(op, input, options.dtype);
  const shape = logitsShape(op, logits, options.classes);
  const { rows, classes } = shape;
  const ignoreIndex = integerOption(op, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const { ids: indices, k } = tokenIds(op, ids, shape, ignoreIndex);
  const logprobs = new Float64Array(rows * k);
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = row(logits, r, classes);
    const m = rowMax(v);
    // log softmax shifts by the max even when it is infinite (NaN rows, as logSoftmax);
    // logsumexp shifts by 0 there, as torch.logsumexp (and the reference logSumExp).
    const logS = Math.log(sumExp(v, m));
    const shift = Math.abs(m) === Infinity ? 0 : m;
    lse[r] = shift + Math.log(sumExp(v, shift));
    for (let i = r * k; i < (r + 1) * k; i++) {
      const id = indices[i]!;
      logprobs[i] = id === ignoreIndex ? -Infinity : v[id]! - m - logS;
    }
  }
  return { logprobs, lse };
}
