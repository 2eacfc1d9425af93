// Cross-entropy over a vocabulary split by columns: each shard's partial results
// (crossEntropyShard), their merge into crossEntropy's result for the whole logits
// (mergeCrossEntropyShards, plain float64 JavaScript, no engine), and each shard's gradient
// given the merged lse (crossEntropyShardGrad). The algebra is in assembly/kernels/cross-entropy-shard.ts.

import { XentError } from '../errors.js';
import {
  DEFAULT_IGNORE_INDEX, checkOptionKeys, describe, float32Of, integerOption, numberOption, reductionOption,
  shardGradSetting, shardSetting, weightTotal, type Reduction,
} from '../options.js';
import { keepLive, runRows, type Arg } from '../runner.js';
import {
  CROSS_ENTROPY_SHARD_GRAD_OPTIONS, CROSS_ENTROPY_SHARD_OPTIONS, MERGE_CROSS_ENTROPY_SHARDS_OPTIONS,
  type CrossEntropyShardGradOptions, type CrossEntropyShardOptions, type CrossEntropyShardPart,
  type MergeCrossEntropyShardsOptions, type MergedCrossEntropy,
} from '../types.js';
import { readLogits, type EngineContext, type Logits } from './logits.js';

/** A Float32Array over the bytes of a Float64Array: runRows moves f32 values bit for bit. */
function asF32(a: Float64Array): Float32Array {
  return new Float32Array(a.buffer, a.byteOffset, a.length * 2);
}

export function crossEntropyShard(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: Int32Array | number[],
  options = {} as CrossEntropyShardOptions,
): CrossEntropyShardPart {
  const op = 'crossEntropyShard';
  checkOptionKeys(op, options, CROSS_ENTROPY_SHARD_OPTIONS);
  const input = readLogits(op, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const s = shardSetting(op, input.shape, target, options);
  const weight = options.weight === undefined ? undefined : float32Of(op, "weight (this shard's slice)", options.weight, classes);
  const weightSum = weight === undefined ? classes : weightTotal(weight);
  const part: CrossEntropyShardPart = {
    offset: s.offset, classes, totalClasses: s.totalClasses, rows, ignoreIndex: s.ignoreIndex, softcap: s.softcap,
    weighted: weight !== undefined, weightSum, target: Int32Array.from(s.target),
    max: new Float32Array(rows), sumExp: new Float64Array(rows),
    targetLogit: new Float32Array(rows), targetWeight: new Float32Array(rows),
  };
  if (s.smoothing > 0) part.gap = new Float64Array(rows);
  runRows(ctx.arena, {
    op,
    kernel: ctx.kernels.crossEntropyShard,
    args: [
      input.arg, { read: s.target, perRow: 1 }, { whole: weight },
      { write: part.max, perRow: 1 }, { write: asF32(part.sumExp), perRow: 2 }, { write: part.targetLogit, perRow: 1 },
      part.gap === undefined ? { none: true } : { write: asF32(part.gap), perRow: 2 }, { none: true },
    ],
    rows,
    classes,
    scalars: [classes, s.offset, s.ignoreIndex, weightSum, s.softcap],
  });
  for (let r = 0; r < rows; r++) {
    const local = s.target[r]! - s.offset;
    if (s.target[r] !== s.ignoreIndex && local >= 0 && local < classes) part.targetWeight[r] = weight?.[local] ?? 1;
  }
  return part;
}

export function crossEntropyShardGrad(
  ctx: EngineContext,
  logits: Logits | Uint16Array,
  target: Int32Array | number[],
  options = {} as CrossEntropyShardGradOptions,
): { grad: Float32Array } {
  const op = 'crossEntropyShardGrad';
  checkOptionKeys(op, options, CROSS_ENTROPY_SHARD_GRAD_OPTIONS);
  const input = readLogits(op, ctx, logits, options.classes, options.dtype);
  const { rows, classes } = input.shape;
  const s = shardSetting(op, input.shape, target, options);
  const g = shardGradSetting(op, input.shape, s, options);
  if (g.grad === 'inplace' && !input.f32) {
    throw new XentError('BAD_OPTION', `${op}: grad 'inplace' needs f32 logits; ${options.dtype} logits cannot hold the gradient (use grad: true)`);
  }
  const out = g.grad === 'new' ? new Float32Array(rows * classes) : g.grad === 'inplace' ? (logits as Logits) : g.grad;
  const gradArg: Arg = { write: out, perRow: classes, over: 0, name: 'grad' };
  const result = keepLive(ctx.arena, out);
  runRows(ctx.arena, {
    op,
    kernel: ctx.kernels.crossEntropyShardGrad,
    args: [input.arg, { read: s.target, perRow: 1 }, { whole: g.weight }, { read: asF32(g.lse), perRow: 2 }, { none: true }, { none: true }, { none: true }, gradArg],
    rows,
    classes,
    scalars: [classes, s.offset, s.totalClasses, s.ignoreIndex, g.weightTotal, s.smoothing, g.zLoss, s.softcap, g.ceScale, g.zScale],
  });
  return { grad: result() };
}

/** The parts ordered by offset, checked to tile [0, totalClasses) over the same rows and targets. */
function orderedParts<A extends ArrayLike<number>>(op: string, parts: unknown, ignoreIndex: number, smoothing: number): CrossEntropyShardPart<A>[] {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new XentError('BAD_OPTION', `${op}: parts must be a non-empty array of crossEntropyShard results, got ${describe(parts)}`);
  }
  parts.forEach((p: unknown, i) => {
    const part = p as CrossEntropyShardPart<A>;
    const rowsOk = part !== null && typeof part === 'object' && Number.isInteger(part.rows) && part.target instanceof Int32Array &&
      [part.max, part.sumExp, part.targetLogit, part.targetWeight].every((a) => ArrayBuffer.isView(a) && (a as ArrayLike<number>).length === part.rows) &&
      (part.gap === undefined || part.gap.length === part.rows) && part.target.length === part.rows;
    if (!rowsOk) throw new XentError('SHAPE_MISMATCH', `${op}: parts[${i}] is not a crossEntropyShard result (${describe(p)} with fields of the wrong type or length)`);
  });
  const sorted = [...(parts as CrossEntropyShardPart<A>[])].sort((a, b) => a.offset - b.offset);
  const first = sorted[0]!;
  let end = 0;
  for (const part of sorted) {
    const where = `the part at offset ${part.offset}`;
    if (part.totalClasses !== first.totalClasses) {
      throw new XentError('SHAPE_MISMATCH', `${op}: ${where} has totalClasses ${part.totalClasses}, another has ${first.totalClasses}`);
    }
    if (part.rows !== first.rows) throw new XentError('SHAPE_MISMATCH', `${op}: ${where} has ${part.rows} rows, another has ${first.rows}`);
    if (part.offset < end) throw new XentError('SHAPE_MISMATCH', `${op}: ${where} overlaps the classes before it, which end at ${end}`);
    if (part.offset > end) throw new XentError('SHAPE_MISMATCH', `${op}: no part holds classes [${end}, ${part.offset})`);
    end = part.offset + part.classes;
    if (part.ignoreIndex !== ignoreIndex) {
      throw new XentError('BAD_OPTION', `${op}: ${where} was computed with ignoreIndex ${part.ignoreIndex}, the merge has ${ignoreIndex}`);
    }
    if (part.softcap !== first.softcap || part.weighted !== first.weighted) {
      throw new XentError('BAD_OPTION', `${op}: ${where} was computed with softcap ${part.softcap} and ${part.weighted ? '' : 'no '}weights, another with softcap ${first.softcap} and ${first.weighted ? '' : 'no '}weights`);
    }
    if (smoothing > 0 && part.gap === undefined) {
      throw new XentError('BAD_OPTION', `${op}: labelSmoothing ${smoothing} needs parts computed with labelSmoothing > 0; ${where} was not`);
    }
    for (let r = 0; r < first.rows; r++) {
      if (part.target[r] !== first.target[r]) {
        throw new XentError('SHAPE_MISMATCH', `${op}: ${where} has target[${r}] = ${part.target[r]}, another has ${first.target[r]}`);
      }
    }
  }
  if (end !== first.totalClasses) throw new XentError('SHAPE_MISMATCH', `${op}: no part holds classes [${end}, ${first.totalClasses})`);
  return sorted;
}

/**
 * crossEntropy's result for the whole logits from the parts of all its shards, in any order:
 * sorted by offset first, and each row's terms added in that order, so the bits do not depend
 * on the order the parts arrived in. Float64 throughout; the per-row arrays are Float64Array.
 */
export function mergeCrossEntropyShards<A extends ArrayLike<number>>(
  parts: readonly CrossEntropyShardPart<A>[],
  options: MergeCrossEntropyShardsOptions = {},
): MergedCrossEntropy {
  const op = 'mergeCrossEntropyShards';
  checkOptionKeys(op, options, MERGE_CROSS_ENTROPY_SHARDS_OPTIONS);
  const reduction: Reduction = reductionOption(op, options.reduction, ['mean', 'sum'] as const, 'mean');
  const ignoreIndex = integerOption(op, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  const eps = numberOption(op, 'labelSmoothing', options.labelSmoothing, 0, { min: 0, max: 1 });
  const zCoef = numberOption(op, 'zLoss', options.zLoss, 0);
  const sorted = orderedParts<A>(op, parts, ignoreIndex, eps);
  return mergeOrderedParts(sorted, { ignoreIndex, smoothing: eps, zLoss: zCoef, mean: reduction === 'mean' });
}

/**
 * mergeCrossEntropyShards on parts already checked and ordered by offset. With `apart`, each
 * row's merged max M and log S (lse = M + log S) are also written there, for
 * crossEntropyShardGrad's logSums (cross-entropy-columns.ts).
 */
export function mergeOrderedParts<A extends ArrayLike<number>>(
  sorted: readonly CrossEntropyShardPart<A>[],
  s: { ignoreIndex: number; smoothing: number; zLoss: number; mean: boolean },
  apart?: { max: Float64Array; logSum: Float64Array },
): MergedCrossEntropy {
  const { ignoreIndex, smoothing: eps, zLoss: zCoef } = s;
  const { rows, totalClasses, target } = sorted[0]!;
  const losses = new Float64Array(rows);
  const lse = new Float64Array(rows);
  let ceSum = 0, zSum = 0, count = 0, denominator = 0;
  for (let r = 0; r < rows; r++) {
    const t = target[r]!;
    if (t === ignoreIndex) continue;
    let m = -Infinity;
    for (const part of sorted) m = Math.max(m, part.max[r]!);
    let s = 0;
    for (const part of sorted) s += part.sumExp[r]! * Math.exp(part.max[r]! - m);
    const logS = Math.log(s);
    const owner = sorted.find((part) => t < part.offset + part.classes)!;
    const wt = owner.targetWeight[r]!;
    // lse - v[t] as (m - v[t]) + log s, and the smoothing sum as non-negative terms (cross-entropy-shard.ts).
    let ce = (1 - eps) * wt * ((m - owner.targetLogit[r]!) + logS);
    if (eps > 0) {
      let spread = 0;
      for (const part of sorted) spread += part.gap![r]! + part.weightSum * ((m - part.max[r]!) + logS);
      ce += (eps / totalClasses) * spread;
    }
    lse[r] = m + logS;
    if (apart !== undefined) {
      apart.max[r] = m;
      apart.logSum[r] = logS;
    }
    const z = zCoef === 0 ? 0 : zCoef * lse[r]! * lse[r]!;
    losses[r] = ce + z;
    ceSum += ce;
    zSum += z;
    count += 1;
    denominator += wt;
  }
  const { mean } = s;
  const zLoss = zCoef === 0 ? 0 : mean ? zSum / count : zSum;
  return { loss: (mean ? ceSum / denominator : ceSum) + zLoss, losses, lse, zLoss, count, denominator };
}
