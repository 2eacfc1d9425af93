// Defaults and validation shared by the engine and the reference. Every check runs before
// anything is written, and every message names the operation, the bad value and what was
// expected.

import { XentError } from './errors.js';
import type {
  CrossEntropyShardGradOptions, CrossEntropyShardOptions, KlReduction, SequenceOptions, SigmoidFocalLossOptions,
} from './types.js';

export type Reduction = 'mean' | 'sum';

/** What a `grad` option asks for, once validated. */
export type GradRequest = 'none' | 'new' | 'inplace' | Float32Array;

export const DEFAULT_IGNORE_INDEX = -100;

export interface Shape {
  rows: number;
  classes: number;
}

/** Refuses a non-object and any key not in `allowed`, with a hint for near misses. */
export function checkOptionKeys(op: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new XentError('BAD_OPTION', `${op}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const hint = allowed.find((a) => normalize(a) === normalize(key));
    throw new XentError(
      'BAD_OPTION',
      `${op}: unknown option '${key}'` +
        (hint ? ` (did you mean '${hint}'?)` : `; expected one of ${allowed.join(', ')}`),
    );
  }
}

/** rows and classes of a flat row-major array of `length` values. */
export function flatShape(op: string, what: string, length: number, classes: unknown): Shape {
  if (classes === undefined) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: ${what} is a flat array of ${length} values; pass options.classes (values per row)`,
    );
  }
  checkClasses(op, classes);
  if (length % classes !== 0) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: ${what} has ${length} values, which is not a whole number of rows of ${classes} classes`,
    );
  }
  return { rows: length / classes, classes };
}

/** The shape of a rows x cols tensor, checked against an explicit options.classes. */
export function tensorShape(op: string, rows: number, cols: number, classes: unknown): Shape {
  if (classes !== undefined) {
    checkClasses(op, classes);
    if (classes !== cols) {
      throw new XentError('SHAPE_MISMATCH', `${op}: options.classes is ${classes} but the tensor has ${cols} columns`);
    }
  }
  return { rows, classes: cols };
}

function checkClasses(op: string, classes: unknown): asserts classes is number {
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1) {
    throw new XentError('SHAPE_MISMATCH', `${op}: classes must be an integer >= 1, got ${describe(classes)}`);
  }
}

/** A Float32Array of exactly `length` values, or the reason it is not. */
export function float32Of(op: string, what: string, value: unknown, length: number): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what} must be a Float32Array, got ${describe(value)}`);
  }
  if (value.length !== length) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what} has ${value.length} values, expected ${length}`);
  }
  return value;
}

/**
 * The number of class indices other than ignoreIndex, when each of them is in [0, classes);
 * else -1 - r for the first row r whose index is neither.
 */
export type CountTargets = (indices: Int32Array, classes: number, ignoreIndex: number) => number;

/** CountTargets in plain JavaScript: the reference's, and the engine's for a few rows. */
export const countTargets: CountTargets = (indices, classes, ignoreIndex) => {
  let count = 0;
  for (let row = 0; row < indices.length; row++) {
    const t = indices[row]!;
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= classes) return -1 - row;
    count += 1;
  }
  return count;
};

/** Class indices as a private Int32Array, each in [0, classes) or equal to ignoreIndex. */
export function sparseTarget(op: string, target: unknown, shape: Shape, ignoreIndex: number, what = 'target'): Int32Array {
  return classTargets(op, target, shape, ignoreIndex, what).indices;
}

/** sparseTarget with the number of targets not ignored, counted (and checked) by `count`. */
export function classTargets(
  op: string,
  target: unknown,
  shape: Shape,
  ignoreIndex: number,
  what = 'target',
  count: CountTargets = countTargets,
): { indices: Int32Array; count: number } {
  // One private copy, read once: it is what is validated and what the kernel reads, so a
  // target that changes under us (shared memory, a getter) cannot reach the kernel unchecked.
  // The constructor reads an Int32Array through its internal slots, not its own methods.
  let indices: Int32Array;
  if (target instanceof Int32Array) {
    indices = new Int32Array(target);
  } else if (Array.isArray(target)) {
    const length = target.length;
    indices = new Int32Array(length);
    for (let row = 0; row < length; row++) {
      const t: unknown = target[row];
      if (typeof t !== 'number' || !Number.isInteger(t) || t !== (t | 0)) {
        const why = row in target ? `= ${describe(t)} is not an integer class index` : 'is missing (a hole in the array)';
        throw new XentError('TARGET_OUT_OF_RANGE', `${op}: ${what}[${row}] ${why}`);
      }
      indices[row] = t;
    }
  } else {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: class-index targets must be an Int32Array or number[], got ${describe(target)}` +
        ' (probability targets are a Float32Array of rows * classes)',
    );
  }
  if (indices.length !== shape.rows) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ${what} has ${indices.length} entries, expected one per row (${shape.rows})`);
  }
  const counted = count(indices, shape.classes, ignoreIndex);
  if (counted < 0) {
    const row = -1 - counted;
    throw new XentError(
      'TARGET_OUT_OF_RANGE',
      `${op}: ${what}[${row}] = ${indices[row]} is out of range [0, ${shape.classes}) and is not ignoreIndex (${ignoreIndex})`,
    );
  }
  return { indices, count: counted };
}

/**
 * The class index each row is scored against, as Hugging Face's causal-LM loss does: with
 * `shift`, row (b, t) against target (b, t + 1) and the last position of each sequence not
 * scored; a row whose target position has attentionMask 0 is not scored either. Rows not
 * scored get ignoreIndex. Always a fresh array, validated as sparseTarget validates.
 */
export function sequenceTarget(op: string, target: unknown, shape: Shape, ignoreIndex: number, sequence: SequenceOptions): Int32Array {
  const { sequenceLength, shift, attentionMask } = sequence;
  if (sequenceLength === undefined && shift === undefined && attentionMask === undefined) {
    return sparseTarget(op, target, shape, ignoreIndex);
  }
  const { rows } = shape;
  const length = sequenceLength ?? rows;
  if (!Number.isSafeInteger(length) || length < 1 || (rows > 0 && rows % length !== 0)) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: sequenceLength must be an integer >= 1 that divides the ${rows} rows (B sequences of T positions), got ${describe(sequenceLength)}`,
    );
  }
  if (shift !== undefined && typeof shift !== 'boolean') {
    throw new XentError('BAD_OPTION', `${op}: shift must be true or false, got ${describe(shift)}`);
  }
  const ids = sparseTarget(op, target, shape, ignoreIndex);
  const mask = attentionMask === undefined ? undefined : maskOption(op, attentionMask, rows);
  const scored = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const from = shift ? r + 1 : r;
    const last = shift === true && r % length === length - 1;
    scored[r] = last || (mask !== undefined && mask[from] === 0) ? ignoreIndex : ids[from]!;
  }
  return scored;
}

function maskOption(op: string, mask: unknown, rows: number): Uint8Array {
  const ok = mask instanceof Int32Array || mask instanceof Uint8Array || mask instanceof BigInt64Array || Array.isArray(mask);
  if (!ok) {
    throw new XentError('BAD_OPTION', `${op}: attentionMask must be an Int32Array, Uint8Array, BigInt64Array or number[] of 0 and 1, got ${describe(mask)}`);
  }
  const values = mask as ArrayLike<number | bigint>;
  if (values.length !== rows) {
    throw new XentError('SHAPE_MISMATCH', `${op}: attentionMask has ${values.length} entries, expected one per row (${rows} = B * T)`);
  }
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = values[r];
    if (m !== 0 && m !== 1 && m !== 0n && m !== 1n) {
      throw new XentError('BAD_OPTION', `${op}: attentionMask[${r}] = ${describe(m)}; expected 0 or 1`);
    }
    out[r] = m ? 1 : 0;
  }
  return out;
}

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
  if (value instanceof Int32Array) offsets = new Int32Array(value);
  else if (Array.isArray(value)) {
    offsets = new Int32Array(value.length);
    for (let i = 0; i < offsets.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v !== (v | 0)) {
        const why = i in value ? `= ${describe(v)} is not an integer row offset` : 'is missing (a hole in the array)';
        throw new XentError('BAD_OPTION', `${op}: segments[${i}] ${why}`);
      }
      offsets[i] = v;
    }
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

export function integerOption(op: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value !== (value | 0)) {
    throw new XentError('BAD_OPTION', `${op}: ${name} must be a 32-bit integer, got ${describe(value)}`);
  }
  return value;
}

/** A finite number within [min, max] (either bound may be open), or the default. */
export function numberOption(
  op: string,
  name: string,
  value: unknown,
  fallback: number,
  range: { min?: number; max?: number; minOpen?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const { min = -Infinity, max = Infinity, minOpen = false } = range;
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (minOpen ? value > min : value >= min) && value <= max;
  if (!ok) {
    const bounds =
      min === -Infinity && max === Infinity
        ? 'a finite number'
        : max === Infinity
          ? `a finite number ${minOpen ? '>' : '>='} ${min}`
          : `a number in ${minOpen ? '(' : '['}${min}, ${max}]`;
    throw new XentError('BAD_OPTION', `${op}: ${name} must be ${bounds}, got ${describe(value)}`);
  }
  return value as number;
}

export function reductionOption<R extends string>(
  op: string,
  value: unknown,
  allowed: readonly R[],
  fallback: R,
): R {
  if (value === undefined) return fallback;
  if (value === 'none') {
    throw new XentError(
      'BAD_OPTION',
      `${op}: reduction 'none' is not needed: every call returns the unreduced values in result.losses; ` +
        `use one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: reduction must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as R;
}

/** false / true / 'inplace' / a Float32Array of `length` values to write into. */
export function gradOption(op: string, value: unknown, length: number): GradRequest {
  if (value === undefined || value === false) return 'none';
  if (value === true) return 'new';
  if (value === 'inplace') return 'inplace';
  if (value instanceof Float32Array) {
    if (value.length !== length) {
      throw new XentError('SHAPE_MISMATCH', `${op}: grad has ${value.length} values, expected ${length} (one per logit)`);
    }
    return value;
  }
  throw new XentError(
    'BAD_OPTION',
    `${op}: grad must be false, true, 'inplace' or a Float32Array, got ${describe(value)}`,
  );
}

/** A short, safe rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength}`;
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '...' : value}'`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return String(value);
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** ids as an Int32Array of rows * k class indices (each in [0, classes) or ignoreIndex), and k. */
export function tokenIds(op: string, ids: unknown, shape: Shape, ignoreIndex: number): { ids: Int32Array; k: number } {
  if (!(ids instanceof Int32Array || Array.isArray(ids))) {
    throw new XentError('SHAPE_MISMATCH', `${op}: ids must be an Int32Array or number[] of rows * k class indices, got ${describe(ids)}`);
  }
  const { rows } = shape;
  const k = rows === 0 ? (ids.length === 0 ? 0 : NaN) : ids.length / rows;
  if (!Number.isInteger(k)) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: ids has ${ids.length} entries, which is not the same number for each of ${rows} rows` +
        ' (pad ragged lists with ignoreIndex)',
    );
  }
  return { ids: sparseTarget(op, ids, { rows: ids.length, classes: shape.classes }, ignoreIndex, 'ids'), k };
}

/** What crossEntropyShard and crossEntropyShardGrad read of their options, checked. */
export interface ShardSetting {
  offset: number;
  totalClasses: number;
  ignoreIndex: number;
  /** The targets, in [0, totalClasses) or ignoreIndex. */
  target: Int32Array;
  smoothing: number;
  /** 0: no soft-capping. */
  softcap: number;
}

export function shardSetting(
  op: string,
  shape: Shape,
  target: unknown,
  options: CrossEntropyShardOptions | CrossEntropyShardGradOptions,
): ShardSetting {
  const { classes } = shape;
  const totalClasses = integerOption(op, 'totalClasses', options.totalClasses, NaN);
  const offset = integerOption(op, 'offset', options.offset, NaN);
  if (!(totalClasses >= 1)) {
    throw new XentError('BAD_OPTION', `${op}: totalClasses (the classes of the whole vocabulary) must be an integer >= 1, got ${describe(options.totalClasses)}`);
  }
  if (!(offset >= 0) || offset + classes > totalClasses) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: a shard of ${classes} classes at offset ${describe(options.offset)} does not fit in [0, ${totalClasses}) (totalClasses)`,
    );
  }
  const ignoreIndex = integerOption(op, 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
  return {
    offset,
    totalClasses,
    ignoreIndex,
    target: sparseTarget(op, target, { rows: shape.rows, classes: totalClasses }, ignoreIndex),
    smoothing: numberOption(op, 'labelSmoothing', options.labelSmoothing, 0, { min: 0, max: 1 }),
    softcap: numberOption(op, 'softcap', options.softcap, 0, { min: 0, minOpen: options.softcap !== undefined }),
  };
}

/** What crossEntropyShardGrad reads of its options besides the shard's place, checked. */
export interface ShardGradSetting {
  /** The whole class-weight vector, or undefined. */
  weight: Float32Array | undefined;
  /** Sum of all class weights (totalClasses without weights). */
  weightTotal: number;
  lse: Float64Array;
  grad: Exclude<GradRequest, 'none'>;
  zLoss: number;
  /** The reduction's and gradScale's factors of the cross-entropy and z-loss gradients. */
  ceScale: number;
  zScale: number;
}

export function shardGradSetting(
  op: string,
  shape: Shape,
  s: ShardSetting,
  options: CrossEntropyShardGradOptions,
): ShardGradSetting {
  const { rows, classes } = shape;
  let weight: Float32Array | undefined;
  if (options.weight !== undefined) {
    if (options.weight instanceof Float32Array && options.weight.length === classes && classes !== s.totalClasses) {
      throw new XentError(
        'SHAPE_MISMATCH',
        `${op}: weight has ${classes} values (this shard's slice); the gradient needs all ${s.totalClasses} class weights, ` +
          "since each row's scale is its target's weight, which may sit in another shard",
      );
    }
    weight = float32Of(op, 'weight', options.weight, s.totalClasses);
  }
  const lse = options.lse;
  if (!(lse instanceof Float32Array || lse instanceof Float64Array) || lse.length !== rows) {
    throw new XentError('SHAPE_MISMATCH', `${op}: lse must be a Float64Array or Float32Array of ${rows} values (one per row, the merge's lse), got ${describe(lse)}`);
  }
  let count = 0;
  let denominator = 0;
  for (const t of s.target) {
    if (t === s.ignoreIndex) continue;
    count += 1;
    denominator += weight === undefined ? 1 : weight[t]!;
  }
  if (options.count !== count) {
    throw new XentError('SHAPE_MISMATCH', `${op}: count is ${describe(options.count)}, but the target has ${count} rows not ignored (pass the merge's count)`);
  }
  const given = options.denominator;
  if (typeof given !== 'number' || !(Math.abs(given - denominator) <= 1e-6 * Math.max(1, Math.abs(denominator)))) {
    throw new XentError('BAD_OPTION', `${op}: denominator is ${describe(given)}, but the counted rows' target weights sum to ${denominator} (pass the merge's denominator)`);
  }
  const grad = gradOption(op, options.grad, rows * classes);
  if (grad === 'none') {
    throw new XentError('BAD_OPTION', `${op}: grad must be true, 'inplace' or a Float32Array to write into, got ${describe(options.grad)}`);
  }
  const mean = reductionOption(op, options.reduction, ['mean', 'sum'] as const, 'mean') === 'mean';
  const gradScale = numberOption(op, 'gradScale', options.gradScale, 1);
  return {
    weight,
    weightTotal: weight === undefined ? s.totalClasses : weightTotal(weight),
    lse: lse instanceof Float64Array ? lse : Float64Array.from(lse),
    grad,
    zLoss: numberOption(op, 'zLoss', options.zLoss, 0),
    ceScale: mean ? gradScale / given : gradScale,
    zScale: mean ? gradScale / count : gradScale,
  };
}

/** The sum of class weights, in order. */
export function weightTotal(weight: Float32Array): number {
  let total = 0;
  for (const w of weight) total += w;
  return total;
}

// The elementwise losses (binaryCrossEntropy, sigmoidFocalLoss) and klDivergence: their
// shapes, targets and options, for the engine and the reference alike.

/** The layout of an elementwise op's logits; `known` when the classes are, not assumed. */
export interface ElementShape extends Shape {
  known: boolean;
}

/** elementShape for the reference's flat arrays. */
export function flatElementShape(op: string, length: number, classes: unknown): ElementShape {
  if (classes === undefined) return { rows: length, classes: 1, known: false };
  return { ...flatShape(op, 'logits', length, classes), known: true };
}

type Floats = Float32Array | Float64Array;

/** A Float32Array (or, for the reference, a Float64Array) of exactly `length` values. */
export function floatsOf(op: string, what: string, value: unknown, length: number, allow64: boolean): Floats {
  if (allow64 && value instanceof Float64Array) {
    if (value.length !== length) {
      throw new XentError('SHAPE_MISMATCH', `${op}: ${what} has ${value.length} values, expected ${length}`);
    }
    return value;
  }
  return float32Of(op, what, value, length);
}

/** The index of the first value of t outside [0, 1] (NaN included), or -1. */
export type FirstOutsideUnit = (t: Float32Array) => number;

/**
 * Targets of the logits' length, every one in [0, 1]: f32 ones checked by `firstOutside` (the
 * engine's runs in wasm), f64 ones (the reference's) here.
 */
export function unitTarget(
  op: string,
  target: unknown,
  shape: ElementShape,
  allow64 = false,
  firstOutside: FirstOutsideUnit = firstOutsideUnit32,
): Floats {
  const n = shape.rows * shape.classes;
  if (!(target instanceof Float32Array || (allow64 && target instanceof Float64Array))) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${op}: target must be a Float32Array of ${n} probabilities in [0, 1] (one per logit), got ${describe(target)}`,
    );
  }
  const t = floatsOf(op, 'target', target, n, allow64);
  const i = t instanceof Float32Array ? firstOutside(t) : firstOutsideUnit64(t);
  if (i >= 0) {
    const v = t[i]!;
    const where = shape.known && shape.classes > 1 ? ` (row ${Math.floor(i / shape.classes)}, column ${i % shape.classes})` : '';
    throw new XentError(
      'TARGET_OUT_OF_RANGE',
      `${op}: target[${i}]${where} = ${v} is outside [0, 1]; targets are probabilities of the positive class`,
    );
  }
  return t;
}

// The first index of a value outside [0, 1] (NaN included), or -1; one copy per array type so
// that each loop sees a single element kind (twice as fast on V8 as one polymorphic loop).
export function firstOutsideUnit32(t: Float32Array): number {
  for (let i = 0; i < t.length; i++) if (!(t[i]! >= 0 && t[i]! <= 1)) return i;
  return -1;
}

function firstOutsideUnit64(t: Float64Array): number {
  for (let i = 0; i < t.length; i++) if (!(t[i]! >= 0 && t[i]! <= 1)) return i;
  return -1;
}

/** posWeight: one finite number, or one value per class (which needs the classes). */
export function posWeightOption(
  op: string,
  value: unknown,
  shape: ElementShape,
  allow64 = false,
): { scalar: number; perClass?: Floats } {
  if (value === undefined || typeof value === 'number') return { scalar: numberOption(op, 'posWeight', value, 1) };
  if (!(value instanceof Float32Array || (allow64 && value instanceof Float64Array))) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: posWeight must be a number or a Float32Array with one value per class, got ${describe(value)}`,
    );
  }
  if (!shape.known) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: posWeight per class (${value.length} values) needs options.classes, so that each logit's class is known`,
    );
  }
  return { scalar: 1, perClass: floatsOf(op, 'posWeight', value, shape.classes, allow64) };
}

/**
 * alpha (default 0.25; negative disables the weighting, as in torchvision) and gamma
 * (default 2), validated; the weight alpha t + (1 - alpha)(1 - t) as alphaPos t + alphaNeg (1 - t),
 * with both 1 when alpha is disabled (t + (1 - t) is exactly 1 in f32).
 */
export function focalOptions(op: string, options: SigmoidFocalLossOptions): { alpha: number; gamma: number; alphaPos: number; alphaNeg: number } {
  const alpha = options.alpha ?? 0.25;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha > 1) {
    throw new XentError(
      'BAD_OPTION',
      `${op}: alpha must be a number in [0, 1], or negative to disable the weighting, got ${describe(alpha)}`,
    );
  }
  const gamma = numberOption(op, 'gamma', options.gamma, 2, { min: 0 });
  return alpha < 0 ? { alpha, gamma, alphaPos: 1, alphaNeg: 1 } : { alpha, gamma, alphaPos: alpha, alphaNeg: 1 - alpha };
}

/** 'batchmean' (default) or 'sum'; 'mean' is refused with what it would have meant. */
export function klReduction(op: string, value: unknown): KlReduction {
  if (value === 'mean') {
    throw new XentError(
      'BAD_OPTION',
      `${op}: reduction 'mean' (PyTorch's mean over rows * classes, which is not a KL divergence) is not offered; ` +
        "use 'batchmean' (sum / rows, the default) or 'sum'",
    );
  }
  return reductionOption(op, value, ['batchmean', 'sum'] as const, 'batchmean');
}
