// Turns a PyTorch vector case into the arguments of an xent call.

import type { TorchCase } from './vectors.js';

/**
 * The case's options with per-class and per-element arrays as Float32Array for the engine, or
 * as Float64Array for the float64 reference (exact, like its float64 inputs).
 */
export function torchOptions(c: TorchCase, arrays: typeof Float32Array | typeof Float64Array = Float32Array): Record<string, unknown> {
  const options: Record<string, unknown> = { classes: c.classes };
  for (const [key, value] of Object.entries(c.options)) {
    options[key] = Array.isArray(value) ? new arrays(value as number[]) : value;
  }
  return options;
}

/** Float64 logits for the reference (exact), float32 for the engine (rounded). */
export function torchArray(values: number[], as: 'f64' | 'f32'): Float64Array | Float32Array {
  return as === 'f64' ? new Float64Array(values) : new Float32Array(values);
}
