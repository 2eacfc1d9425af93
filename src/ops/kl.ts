// klDivergence on the engine: validation of the two logit matrices, the reduction's scale,
// the fused kernel, and the reduction of its per-row losses in float64.

import { XentError } from '../errors.js';
import { Tensor, type Arena } from '../memory.js';
import { checkOptionKeys, describe, klReduction, numberOption, type Shape } from '../options.js';
import { checkTensor, keepLive, runRows, type Arg } from '../runner.js';
import { KL_DIVERGENCE_OPTIONS, type KlDivergenceOptions, type LossResult } from '../types.js';
import { gradTarget } from './bce.js';
import { logitsShape, type EngineContext, type Logits } from './logits.js';

const OP = 'klDivergence';

/** The teacher: the student's shape, as a flat array or a tensor. */
function teacherOf(ctx: EngineContext, teacher: unknown, shape: Shape): Logits {
  if (teacher instanceof Tensor) {
    checkTensor(OP, ctx.arena, teacher);
    if (teacher.rows !== shape.rows || teacher.cols !== shape.classes) {
      throw new XentError(
        'SHAPE_MISMATCH',
        `${OP}: teacherLogits is a ${teacher.rows}x${teacher.cols} tensor, expected ${shape.rows}x${shape.classes} like the student's`,
      );
    }
    return teacher;
  }
  if (!(teacher instanceof Float32Array)) {
    throw new XentError('SHAPE_MISMATCH', `${OP}: teacherLogits must be a Float32Array or a Tensor, got ${describe(teacher)}`);
  }
  if (teacher.length !== shape.rows * shape.classes) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `${OP}: teacherLogits has ${teacher.length} values, expected ${shape.rows * shape.classes} (${shape.rows} rows of ${shape.classes} classes, like the student's)`,
    );
  }
  return teacher;
}

/** Bytes [start, end) of engine memory that an array or tensor occupies, if it lives there. */
function engineBytes(arena: Arena, a: Float32Array | Tensor): [number, number] | undefined {
  if (a instanceof Tensor) return [a.ptr, a.ptr + a.rows * a.cols * 4];
  return a.buffer === arena.buffer ? [a.byteOffset, a.byteOffset + a.byteLength] : undefined;
}

function overlaps(arena: Arena, a: Float32Array | Tensor, b: Float32Array | Tensor): boolean {
  const x = engineBytes(arena, a), y = engineBytes(arena, b);
  return x !== undefined && y !== undefined && x[0] < y[1] && y[0] < x[1];
}

export function klDivergence(
  ctx: EngineContext,
  studentLogits: Logits,
  teacherLogits: Logits,
  options: KlDivergenceOptions = {},
): LossResult {
  checkOptionKeys(OP, options, KL_DIVERGENCE_OPTIONS);
  const shape = logitsShape(OP, ctx, studentLogits, options.classes, 'studentLogits');
  const { rows, classes } = shape;
  let teacher = teacherOf(ctx, teacherLogits, shape);
  const temperature = numberOption(OP, 'temperature', options.temperature, 1, { min: 0, minOpen: true });
  const reduction = klReduction(OP, options.reduction);
  const gradScale = numberOption(OP, 'gradScale', options.gradScale, 1);
  const grad = gradTarget(OP, studentLogits, options.grad, rows * classes);
  // The gradient may share memory only with the student it is computed over (the runner refuses
  // any other overlap of an output and an input): where the teacher overlaps the gradient (one
  // tensor as student and teacher, graded in place), the teacher is copied first.
  if (grad !== undefined && overlaps(ctx.arena, teacher, grad)) teacher = (teacher instanceof Tensor ? teacher.data : teacher).slice();

  const batchmean = reduction === 'batchmean';
  const losses = new Float32Array(rows);
  const gradArg: Arg = grad === undefined ? { none: true } : { write: grad, perRow: classes, over: 0, name: 'grad' };
  const termsArg: Arg = grad === undefined ? { none: true } : { scratch: classes };
  const gradOut = grad === undefined ? undefined : keepLive(ctx.arena, grad);
  runRows(ctx.arena, {
    op: OP,
    kernel: ctx.kernels.klDivergence,
    args: [{ read: studentLogits, perRow: classes, name: 'studentLogits' }, { read: teacher, perRow: classes, name: 'teacherLogits' }, gradArg, { write: losses, perRow: 1, own: true }, termsArg],
    rows,
    classes,
    scalars: [1 / temperature, batchmean ? gradScale / rows : gradScale],
  });
  let total = 0;
  for (let r = 0; r < rows; r++) total += losses[r]!;
  const result: LossResult = { loss: batchmean ? total / rows : total, losses };
  if (gradOut !== undefined) result.grad = gradOut();
  return result;
}
