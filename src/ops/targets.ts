// Targets checked by the engine in wasm, four to a compare (assembly/kernels/targets.ts), a
// block of values at a time through the block the engine keeps for small calls: class indices
// on the private copy that the kernels will read, and probabilities.

import { countTargets, firstOutsideUnit32, type CountTargets, type FirstOutsideUnit } from '../options.js';
import { SMALL_BLOCK_BYTES } from '../memory.js';
import type { EngineContext } from './logits.js';

/** Values below which the JavaScript loop is as quick as copying into engine memory first. */
const WASM_MIN_VALUES = 256;
/** Values checked per kernel call. */
const BLOCK_VALUES = SMALL_BLOCK_BYTES / 4;

/** The engine's CountTargets: blocks of rows copied into engine memory and counted there. */
export function engineCountTargets(ctx: EngineContext): CountTargets {
  return (indices, classes, ignoreIndex) => {
    if (indices.length < WASM_MIN_VALUES) return countTargets(indices, classes, ignoreIndex);
    const block = ctx.arena.smallCallBlock();
    const words = ctx.arena.words.i32;
    let count = 0;
    for (let r0 = 0; r0 < indices.length; r0 += BLOCK_VALUES) {
      const rows = Math.min(BLOCK_VALUES, indices.length - r0);
      words.set(indices.subarray(r0, r0 + rows), block >> 2);
      const counted = ctx.kernels.countClassTargets(block, rows, classes, ignoreIndex);
      if (counted < 0) return counted - r0;
      count += counted;
    }
    return count;
  };
}

/** The engine's FirstOutsideUnit: blocks of values copied into engine memory and checked there. */
export function engineFirstOutsideUnit(ctx: EngineContext): FirstOutsideUnit {
  return (t) => {
    if (t.length < WASM_MIN_VALUES) return firstOutsideUnit32(t);
    // A view of engine memory (a tensor's data) is checked where it is.
    if (t.buffer === ctx.arena.buffer) return ctx.kernels.firstOutsideUnit(t.byteOffset, t.length);
    const block = ctx.arena.smallCallBlock();
    const words = ctx.arena.words.f32;
    for (let i0 = 0; i0 < t.length; i0 += BLOCK_VALUES) {
      const n = Math.min(BLOCK_VALUES, t.length - i0);
      words.set(t.subarray(i0, i0 + n), block >> 2);
      const i = ctx.kernels.firstOutsideUnit(block, n);
      if (i >= 0) return i0 + i;
    }
    return -1;
  };
}
