// crossEntropy on rows too few to share out evenly among threads (runner.ts unevenRows: one
// row of 262144 on 2 threads, or 3 of 128256): each row's columns are split among the calling
// thread and the workers, as a vocabulary is among the shards of shards.ts. Each thread
// computes its columns' max, sum of exps and target logit (crossEntropyShard, keeping the exps
// in the gradient buffer), the calling thread merges them into each row's lse and loss
// (shards.ts mergeOrderedParts), and each thread scales its columns' exps into the gradient
// (crossEntropyShardGrad). The split depends on the thread count alone and the merge adds the
// parts in column order, so a given thread count always gives the same bits.

import type { Kernels } from '../kernels.js';
import { align, type Arena } from '../memory.js';
import type { ColumnSplit } from '../runner.js';
import type { WorkerPool } from '../threads/pool.js';
import type { CrossEntropyShardPart } from '../types.js';
import type { CrossEntropySetting } from './cross-entropy.js';
import { mergeOrderedParts } from './shards.js';

/** Parts start at multiples of this many columns: whole vectors, unrolled four times. */
const PART_ALIGN = 16;

/** One thread's columns [offset, offset + classes). */
interface Part {
  offset: number;
  classes: number;
  /** Sum of the part's class weights (its classes when there are none). */
  weightSum: number;
}

/**
 * The column split of crossEntropy's kernel call (class-index targets): its pointers are
 * those of the crossEntropy kernel, (x, target, weight, grad, losses, lses).
 */
export function crossEntropyColumns(kernels: Kernels, s: CrossEntropySetting, classes: number): ColumnSplit {
  const partsFor = (threads: number): Part[] => {
    const width = Math.ceil(classes / threads / PART_ALIGN) * PART_ALIGN;
    const parts: Part[] = [];
    for (let offset = 0; offset < classes; offset += width) {
      const n = Math.min(width, classes - offset);
      let weightSum = n;
      if (s.weight !== undefined) {
        weightSum = 0;
        for (let c = offset; c < offset + n; c++) weightSum += s.weight[c]!;
      }
      parts.push({ offset, classes: n, weightSum });
    }
    return parts;
  };
  // Per part and row: max (f32), sum of exps (f64), target logit (f32), smoothing gap (f64);
  // then each row's merged max and log-sum (f64).
  const rowBytes = (rows: number) => align(rows * 8);
  return {
    bytes: (rows, threads) => (threads * 4 + 2) * rowBytes(rows),
    run(arena: Arena, pool: WorkerPool, scratch: number, pointers: readonly number[], rows: number, alongside?: () => void) {
      const [x, target, weight, grad, losses, lses] = pointers as [number, number, number, number, number, number];
      const threads = pool.size + 1;
      const split = partsFor(threads);
      const at = (p: number, field: number) => scratch + (p * 4 + field) * rowBytes(rows);
      const mergedMax = scratch + threads * 4 * rowBytes(rows), mergedLogSum = mergedMax + rowBytes(rows);
      const smooth = s.smoothing > 0;
      pool.run(kernels.crossEntropyShard, split.map((part, p) => [
        x + part.offset * 4, target, weight === 0 ? 0 : weight + part.offset * 4,
        at(p, 0), at(p, 1), at(p, 2), smooth ? at(p, 3) : 0, grad === 0 ? 0 : grad + part.offset * 4,
        rows, part.classes, classes, part.offset, s.ignoreIndex, part.weightSum, s.softcap,
      ]), rows * classes, alongside);

      const buffer = arena.memory.buffer;
      const targets = arena.i32(target, rows);
      const apart = { max: new Float64Array(buffer, mergedMax, rows), logSum: new Float64Array(buffer, mergedLogSum, rows) };
      const merged = mergeOrderedParts(split.map((part, p): CrossEntropyShardPart => {
        const targetWeight = new Float32Array(rows);
        for (let r = 0; r < rows; r++) {
          const local = targets[r]! - part.offset;
          if (targets[r] !== s.ignoreIndex && local >= 0 && local < part.classes) targetWeight[r] = s.weight?.[targets[r]!] ?? 1;
        }
        return {
          offset: part.offset, classes: part.classes, totalClasses: classes, rows, ignoreIndex: s.ignoreIndex,
          softcap: s.softcap, weighted: s.weight !== undefined, weightSum: part.weightSum, target: targets,
          max: new Float32Array(buffer, at(p, 0), rows), sumExp: new Float64Array(buffer, at(p, 1), rows),
          targetLogit: new Float32Array(buffer, at(p, 2), rows), targetWeight,
          gap: smooth ? new Float64Array(buffer, at(p, 3), rows) : undefined,
        };
      }), { ignoreIndex: s.ignoreIndex, smoothing: s.smoothing, zLoss: 0, mean: false }, apart);
      arena.f32(losses, rows).set(merged.losses);
      arena.f32(lses, rows).set(merged.lse);
      if (grad === 0) return;

      pool.run(kernels.crossEntropyShardGrad, split.map((part, p) => [
        x + part.offset * 4, target, weight, mergedMax, mergedLogSum, at(p, 0), at(p, 2), grad + part.offset * 4,
        rows, part.classes, classes, part.offset, classes, s.ignoreIndex, s.weightTotal,
        s.smoothing, s.zLoss, s.softcap, s.ceScale, s.zScale,
      ]), rows * classes);
    },
  };
}
