// Class-index targets counted and checked by the engine: in wasm, four to a compare
// (assembly/kernels/class-targets.ts), on the private copy that the kernels will read.

import { countTargets, type CountTargets } from '../options.js';
import { SMALL_CALL_BYTES } from '../runner.js';
import type { EngineContext } from './logits.js';

/** Rows below which the JavaScript loop is as quick as copying into engine memory first. */
const WASM_MIN_ROWS = 256;
/** Rows checked per kernel call, through the block the engine keeps for small calls. */
const BLOCK_ROWS = SMALL_CALL_BYTES / 4;

/** The engine's CountTargets: blocks of rows copied into engine memory and counted there. */
export function engineCountTargets(ctx: EngineContext): CountTargets {
  return (indices, classes, ignoreIndex) => {
    if (indices.length < WASM_MIN_ROWS) return countTargets(indices, classes, ignoreIndex);
    const block = ctx.arena.smallCallBlock(SMALL_CALL_BYTES);
    const words = ctx.arena.words.i32;
    let count = 0;
    for (let r0 = 0; r0 < indices.length; r0 += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, indices.length - r0);
      words.set(indices.subarray(r0, r0 + rows), block >> 2);
      const counted = ctx.kernels.countClassTargets(block, rows, classes, ignoreIndex);
      if (counted < 0) return counted - r0;
      count += counted;
    }
    return count;
  };
}
