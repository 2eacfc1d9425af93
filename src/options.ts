// Defaults and validation shared by the engine and the reference. Every check runs before
// anything is written, and every message names the operation, the bad value and what was
// expected.

import { XentError } from './errors.js';

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
 * Class indices as an Int32Array, each in [0, classes) or equal to ignoreIndex.
 * Returns the caller's Int32Array itself when it is one (it is only read).
 */
export function sparseTarget(
  op: string,
  target: unknown,
  shape: Shape,
  ignoreIndex: number,
  what = 'target',
): Int32Array {
  let indices: Int32Array;
  if (target instanceof Int32Array) {
    indices = target;
  } else if (Array.isArray(target)) {
    indices = new Int32Array(target.length);
    target.forEach((t: unknown, row) => {
      if (typeof t !== 'number' || !Number.isInteger(t) || t !== (t | 0)) {
        throw new XentError('TARGET_OUT_OF_RANGE', `${op}: ${what}[${row}] = ${describe(t)} is not an integer class index`);
      }
      indices[row] = t;
    });
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
  for (let row = 0; row < indices.length; row++) {
    const t = indices[row]!;
    if ((t < 0 || t >= shape.classes) && t !== ignoreIndex) {
      throw new XentError(
        'TARGET_OUT_OF_RANGE',
        `${op}: ${what}[${row}] = ${t} is out of range [0, ${shape.classes}) and is not ignoreIndex (${ignoreIndex})`,
      );
    }
  }
  return indices;
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
