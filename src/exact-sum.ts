// An exact sum of float32 values: a fixed-point number wide enough for any sum of f32s, so
// that no addition rounds and the order of additions cannot matter. It is rounded once, when
// read. This is what makes the streaming evaluator's results independent of how rows are split
// into batches, processes and machines, and of the order states are merged in.
//
// Every finite f32 is an integer multiple of 2^-149 (its smallest subnormal) below 2^128: a
// 24-bit significand m shifted left by at most 253 bits. LIMBS limbs of 32 bits from 2^-149
// up hold 2^128 times 2^75 such values with room to spare. Each limb is a float64 that holds
// an integer exactly below 2^53, and is brought back into [0, 2^32) (the top one, which carries
// the sign, into (-2^32, 2^32)) before the value is read or exported.
//
// An addition does not touch the limbs: it adds the value to a float64 kept for its group of
// 2^GROUP_BITS exponents, where it is exact. The values of group g are multiples of
// u = 2^(max(8 g, 1) - 150) below 2^31 u, so 2^FOLD_BITS of them sum to an integer multiple of u
// below 2^53 u; the groups are folded into the limbs before that (and before a read). One
// float64 addition per value instead of two limb updates: 2.6 ns per value against 4.0.

const LIMBS = 11;
const LIMB = 2 ** 32;
const GROUP_BITS = 3;
const GROUPS = 256 >> GROUP_BITS;
const FOLD_BITS = 21;
const FOLD_EVERY = 2 ** FOLD_BITS;

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
/** 2^-32 and 2^-64: multiplies, where `/` costs tens of ns. */
const INV_LIMB = 2 ** -32;
const INV_LIMB2 = 2 ** -64;
/**
 * Zeros in a plain array of unboxed doubles (V8's PACKED_DOUBLE kind, which the 0.5 fixes), as
 * limbs and groups start: a Float64Array does the same sums, but making one costs more than
 * a short segment's whole evaluation (evaluate at 65536 x 10 with 16384 segments of 4 rows:
 * 41 ms with Float64Array limbs and no groups, 25 with these limbs and groups).
 */
const ZEROS: number[] = Array.from({ length: GROUPS }, () => 0.5).fill(0);

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
  private readonly limbs = ZEROS.slice(0, LIMBS);
  /** Pending sums by exponent group; `pending` counts the values added to them. */
  private readonly groups = ZEROS.slice(0, GROUPS);
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
    this.groups[exponent >>> GROUP_BITS]! += float[0]!;
    if (++this.pending === FOLD_EVERY) this.fold();
  }

  /** Adds another sum, or a state of one. */
  merge(other: ExactSum | ExactSumState): void {
    const state = other instanceof ExactSum ? other.state() : other;
    this.fold();
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
    this.fold();
    let n = 0n;
    for (let i = LIMBS - 1; i >= 0; i--) n = (n << 32n) + BigInt(this.limbs[i]!);
    // Number(bigint) rounds to nearest, ties to even; the scale by a power of two is exact,
    // since a nonzero sum is at least 2^-149.
    return Number(n) * 2 ** -149;
  }

  state(): ExactSumState {
    this.fold();
    return { limbs: Array.from(this.limbs), nan: this.nan, posInf: this.posInf, negInf: this.negInf };
  }

  /** Moves the groups' sums into the limbs, exactly, and propagates carries. */
  private fold(): void {
    const limbs = this.limbs;
    for (let g = 0; g < GROUPS; g++) {
      const sum = this.groups[g]!;
      if (sum === 0) continue;
      this.groups[g] = 0;
      // sum = q 2^(offset - 149) for an integer q, |q| < 2^53: in units of limb offset >> 5 it
      // is |q| 2^(offset & 31) < 2^85, split into that limb and the next two, each part exact.
      const offset = Math.max((g << GROUP_BITS) - 1, 0);
      const scaled = Math.abs(sum) * 2 ** (149 - (offset & ~31));
      const high = Math.floor(scaled * INV_LIMB2);
      const rest = scaled - high * LIMB * LIMB;
      const middle = Math.floor(rest * INV_LIMB);
      const low = rest - middle * LIMB;
      const i = offset >>> 5, sign = sum < 0 ? -1 : 1;
      limbs[i]! += sign * low;
      limbs[i + 1]! += sign * middle;
      limbs[i + 2]! += sign * high;
    }
    this.pending = 0;
    this.carry();
  }

  /** Propagates carries: every limb but the top one into [0, 2^32). */
  private carry(): void {
    const limbs = this.limbs;
    for (let i = 0; i + 1 < LIMBS; i++) {
      const c = Math.floor(limbs[i]! / LIMB);
      limbs[i]! -= c * LIMB;
      limbs[i + 1]! += c;
    }
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
