// Reference log-sum-exp, softmax and log-softmax, float64.

import { checkOptionKeys, float32Of, numberOption } from '../options.js';
import { logitValues, logitsShape, row, rowMax, sumExp, type FloatArray } from './rows.js';

export interface RowOptions {
  classes?: number;
  dtype?: 'f32' | 'f16' | 'bf16';
}

export interface SoftmaxOptions extends RowOptions {
  temperature?: number;
  out?: Float32Array;
}

/** log sum_j exp(x[r, j]) per row, as torch.logsumexp (+inf and all -inf rows included). */
export function logSumExp(input: FloatArray | Uint16Array, options: RowOptions = {}): Float64Array {
  checkOptionKeys('logSumExp', options, ['classes', 'dtype']);
  const logits = logitValues('logSumExp', input, options.dtype);
  const { rows, classes } = logitsShape('logSumExp', logits, options.classes);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = row(logits, r, classes);
    let m = rowMax(v);
    if (Math.abs(m) === Infinity) m = 0; // torch shifts by 0 where the max is infinite
    out[r] = m + Math.log(sumExp(v, m));
  }
  return out;
}

/** softmax(x / T) per row: a new Float64Array, or written into options.out. */
export function softmax(logits: FloatArray | Uint16Array, options?: SoftmaxOptions & { out?: undefined }): Float64Array;
export function softmax(logits: FloatArray | Uint16Array, options: SoftmaxOptions & { out: Float32Array }): Float32Array;
export function softmax(logits: FloatArray | Uint16Array, options: SoftmaxOptions = {}): Float64Array | Float32Array {
  return softmaxRows('softmax', logits, options, (v, j, m, invT, s) => Math.exp((v[j]! - m) * invT) / s);
}

/** log softmax(x / T) per row, as (x - m) / T - log sum exp((x - m) / T); out as softmax's. */
export function logSoftmax(logits: FloatArray | Uint16Array, options?: SoftmaxOptions & { out?: undefined }): Float64Array;
export function logSoftmax(logits: FloatArray | Uint16Array, options: SoftmaxOptions & { out: Float32Array }): Float32Array;
export function logSoftmax(logits: FloatArray | Uint16Array, options: SoftmaxOptions = {}): Float64Array | Float32Array {
  return softmaxRows('logSoftmax', logits, options, (v, j, m, invT, s) => (v[j]! - m) * invT - Math.log(s));
}

type RowFormula = (v: FloatArray, j: number, max: number, invT: number, sum: number) => number;

function softmaxRows(op: string, input: FloatArray | Uint16Array, options: SoftmaxOptions, formula: RowFormula) {
  checkOptionKeys(op, options, ['classes', 'temperature', 'out', 'dtype']);
  const logits = logitValues(op, input, options.dtype);
  const { rows, classes } = logitsShape(op, logits, options.classes);
  const temperature = numberOption(op, 'temperature', options.temperature, 1, { min: 0, minOpen: true });
  const out = options.out === undefined ? new Float64Array(rows * classes) : float32Of(op, 'out', options.out, rows * classes);
  const invT = 1 / temperature;
  for (let r = 0; r < rows; r++) {
    const v = row(logits, r, classes);
    const m = rowMax(v);
    const s = sumExp(v, m, invT);
    for (let j = 0; j < classes; j++) out[r * classes + j] = formula(v, j, m, invT, s);
  }
  return out;
}
