// evaluate on the engine: one kernel call per chunk gives every row's nll, entropy, argmax and
// top k; the counted rows are reduced here in float64, overall and per segment.
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

import { XentError } from '../errors.js';
import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, describe, integerOption, sparseTarget,
} from '../options.js';
import { runRows, type Arg } from '../runner.js';
import { EVALUATE_OPTIONS, type EvaluateOptions, type EvaluateResult, type EvaluateSegment } from '../types.js';
import { logitsShape, type EngineContext, type Logits } from './logits.js';

const OP = 'evaluate';

/** topK: undefined, or an integer in [1, classes]. */
export function topKOption(op: string, value: unknown, classes: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > classes) {
    throw new XentError('BAD_OPTION', `${op}: topK must be an integer in [1, ${classes}] (the number of classes), got ${describe(value)}`);
  }
  return value;
}

/** Row offsets [0, s1, ..., rows] as an Int32Array, checked. */
export function segmentsOption(op: string, value: unknown, rows: number): Int32Array | undefined {
  if (value === undefined) return undefined;
  const expected = `row offsets [0, s1, ..., ${rows}]`;
  let offsets: Int32Array;
  if (value instanceof Int32Array) offsets = value;
  else if (Array.isArray(value)) {
    offsets = new Int32Array(value.length);
    value.forEach((v: unknown, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v !== (v | 0)) {
        throw new XentError('BAD_OPTION', `${op}: segments[${i}] = ${describe(v)} is not an integer row offset`);
      }
      offsets[i] = v;
    });
  } else {
    throw new XentError('BAD_OPTION', `${op}: segments must be an Int32Array of ${expected}, got ${describe(value)}`);
  }
  if (offsets.length < 2) {
    throw new XentError('BAD_OPTION', `${op}: segments has ${offsets.length} offset(s); expected at least two, ${expected}`);
  }
  if (offsets[0] !== 0) {
    throw new XentError('BAD_OPTION', `${op}: segments[0] = ${offsets[0]}, expected 0 (segments are ${expected})`);
  }
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!) {
      throw new XentError(
        'BAD_OPTION',
        `${op}: segments[${i}] = ${offsets[i]} is below segments[${i - 1}] = ${offsets[i - 1]}; offsets must not decrease`,
      );
    }
  }
  const last = offsets[offsets.length - 1]!;
  if (last !== rows) {
    throw new XentError('SHAPE_MISMATCH', `${op}: segments ends at ${last}, expected ${rows} (the number of rows; ${expected})`);
  }
  return offsets;
}

/** Sums over the counted rows of [from, to). */
export interface RowTotals {
  count: number;
  nll: number;
  entropy: number;
  correct: number;
}

export function rowTotals(
  from: number,
  to: number,
  target: Int32Array,
  ignoreIndex: number,
  nll: ArrayLike<number>,
  entropy: ArrayLike<number>,
  argmax: Int32Array,
): RowTotals {
  const totals = { count: 0, nll: 0, entropy: 0, correct: 0 };
  for (let r = from; r < to; r++) {
    const t = target[r]!;
    if (t === ignoreIndex) continue;
    totals.count += 1;
    totals.nll += nll[r]!;
    totals.entropy += entropy[r]!;
    if (argmax[r] === t) totals.correct += 1;
  }
  return totals;
}

/** A segment's report from its totals: means over counted rows (NaN for none). */
export function segmentOf(totals: RowTotals): EvaluateSegment {
  const loss = totals.nll / totals.count;
  return { loss, perplexity: Math.exp(loss), accuracy: totals.correct / totals.count, count: totals.count, logprob: 0 - totals.nll };
}

/** The overall numbers of the result from the totals of every row. */
export function summaryOf(totals: RowTotals) {
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

/** A Float32Array over the same bytes: runRows copies write arguments as f32, bit for bit. */
function asF32(a: Int32Array): Float32Array {
  return new Float32Array(a.buffer, a.byteOffset, a.length);
}

export function evaluate(
  ctx: EngineContext,
  logits: Logits,
  target: Int32Array | number[],
  options: EvaluateOptions = {},
): EvaluateResult {
  checkOptionKeys(OP, options, EVALUATE_OPTIONS);
  const shape = logitsShape(OP, ctx, logits, options.classes);
  const { rows, classes } = shape;
  const ignoreIndex = integerOption(OP, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const k = topKOption(OP, options.topK, classes);
  const segments = segmentsOption(OP, options.segments, rows);
  const indices = sparseTarget(OP, target, shape, ignoreIndex);

  const nll = new Float32Array(rows);
  const entropy = new Float32Array(rows);
  const argmax = new Int32Array(rows);
  const topIndices = k === undefined ? undefined : new Int32Array(rows * k);
  const topLogprobs = k === undefined ? undefined : new Float32Array(rows * k);
  const none: Arg = { none: true };
  runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.evaluate,
    args: [
      { read: logits, perRow: classes },
      { read: indices, perRow: 1 },
      { write: nll, perRow: 1 },
      { write: entropy, perRow: 1 },
      { write: asF32(argmax), perRow: 1 },
      topIndices === undefined ? none : { write: asF32(topIndices), perRow: k! },
      topLogprobs === undefined ? none : { write: topLogprobs, perRow: k! },
    ],
    rows,
    classes,
    scalars: [ignoreIndex, k ?? 0],
  });

  const result: EvaluateResult = {
    ...summaryOf(rowTotals(0, rows, indices, ignoreIndex, nll, entropy, argmax)),
    rows: { nll, entropy, argmax },
  };
  if (k !== undefined) result.topK = { k, indices: topIndices!, logprobs: topLogprobs! };
  if (segments !== undefined) {
    result.segments = [];
    for (let i = 0; i + 1 < segments.length; i++) {
      result.segments.push(segmentOf(rowTotals(segments[i]!, segments[i + 1]!, indices, ignoreIndex, nll, entropy, argmax)));
    }
  }
  return result;
}
