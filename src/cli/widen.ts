// Chunked readers that turn a tensor's stored values into what the engine takes: float32
// logits (float16 and bfloat16 widened here, in JS, exactly) and int32 class indices
// (int64 narrowed, refusing values that do not fit).

import { InputError } from './errors.js';
import { label, type OpenFile, type TensorInfo } from './files.js';
import { fromFloat16 } from '../reference/rows.js';

export const LOGIT_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export const TARGET_DTYPES = ['int32', 'int64'] as const;

/** Reads elements [first, first + out.length) of a float tensor into `out` as float32. */
export class FloatReader {
  #scratch = new Uint16Array(0);

  constructor(private readonly file: OpenFile, private readonly info: TensorInfo) {
    if (!(LOGIT_DTYPES as readonly string[]).includes(info.dtype)) {
      throw new InputError(label(info), `logits are ${info.dtype}, expected one of ${LOGIT_DTYPES.join(', ')}`);
    }
  }

  read(first: number, out: Float32Array): void {
    const { dtype, byteOffset } = this.info;
    if (dtype === 'float32') {
      this.file.read(byteOffset + first * 4, new Uint8Array(out.buffer, out.byteOffset, out.length * 4));
      return;
    }
    if (this.#scratch.length < out.length) this.#scratch = new Uint16Array(out.length);
    const halves = this.#scratch.subarray(0, out.length);
    this.file.read(byteOffset + first * 2, new Uint8Array(halves.buffer, 0, halves.length * 2));
    if (dtype === 'float16') widenFloat16(halves, out);
    else widenBfloat16(halves, out);
  }
}

/** Reads elements [first, first + out.length) of an integer tensor into `out` as int32. */
export class IndexReader {
  #scratch = new Int32Array(0);

  constructor(private readonly file: OpenFile, private readonly info: TensorInfo) {
    if (!(TARGET_DTYPES as readonly string[]).includes(info.dtype)) {
      throw new InputError(label(info), `targets are ${info.dtype}, expected class indices as ${TARGET_DTYPES.join(' or ')}`);
    }
  }

  read(first: number, out: Int32Array): void {
    const { dtype, byteOffset } = this.info;
    if (dtype === 'int32') {
      this.file.read(byteOffset + first * 4, new Uint8Array(out.buffer, out.byteOffset, out.length * 4));
      return;
    }
    // int64, little-endian: the low word is the value when the high word is its sign.
    if (this.#scratch.length < 2 * out.length) this.#scratch = new Int32Array(2 * out.length);
    const words = this.#scratch;
    this.file.read(byteOffset + first * 8, new Uint8Array(words.buffer, 0, out.length * 8));
    for (let i = 0; i < out.length; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (hi !== lo >> 31) {
        const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
        throw new InputError(label(this.info), `target[${first + i}] = ${value} does not fit in 32 bits`);
      }
      out[i] = lo;
    }
  }
}

/** IEEE half -> single, for all 65536 bit patterns (exact: every half is a float32). */
let halfTable: Float32Array | undefined;

function float16Table(): Float32Array {
  halfTable ??= Float32Array.from({ length: 65536 }, (_, bits) => fromFloat16(bits));
  return halfTable;
}

export function widenFloat16(halves: Uint16Array, out: Float32Array): void {
  const table = float16Table();
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
}

/** bfloat16 is the top half of a float32: shift its bits into place. */
export function widenBfloat16(halves: Uint16Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
}
