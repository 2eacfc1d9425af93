// logProbs on the engine: the log-probabilities of given classes, k per row, and each row's
// lse, in one kernel call per chunk (max, sum of exp, gather): no rows x classes temporary.

import { DEFAULT_IGNORE_INDEX, checkOptionKeys, integerOption, tokenIds } from '../options.js';
import { runRows } from '../runner.js';
import { LOG_PROBS_OPTIONS, type LogProbsOptions, type LogProbsResult } from '../types.js';
import { readLogits, type EngineContext, type Logits } from './logits.js';

const OP = 'logProbs';

export function logProbs(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  ids: Int32Array | number[],
  options: LogProbsOptions = {},
): LogProbsResult {
  checkOptionKeys(OP, options, LOG_PROBS_OPTIONS);
  const input = readLogits(OP, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const ignoreIndex = integerOption(OP, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const { ids: indices, k } = tokenIds(OP, ids, input.shape, ignoreIndex);
  const logprobs = new Float32Array(rows * k);
  const lse = new Float32Array(rows);
  runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.logProbs,
    args: [input.arg, { read: indices, perRow: k, own: true }, { write: logprobs, perRow: k, own: true }, { write: lse, perRow: 1, own: true }],
    rows,
    classes,
    scalars: [k, ignoreIndex],
  });
  return { logprobs, lse };
}
