// sigmoidFocalLoss on the engine: validation (targets in [0, 1], see bce.ts), the alpha weight's
// two coefficients, one elementwise kernel, and the total of its losses in float64.

import { checkOptionKeys, focalOptions, numberOption, reductionOption, unitTarget } from '../options.js';
import { keepLive, runRows, type Arg } from '../runner.js';
import { SIGMOID_FOCAL_LOSS_OPTIONS, type LossResult, type SigmoidFocalLossOptions } from '../types.js';
import { elementShape, gradTarget } from './bce.js';
import { engineFirstOutsideUnit } from './targets.js';
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
  const n = rows * classes;
  const { gamma, alphaPos, alphaNeg } = focalOptions(OP, options);
  const reduction = reductionOption(OP, options.reduction, ['mean', 'sum'] as const, 'mean');
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const grad = gradTarget(OP, logits, options.grad, n);
  const t = unitTarget(OP, target, shape, false, engineFirstOutsideUnit(ctx)) as Float32Array;

  const mean = reduction === 'mean';
  const losses = new Float32Array(n);
  const gradArg: Arg = grad === undefined ? { none: true } : { write: grad, perRow: classes, over: 0, name: 'grad' };
  const gradOut = grad === undefined ? undefined : keepLive(ctx.arena, grad);
  const total = runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.sigmoidFocalLoss,
    args: [{ read: logits, perRow: classes, name: 'logits' }, { read: t, perRow: classes, name: 'target' }, gradArg, { write: losses, perRow: classes, own: true, total: ctx.kernels.sumLanes }],
    rows,
    classes,
    scalars: [alphaPos, alphaNeg, gamma, mean ? gradScale / n : gradScale],
  });
  const result: LossResult = { loss: mean ? total / n : total, losses };
  if (gradOut !== undefined) result.grad = gradOut();
  return result;
}
