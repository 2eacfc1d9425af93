// Reference KL divergence for distillation, float64: PyTorch's
// kl_div(log_softmax(s / T), log_softmax(t / T), log_target=True), summed per row. Stage by
// stage as in assembly/kernels/kl.ts: two row maxes, two exp-sums and the KL sum.

import { XentError } from '../errors.js';
import { checkOptionKeys, describe, gradOption, klReduction, numberOption } from '../options.js';
import { KL_DIVERGENCE_OPTIONS, type KlDivergenceOptions, type LossResult } from '../types.js';
import { logitsShape, row, rowMax, type FloatArray } from './rows.js';

const OP = 'klDivergence';

export function klDivergence(
  studentLogits: FloatArray,
  teacherLogits: FloatArray,
  options: KlDivergenceOptions = {},
): LossResult<Float64Array> {
  checkOptionKeys(OP, options, KL_DIVERGENCE_OPTIONS);
  const { rows, classes } = logitsShape(OP, studentLogits, options.classes);
  if (!(teacherLogits instanceof Float32Array || teacherLogits instanceof Float64Array)) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: teacherLogits must be a Float32Array or Float64Array, got ${describe(teacherLogits)}`);
  }
  if (teacherLogits.length !== rows * classes) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${OP}: teacherLogits has ${teacherLogits.length} values, expected ${rows * classes} (${rows} rows of ${classes} classes, like the student's)`,
    );
  }
  const temperature = numberOption(OP, 'temperature', options.temperature, 1, { min: 0, minOpen: true });
  const reduction = klReduction(OP, options.reduction);
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const grad = gradOption(OP, options.grad, rows * classes);
  if (grad === 'inplace' && !(studentLogits instanceof Float32Array)) {
    throw new XentError('BAD_OPTION', `${OP}: grad 'inplace' needs Float32Array logits`);
  }

  const batchmean = reduction === 'batchmean';
  const invT = 1 / temperature;
  const scale = batchmean ? gradScale / rows : gradScale;
  const losses = new Float64Array(rows);
  const gradOut = grad === 'none' ? undefined : grad === 'new' ? new Float64Array(rows * classes) : grad === 'inplace' ? (studentLogits as Float32Array) : grad;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const s = row(studentLogits, r, classes);
    const t = row(teacherLogits, r, classes);
    // The two maxes, then ds = (s - ms) / T and dt = (t - mt) / T, both <= 0.
    const ms = rowMax(s);
    const mt = rowMax(t);
    let sumS = 0, sumT = 0, kl = 0;
    for (let j = 0; j < classes; j++) {
      const ds = (s[j]! - ms) * invT;
      const dt = (t[j]! - mt) * invT;
      sumS += Math.exp(ds);
      sumT += Math.exp(dt);
      kl += Math.exp(dt) * (dt - ds);
    }
    // sum_j p_t (log p_t - log p_s) with log p_t - log p_s = (dt - ds) - log sumT + log sumS
    losses[r] = kl / sumT + Math.log(sumS / sumT);
    total += losses[r]!;
    if (gradOut === undefined) continue;
    // d/ds[j] = (p_s[j] - p_t[j]) / T
    for (let j = 0; j < classes; j++) {
      const ps = Math.exp((s[j]! - ms) * invT) / sumS;
      const pt = Math.exp((t[j]! - mt) * invT) / sumT;
      gradOut[r * classes + j] = scale * invT * (ps - pt);
    }
  }
  return { loss: batchmean ? total / rows : total, losses, ...(gradOut === undefined ? {} : { grad: gradOut }) };
}
