// The public option and result types of API.md. Results are generic in their array type:
// the engine returns Float32Array, the float64 reference Float64Array.

import type { Reduction } from './options.js';

export type { Reduction };

export interface ClassesOption {
  /** Values per row; needed for a flat array, checked against a tensor's columns. */
  classes?: number;
}

export interface GradOptions {
  /** false (default), true (a new array), 'inplace' (over the logits) or an array to fill. */
  grad?: boolean | 'inplace' | Float32Array;
  /** Multiplies the gradient; default 1. */
  gradScale?: number;
}

export interface SoftmaxOptions<Out = Float32Array> extends ClassesOption {
  temperature?: number;
  out?: Out;
}

export interface CrossEntropyOptions extends ClassesOption, GradOptions {
  reduction?: Reduction;
  ignoreIndex?: number;
  weight?: Float32Array;
  labelSmoothing?: number;
  zLoss?: number;
  softcap?: number;
}

export interface CrossEntropyResult<A = Float32Array> {
  /** The reduced loss, z-loss included. */
  loss: number;
  /** Per row: PyTorch's reduction='none' loss plus the row's z-loss; 0 for ignored rows. */
  losses: A;
  /** Per row log-sum-exp of the (soft-capped) logits; 0 for ignored rows. */
  lse: A;
  /** The z-loss part of `loss`. */
  zLoss: number;
  /** Rows not ignored. */
  count: number;
  grad?: Float32Array | A;
}

export const CROSS_ENTROPY_OPTIONS = [
  'classes', 'reduction', 'ignoreIndex', 'weight', 'labelSmoothing', 'zLoss', 'softcap', 'grad', 'gradScale',
] as const;
