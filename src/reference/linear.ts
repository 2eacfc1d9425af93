// Reference fused linear cross-entropy, float64: F.linear then F.cross_entropy, the logits
// materialised in full, and the gradients by the chain rule through them.

import { XentError } from '../errors.js';
import { checkOptionKeys, describe } from '../options.js';
import {
  LINEAR_CROSS_ENTROPY_OPTIONS, type LinearCrossEntropyOptions, type LinearCrossEntropyResult,
} from '../types.js';
import { crossEntropy } from './cross-entropy.js';
import { logitValues, type FloatArray } from './rows.js';

const OP = 'linearCrossEntropy';

export function linearCrossEntropy(
  hidden: FloatArray,
  headInput: FloatArray | Uint16Array,
  target: Int32Array | number[],
  options: LinearCrossEntropyOptions<Float32Array | Float64Array>,
): LinearCrossEntropyResult<Float64Array> {
  checkOptionKeys(OP, options, LINEAR_CROSS_ENTROPY_OPTIONS);
  const { classes, bias, grad, argmax, headDtype, ...lossOptions } = options;
  const head = logitValues(OP, headInput, headDtype);
  const dim = head.length / classes;
  if (!Number.isInteger(classes) || classes < 1 || !Number.isInteger(dim) || dim < 1) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: a head of ${head.length} values is not classes x dim for classes = ${describe(classes)}`);
  }
  const rows = hidden.length / dim;
  if (!Number.isInteger(rows)) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: hidden has ${hidden.length} values, not a whole number of rows of dim ${dim}`);
  }
  if (bias !== undefined && bias.length !== classes) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: bias has ${bias.length} values, expected ${classes}`);
  }

  // logits[r][c] = bias[c] + sum_d hidden[r][d] head[c][d]
  const logits = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < classes; c++) {
      let z = bias === undefined ? 0 : bias[c]!;
      for (let d = 0; d < dim; d++) z += hidden[r * dim + d]! * head[c * dim + d]!;
      logits[r * classes + c] = z;
    }
  }
  const wantGrad = grad !== undefined;
  const ce = crossEntropy(logits, target, { ...lossOptions, classes, grad: wantGrad });
  const result: LinearCrossEntropyResult<Float64Array> = { loss: ce.loss, losses: ce.losses, lse: ce.lse, zLoss: ce.zLoss, count: ce.count };
  if (argmax) result.argmax = argmaxOf(logits, rows, classes);
  if (!wantGrad) return result;

  // With G = d loss / d logits: d hidden = G head, d head = G^T hidden, d bias = column sums of G.
  const g = ce.grad as Float64Array;
  const start = (given: true | FloatArray | undefined, length: number) => {
    const out = new Float64Array(length);
    if (grad.accumulate && given !== true && given !== undefined) out.set(given);
    return out;
  };
  result.grad = {};
  if (grad.hidden) {
    const out = start(grad.hidden, rows * dim);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < classes; c++) {
        for (let d = 0; d < dim; d++) out[r * dim + d]! += g[r * classes + c]! * head[c * dim + d]!;
      }
    }
    result.grad.hidden = out;
  }
  if (grad.head) {
    const out = start(grad.head, classes * dim);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < classes; c++) {
        for (let d = 0; d < dim; d++) out[c * dim + d]! += g[r * classes + c]! * hidden[r * dim + d]!;
      }
    }
    result.grad.head = out;
  }
  if (grad.bias) {
    const out = start(grad.bias, classes);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < classes; c++) out[c]! += g[r * classes + c]!;
    }
    result.grad.bias = out;
  }
  return result;
}

/** Per row, the index of the largest logit: NaN above every number, ties to the lowest index. */
function argmaxOf(logits: Float64Array, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      const v = logits[r * classes + c]!, b = logits[r * classes + best]!;
      if (!Number.isNaN(b) && (v > b || Number.isNaN(v))) best = c;
    }
    out[r] = best;
  }
  return out;
}
