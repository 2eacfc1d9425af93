// evaluate on the engine: one kernel call per chunk gives every row's nll, entropy, argmax and
// top k; the counted rows are reduced here with exact sums (exact-sum.ts), overall and per
// segment, so that the streaming evaluator (evaluator.ts) gives the same bits.
//
// Decisions where PyTorch has no single answer:
// - An ignored row (target = ignoreIndex) has nll 0, but its entropy, argmax and top k are
//   computed like any other row's: they describe the prediction, which exists whatever the
//   target. Every reduction (loss, accuracy, entropy, count, segments) covers counted rows only.
// - No counted row: loss, perplexity, bitsPerToken, accuracy and entropy are NaN (a mean over
//   nothing, as PyTorch's 'mean'), count 0; a segment's logprob is then 0 (an empty sum).
// - segments are row offsets [0, s1, ..., rows]: at least two, starting at 0, ending at rows,
//   never decreasing (SHAPE_MISMATCH when they do not end at rows, BAD_OPTION for the rest).
//   A repeated offset is an empty segment and is allowed (an empty document or candidate in a
//   batch); it reports count 0 and NaN means, as above.

import { ExactSum } from '../exact-sum.js';
import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, integerOption, segmentsOption, sequenceTarget, topKOption,
} from '../options.js';
import { runRows, type Arg } from '../runner.js';
import {
  EVALUATE_OPTIONS, type EvaluateOptions, type EvaluateResult, type EvaluateSegment, type SequenceOptions,
} from '../types.js';
import { readLogits, type Dtype, type EngineContext, type Logits } from './logits.js';

const OP = 'evaluate';

/**
 * Totals over counted rows: counts, and the nll and entropy sums, exact (exact-sum.ts), so
 * they do not depend on the order rows arrive in. What evaluate, the evaluator and merged
 * evaluation states reduce.
 */
export class RowTotals {
  count = 0;
  correct = 0;
  /** Rows whose target is among the top k (only when k is given). */
  topKCorrect = 0;
  readonly nll = new ExactSum();
  readonly entropy = new ExactSum();

  /** Adds the counted rows of [from, to) of one scored batch. */
  add(scored: ScoredRows, from = 0, to = scored.indices.length): void {
    const { indices, ignoreIndex, nll, entropy, argmax, topIndices, k } = scored;
    let count = 0, correct = 0, topKCorrect = 0;
    for (let r = from; r < to; r++) {
      const t = indices[r]!;
      if (t === ignoreIndex) continue;
      count += 1;
      this.nll.add(nll[r]!);
      this.entropy.add(entropy[r]!);
      // Whether the target is the argmax, and among the top k, without a branch: a counted
      // row's target and the indices are in [0, classes), so (a ^ t) - 1 is negative only for
      // a = t. Branches that go either way at random cost 3 ns a row (14.4 against 11.4 ns at
      // V = 10, top 5).
      correct += ((argmax[r]! ^ t) - 1) >>> 31;
      if (topIndices !== undefined) {
        let hit = 0;
        for (let j = r * k; j < (r + 1) * k; j++) hit |= ((topIndices[j]! ^ t) - 1) >>> 31;
        topKCorrect += hit;
      }
    }
    this.count += count;
    this.correct += correct;
    this.topKCorrect += topKCorrect;
  }
}

/** A segment's report from its totals: means over counted rows (NaN for none). */
export function segmentOf(totals: RowTotals): EvaluateSegment {
  const nll = totals.nll.value();
  const loss = nll / totals.count;
  return { loss, perplexity: Math.exp(loss), accuracy: totals.correct / totals.count, count: totals.count, logprob: 0 - nll };
}

/** The overall numbers of a result from its totals. */
export function summaryOf(totals: { count: number; correct: number; nll: number; entropy: number }) {
  const loss = totals.nll / totals.count;
  return {
    loss,
    perplexity: Math.exp(loss),
    bitsPerToken: loss / Math.LN2,
    accuracy: totals.correct / totals.count,
    entropy: totals.entropy / totals.count,
    count: totals.count,
  };
}

/** One kernel pass over a batch: every row's results, and the targets they were scored against. */
export interface ScoredRows {
  rows: number;
  classes: number;
  /** The class index each row was scored against (after shift and mask), or ignoreIndex. */
  indices: Int32Array;
  ignoreIndex: number;
  nll: Float32Array;
  entropy: Float32Array;
  argmax: Int32Array;
  k: number;
  topIndices: Int32Array | undefined;
  topLogprobs: Float32Array | undefined;
}

/** What scoreRows reads of evaluate's and evaluator.add's options. */
export interface ScoreOptions extends SequenceOptions {
  classes?: number;
  dtype?: Dtype;
  ignoreIndex?: number;
  topK?: number;
}

/** Validates a batch and runs the evaluate kernel over it. */
export function scoreRows(
  op: string,
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: unknown,
  options: ScoreOptions,
): ScoredRows {
  const input = readLogits(op, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const ignoreIndex = integerOption(op, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const k = topKOption(op, options.topK, classes) ?? 0;
  const indices = sequenceTarget(op, target, input.shape, ignoreIndex, options);

  const nll = new Float32Array(rows);
  const entropy = new Float32Array(rows);
  const argmax = new Int32Array(rows);
  const topIndices = k === 0 ? undefined : new Int32Array(rows * k);
  const topLogprobs = k === 0 ? undefined : new Float32Array(rows * k);
  const none: Arg = { none: true };
  runRows(ctx.arena, {
    op,
    kernel: ctx.kernels.evaluate,
    args: [
      input.arg,
      { read: indices, perRow: 1, own: true },
      { write: nll, perRow: 1, own: true },
      { write: entropy, perRow: 1, own: true },
      { write: asF32(argmax), perRow: 1, own: true },
      topIndices === undefined ? none : { write: asF32(topIndices), perRow: k },
      topLogprobs === undefined ? none : { write: topLogprobs, perRow: k },
    ],
    rows,
    classes,
    scalars: [ignoreIndex, k],
  });
  return { rows, classes, indices, ignoreIndex, nll, entropy, argmax, k, topIndices, topLogprobs };
}

/** A Float32Array over the same bytes: runRows copies write arguments as f32, bit for bit. */
function asF32(a: Int32Array): Float32Array {
  return new Float32Array(a.buffer, a.byteOffset, a.length);
}

export function evaluate(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: Int32Array | number[],
  options: EvaluateOptions = {},
): EvaluateResult {
  checkOptionKeys(OP, options, EVALUATE_OPTIONS);
  const scored = scoreRows(OP, ctx, logits, target, options);
  const segments = segmentsOption(OP, options.segments, scored.rows);
  const totals = new RowTotals();
  totals.add(scored);
  const { nll, entropy, argmax, k, topIndices, topLogprobs } = scored;
  const result: EvaluateResult = {
    ...summaryOf({ ...totals, nll: totals.nll.value(), entropy: totals.entropy.value() }),
    rows: { nll, entropy, argmax },
  };
  if (k > 0) result.topK = { k, indices: topIndices!, logprobs: topLogprobs! };
  if (segments !== undefined) {
    result.segments = [];
    for (let i = 0; i + 1 < segments.length; i++) {
      const part = new RowTotals();
      part.add(scored, segments[i]!, segments[i + 1]!);
      result.segments.push(segmentOf(part));
    }
  }
  return result;
}
