// Reference vocabulary shards, float64: a shard's partial results and its gradient, in plain
// loops over the shard's columns. The merge is mergeCrossEntropyShards of src/ops/shards.ts,
// float64 JavaScript already, which takes these parts as well as the engine's.

import { checkOptionKeys, float32Of, shardGradSetting, shardSetting } from '../options.js';
import {
  CROSS_ENTROPY_SHARD_GRAD_OPTIONS, CROSS_ENTROPY_SHARD_OPTIONS, type CrossEntropyShardGradOptions,
  type CrossEntropyShardOptions, type CrossEntropyShardPart,
} from '../types.js';
import { logitValues, logitsShape, row, rowMax, softcap, sumExp, type FloatArray } from './rows.js';

export { mergeCrossEntropyShards } from '../ops/shards.js';

/** The checked options, logits and placement of a shard. */
function readShard(
  op: string,
  input: FloatArray | Uint16Array,
  target: unknown,
  options: CrossEntropyShardOptions | CrossEntropyShardGradOptions,
  allowed: readonly string[],
) {
  checkOptionKeys(op, options, allowed);
  const logits = logitValues(op, input, options.dtype);
  const shape = logitsShape(op, logits, options.classes);
  return { logits, shape, s: shardSetting(op, shape, target, options) };
}

/** A shard's per-row partial results (see CrossEntropyShardPart), in float64. */
export function crossEntropyShard(
  input: FloatArray | Uint16Array,
  target: Int32Array | number[],
  options = {} as CrossEntropyShardOptions,
): CrossEntropyShardPart<Float64Array> {
  const op = 'crossEntropyShard';
  const { logits, shape, s } = readShard(op, input, target, options, CROSS_ENTROPY_SHARD_OPTIONS);
  const { rows, classes } = shape;
  const weight = options.weight === undefined ? undefined : float32Of(op, "weight (this shard's slice)", options.weight, classes);
  const w = (c: number) => (weight === undefined ? 1 : weight[c]!);
  let weightSum = 0;
  for (let c = 0; c < classes; c++) weightSum += w(c);
  const part: CrossEntropyShardPart<Float64Array> = {
    offset: s.offset, classes, totalClasses: s.totalClasses, rows, ignoreIndex: s.ignoreIndex, softcap: s.softcap,
    weighted: weight !== undefined, weightSum, target: Int32Array.from(s.target),
    max: new Float64Array(rows), sumExp: new Float64Array(rows),
    targetLogit: new Float64Array(rows), targetWeight: new Float64Array(rows),
  };
  if (s.smoothing > 0) part.gap = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const t = s.target[r]!;
    if (t === s.ignoreIndex) continue;
    const v = Array.from(row(logits, r, classes), (x) => (s.softcap > 0 ? softcap(x, s.softcap) : x));
    const m = rowMax(v);
    part.max[r] = m;
    // A shard of -inf logits adds nothing to the sum, and +inf to each class's -log p.
    part.sumExp[r] = m === -Infinity ? 0 : sumExp(v, m);
    if (part.gap !== undefined) {
      let gap = 0;
      for (let c = 0; c < classes; c++) gap += w(c) * (m === -Infinity ? Infinity : m - v[c]!);
      part.gap[r] = gap;
    }
    const local = t - s.offset;
    if (local >= 0 && local < classes) {
      part.targetLogit[r] = v[local]!;
      part.targetWeight[r] = w(local);
    }
  }
  return part;
}

/** The gradient of the merged loss with respect to the shard's logits, in float64. */
export function crossEntropyShardGrad(
  input: FloatArray | Uint16Array,
  target: Int32Array | number[],
  options = {} as CrossEntropyShardGradOptions,
): { grad: Float64Array | Float32Array } {
  const op = 'crossEntropyShardGrad';
  const { logits, shape, s } = readShard(op, input, target, options, CROSS_ENTROPY_SHARD_GRAD_OPTIONS);
  const { rows, classes } = shape;
  const g = shardGradSetting(op, shape, s, options);
  const out = g.grad === 'new' ? new Float64Array(rows * classes) : g.grad === 'inplace' ? (input as Float32Array) : g.grad;
  const w = (c: number) => (g.weight === undefined ? 1 : g.weight[c]!);
  const eps = s.smoothing;
  const C = s.totalClasses;
  for (let r = 0; r < rows; r++) {
    const t = s.target[r]!;
    const x = Array.from(row(logits, r, classes));
    for (let j = 0; j < classes; j++) {
      if (t === s.ignoreIndex) {
        out[r * classes + j] = 0;
        continue;
      }
      // d/dv[c] of sum_k w[k] q'[k] (lse - v[k]) + zLoss lse^2, q' = (1 - eps) onehot(t) + eps / C
      const c = s.offset + j;
      const v = s.softcap > 0 ? softcap(x[j]!, s.softcap) : x[j]!;
      const p = Math.exp(v - g.lse[r]!);
      const mass = (1 - eps) * w(t) + (eps / C) * g.weightTotal;
      const q = (c === t ? 1 - eps : 0) + eps / C;
      let d = g.ceScale * (mass * p - w(c) * q) + g.zScale * 2 * g.zLoss * g.lse[r]! * p;
      if (s.softcap > 0) d *= 1 - (v / s.softcap) ** 2;
      out[r * classes + j] = d;
    }
  }
  return { grad: out };
}
