// Reference one-pass evaluation, float64: per row the negative log-likelihood of the target,
// the predictive entropy, the argmax and the top k, then means over counted rows, overall and
// per segment. Stage by stage as in assembly/kernels/evaluate.ts; the decisions about ignored
// rows and empty segments are documented in src/ops/evaluate.ts.

import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, integerOption, segmentsOption, sequenceTarget, topKOption,
} from '../options.js';
import { EVALUATE_OPTIONS, type EvaluateOptions, type EvaluateResult, type EvaluateSegment } from '../types.js';
import { logitValues, logitsShape, row, type FloatArray } from './rows.js';

const OP = 'evaluate';

/**
 * Rank order of two classes of a row: the larger value first, NaN above every number (as
 * torch.argmax), and the lower index first between equals.
 */
function byRank(v: FloatArray): (a: number, b: number) => number {
  return (a, b) => {
    const va = v[a]!, vb = v[b]!;
    if (Number.isNaN(va) || Number.isNaN(vb)) {
      if (Number.isNaN(va) && Number.isNaN(vb)) return a - b;
      return Number.isNaN(va) ? -1 : 1;
    }
    return va !== vb ? vb - va : a - b;
  };
}

export function evaluate(
  input: FloatArray | Uint16Array,
  target: Int32Array | number[],
  options: EvaluateOptions = {},
): EvaluateResult<Float64Array> {
  checkOptionKeys(OP, options, EVALUATE_OPTIONS);
  const logits = logitValues(OP, input, options.dtype);
  const shape = logitsShape(OP, logits, options.classes);
  const { rows, classes } = shape;
  const ignoreIndex = integerOption(OP, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const k = topKOption(OP, options.topK, classes);
  const segments = segmentsOption(OP, options.segments, rows);
  const indices = sequenceTarget(OP, target, shape, ignoreIndex, options);

  const nll = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  const argmax = new Int32Array(rows);
  const topIndices = new Int32Array(rows * (k ?? 0));
  const topLogprobs = new Float64Array(rows * (k ?? 0));
  for (let r = 0; r < rows; r++) {
    const v = row(logits, r, classes);
    // The classes in rank order; the first is the argmax and its value the max m.
    const order = Array.from({ length: classes }, (_, j) => j).sort(byRank(v));
    const m = v[order[0]!]!;
    argmax[r] = order[0]!;
    // s = sum_j e[j], e[j] = exp(x[j] - m); spread = sum_j e[j] (x[j] - m), where e[j] = 0
    // adds nothing (PyTorch's entr(0) = 0, also for a -inf logit).
    let s = 0, spread = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp(v[j]! - m);
      s += e;
      if (e !== 0) spread += e * (v[j]! - m);
    }
    const logS = Math.log(s);
    entropy[r] = logS - spread / s;
    const t = indices[r]!;
    nll[r] = t === ignoreIndex ? 0 : m - v[t]! + logS;
    for (let j = 0; j < (k ?? 0); j++) {
      topIndices[r * k! + j] = order[j]!;
      topLogprobs[r * k! + j] = v[order[j]!]! - m - logS;
    }
  }

  // Means over the counted rows of [from, to), summed in float64 in row order.
  const over = (from: number, to: number) => {
    let count = 0, nllSum = 0, entropySum = 0, correct = 0;
    for (let r = from; r < to; r++) {
      if (indices[r] === ignoreIndex) continue;
      count += 1;
      nllSum += nll[r]!;
      entropySum += entropy[r]!;
      if (argmax[r] === indices[r]) correct += 1;
    }
    return { count, nll: nllSum / count, entropy: entropySum / count, accuracy: correct / count, logprob: 0 - nllSum };
  };
  const all = over(0, rows);
  const result: EvaluateResult<Float64Array> = {
    loss: all.nll,
    perplexity: Math.exp(all.nll),
    bitsPerToken: all.nll / Math.LN2,
    accuracy: all.accuracy,
    entropy: all.entropy,
    count: all.count,
    rows: { nll, entropy, argmax },
  };
  if (k !== undefined) result.topK = { k, indices: topIndices, logprobs: topLogprobs };
  if (segments !== undefined) {
    result.segments = [];
    for (let i = 0; i + 1 < segments.length; i++) {
      const s = over(segments[i]!, segments[i + 1]!);
      const segment: EvaluateSegment = { loss: s.nll, perplexity: Math.exp(s.nll), accuracy: s.accuracy, count: s.count, logprob: s.logprob };
      result.segments.push(segment);
    }
  }
  return result;
}
