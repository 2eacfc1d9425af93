// Reference sigmoid focal loss, float64: torchvision.ops.sigmoid_focal_loss, with its gradient
// written out. Stage by stage as in assembly/kernels/focal.ts; targets in [0, 1].

import { checkOptionKeys, focalOptions } from '../options.js';
import { SIGMOID_FOCAL_LOSS_OPTIONS, type LossResult, type SigmoidFocalLossOptions } from '../types.js';
import { elementwiseSetting, elementwiseShape } from './bce.js';
import type { FloatArray } from './rows.js';

const OP = 'sigmoidFocalLoss';

export function sigmoidFocalLoss(
  logits: FloatArray,
  target: FloatArray,
  options: SigmoidFocalLossOptions = {},
): LossResult<Float64Array> {
  checkOptionKeys(OP, options, SIGMOID_FOCAL_LOSS_OPTIONS);
  const shape = elementwiseShape(OP, logits, options.classes);
  const { alpha, gamma } = focalOptions(OP, options);
  const { n, t: target01, scale, losses, gradOut, result } = elementwiseSetting(OP, logits, target, shape, options);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const t = target01[i]!;
    // p = sigmoid(x) and 1 - p from e = exp(-|x|)
    const e = Math.exp(-Math.abs(x));
    const h = 1 / (1 + e);
    const r = e * h;
    const p = x >= 0 ? h : r;
    const p1 = x >= 0 ? r : h;
    // ce = binary cross-entropy with logits, as in bce.ts
    const a = x >= 0 ? 1 - t : t;
    const ce = x === -Infinity ? NaN : a * Math.abs(x) + Math.log1p(e);
    // q = 1 - p_t, the modulating factor q^gamma, the alpha weight
    const q = p * (1 - t) + p1 * t;
    const mod = gamma === 0 ? 1 : q ** gamma;
    const alphaT = alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
    losses[i] = alphaT * ce * mod;
    total += losses[i]!;
    if (gradOut === undefined) continue;
    // d/dx = alphaT ((p - t) q^gamma + gamma ce q^(gamma - 1) dq/dx), dq/dx = (1 - 2t) p (1 - p);
    // q^(gamma - 1) is taken as 0 where q = 0 (its product's limit).
    const dce = (x >= 0 ? 1 : -1) * (a - r);
    const below = gamma === 0 ? 0 : q > 0 ? mod / q : 0;
    const dq = (1 - 2 * t) * p * p1;
    gradOut[i] = scale * alphaT * (dce * mod + (gamma === 0 ? 0 : gamma * ce * below * dq));
  }
  return result(total);
}
