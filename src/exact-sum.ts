// An exact sum of float32 values: a fixed-point number wide enough for any sum of f32s, so
// that no addition rounds and the order of additions cannot matter. It is rounded once, when
// read. This is what makes the streaming evaluator's results independent of how rows are split
// into batches, processes and machines, and of the order states are merged in.
//
// Every finite f32 is an integer multiple of 2^-149 (its smallest subnormal) below 2^128: a
// 24-bit significand m shifted left by at most 253 bits. LIMBS limbs of 32 bits from 2^-149
// up hold 2^128 times 2^75 such values with room to spare. Each limb is a float64 that holds
// an integer exactly below 2^53; an addition adds less than 2^32 to a limb, so carries are
// propagated every CARRY_EVERY additions, and canonically (every limb in [0, 2^32) but the
// top one, which carries the sign) before the value is read or exported.

const LIMBS = 11;
const LIMB = 2 ** 32;
const CARRY_EVERY = 1 << 19;

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
/** 2^k for k < 32, and 2^-32: a table lookup and a multiply where `**` and `/` cost tens of ns. */
const POW2 = Float64Array.from({ length: 32 }, (_, k) => 2 ** k);
const INV_LIMB = 2 ** -32;

/** The plain-object form of an ExactSum: what states carry through JSON and postMessage. */
export interface ExactSumState {
  /** Canonical limbs, least significant first; the value is sum limbs[i] 2^(32 i - 149). */
  limbs: number[];
  /** Non-finite values seen: NaN, +Infinity and -Infinity. */
  nan: number;
  posInf: number;
  negInf: number;
}

export class ExactSum {
  private readonly limbs = new Float64Array(LIMBS);
  private pending = 0;
  private nan = 0;
  private posInf = 0;
  private negInf = 0;

  /** Adds x rounded to float32 (the values summed are f32 results), exactly. */
  add(x: number): void {
    float[0] = x;
    const b = bits[0]!;
    const exponent = (b >>> 23) & 0xff;
    if (exponent === 0xff) {
      if ((b & 0x7fffff) !== 0) this.nan += 1;
      else if (b >>> 31) this.negInf += 1;
      else this.posInf += 1;
      return;
    }
    // x = m 2^(offset - 149): subnormals have no implicit bit and the offset of exponent 1.
    const m = exponent === 0 ? b & 0x7fffff : (b & 0x7fffff) | 0x800000;
    if (m === 0) return;
    const offset = exponent === 0 ? 0 : exponent - 1;
    const i = offset >>> 5;
    const shifted = m * POW2[offset & 31]!; // < 2^55: exact
    const high = Math.floor(shifted * INV_LIMB);
    const low = shifted - high * LIMB;
    if (b >>> 31) {
      this.limbs[i]! -= low;
      this.limbs[i + 1]! -= high;
    } else {
      this.limbs[i]! += low;
      this.limbs[i + 1]! += high;
    }
    if (++this.pending === CARRY_EVERY) this.carry();
  }

  /** Adds another sum, or a state of one. */
  merge(other: ExactSum | ExactSumState): void {
    const state = other instanceof ExactSum ? other.state() : other;
    this.carry();
    for (let i = 0; i < LIMBS; i++) this.limbs[i]! += state.limbs[i]!;
    this.nan += state.nan;
    this.posInf += state.posInf;
    this.negInf += state.negInf;
    this.carry();
  }

  /** The sum, rounded once to the nearest float64 (ties to even). */
  value(): number {
    if (this.nan > 0 || (this.posInf > 0 && this.negInf > 0)) return NaN;
    if (this.posInf > 0) return Infinity;
    if (this.negInf > 0) return -Infinity;
    this.carry();
    let n = 0n;
    for (let i = LIMBS - 1; i >= 0; i--) n = (n << 32n) + BigInt(this.limbs[i]!);
    // Number(bigint) rounds to nearest, ties to even; the scale by a power of two is exact,
    // since a nonzero sum is at least 2^-149.
    return Number(n) * 2 ** -149;
  }

  state(): ExactSumState {
    this.carry();
    return { limbs: Array.from(this.limbs), nan: this.nan, posInf: this.posInf, negInf: this.negInf };
  }

  /** Propagates carries: every limb but the top one into [0, 2^32). */
  private carry(): void {
    const limbs = this.limbs;
    for (let i = 0; i + 1 < LIMBS; i++) {
      const c = Math.floor(limbs[i]! / LIMB);
      limbs[i]! -= c * LIMB;
      limbs[i + 1]! += c;
    }
    this.pending = 0;
  }
}

/** Whether `value` is an ExactSumState that ExactSum can merge: integers in range, canonical. */
export function isExactSumState(value: unknown): value is ExactSumState {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  const counts = [s.nan, s.posInf, s.negInf];
  if (!counts.every((c) => Number.isSafeInteger(c) && (c as number) >= 0)) return false;
  const limbs = s.limbs;
  if (!Array.isArray(limbs) || limbs.length !== LIMBS) return false;
  return limbs.every((l, i) =>
    Number.isSafeInteger(l) && (i === LIMBS - 1 ? Math.abs(l as number) < LIMB : (l as number) >= 0 && (l as number) < LIMB));
}
