// sigmoidFocalLoss on the engine: validation (targets in [0, 1], see bce.ts), the alpha weight's
// two coefficients, one elementwise kernel, and the total of its losses in float64.

import { checkOptionKeys, focalOptions } from '../options.js';
import { runRows } from '../runner.js';
import { SIGMOID_FOCAL_LOSS_OPTIONS, type LossResult, type SigmoidFocalLossOptions } from '../types.js';
import { elementShape, elementwiseLoss } from './bce.js';
import type { EngineContext, Logits } from './logits.js';

const OP = 'sigmoidFocalLoss';

export function sigmoidFocalLoss(
  ctx: EngineContext,
  logits: Logits,
  target: Float32Array,
  options: SigmoidFocalLossOptions = {},
): LossResult {
  checkOptionKeys(OP, options, SIGMOID_FOCAL_LOSS_OPTIONS);
  const shape = elementShape(OP, ctx, logits, options.classes);
  const { rows, classes } = shape;
  const { gamma, alphaPos, alphaNeg } = focalOptions(OP, options);
  return elementwiseLoss(ctx, OP, logits, target, shape, options, (t, grad, losses, scale) => runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.sigmoidFocalLoss,
    args: [{ read: logits, perRow: classes, name: 'logits' }, { read: t, perRow: classes, name: 'target' }, grad, losses],
    rows,
    classes,
    scalars: [alphaPos, alphaNeg, gamma, scale],
  }));
}
