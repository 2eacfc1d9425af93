// xent as a TensorFlow.js loss: softmax cross-entropy whose forward pass and gradient are one
// fused engine call, handed to TF.js through tf.customGrad. TF.js has no sparse softmax
// cross-entropy (tensorflow/tfjs#830): its own loss needs one-hot labels and differentiates a
// chain of element-wise ops over rows x classes.
//
// @tensorflow/tfjs-core is an optional peer dependency of xent, needed only by this entry point.

import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from './engine.js';
import { XentError } from './errors.js';
import type { CrossEntropyOptions } from './types.js';

export type SparseCrossEntropyLossOptions = Pick<CrossEntropyOptions, 'ignoreIndex' | 'labelSmoothing' | 'weight' | 'zLoss' | 'softcap' | 'reduction'>;

/** A TF.js loss: (yTrue, yPred) -> scalar, as model.compile, tf.variableGrads and optimizer.minimize take it. */
export type TfLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

const OPTIONS: ReadonlyArray<keyof SparseCrossEntropyLossOptions> = ['ignoreIndex', 'labelSmoothing', 'weight', 'zLoss', 'softcap', 'reduction'];

/**
 * Cross-entropy of logits `yPred` [..., V] against `yTrue`: class ids [...] or [..., 1] (int32
 * or integral float32; `ignoreIndex` skips a position), or probabilities [..., V]. Probability
 * rows that are exactly one-hot (what model.fit hands a loss) are scored as their class ids, so
 * that `weight` means the same in model.fit as with ids (PyTorch's weighted mean for class
 * ids); other probability targets follow PyTorch's semantics for them (mean over rows).
 *
 * Each call runs the loss and its gradient in one pass (the gradient is what training needs;
 * a call outside a gradient tape pays for it too), and gives TF.js the gradient d loss / d yPred.
 */
export function sparseCrossEntropyLoss(engine: Engine, options: SparseCrossEntropyLossOptions = {}): TfLoss {
  for (const key of Object.keys(options)) {
    if (!(OPTIONS as readonly string[]).includes(key)) {
      throw new XentError('BAD_OPTION', `sparseCrossEntropyLoss: unknown option '${key}'; expected one of ${OPTIONS.join(', ')}`);
    }
  }
  return (yTrue, yPred) => {
    const { classes, target } = readTarget(yTrue, yPred, options.ignoreIndex ?? -100);
    const loss = tf.customGrad((logits, _save) => {
      const x = logits as tf.Tensor;
      const data = x.dataSync() as Float32Array;
      const { loss, grad } = engine.crossEntropy(data, target, { ...options, classes, grad: true });
      return {
        value: tf.scalar(loss),
        // dy is a scalar (1 under a plain minimize): scaled here, a pass cheaper than a tf.mul.
        gradFunc: (dy) => {
          const scale = (dy as tf.Tensor).dataSync()[0]!;
          return tf.tensor(scale === 1 ? grad : grad.map((g) => g * scale), x.shape, 'float32');
        },
      };
    });
    return loss(yPred) as tf.Scalar;
  };
}

/** The targets as the engine takes them: class ids (Int32Array) or probabilities (Float32Array). */
function readTarget(yTrue: tf.Tensor, yPred: tf.Tensor, ignoreIndex: number): { classes: number; target: Int32Array | Float32Array } {
  const shapes = `yTrue ${describeTensor(yTrue)}, yPred ${describeTensor(yPred)}`;
  if (!(yPred instanceof tf.Tensor) || !(yTrue instanceof tf.Tensor)) {
    throw new XentError('SHAPE_MISMATCH', `sparseCrossEntropyLoss: yTrue and yPred must be tf.Tensors; got ${shapes}`);
  }
  if (yPred.dtype !== 'float32' || yPred.rank < 1 || yPred.shape[yPred.rank - 1]! < 1) {
    throw new XentError('SHAPE_MISMATCH', `sparseCrossEntropyLoss: yPred must be float32 logits [..., V]; got ${shapes}`);
  }
  if (yTrue.dtype !== 'int32' && yTrue.dtype !== 'float32') {
    throw new XentError('SHAPE_MISMATCH', `sparseCrossEntropyLoss: yTrue must be int32 or float32; got ${shapes}`);
  }
  const classes = yPred.shape[yPred.rank - 1]!;
  const lead = yPred.shape.slice(0, -1);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const t = yTrue.shape;
  const ids = same(t, lead) || same(t, [...lead, 1]);
  if (!ids && !same(t, yPred.shape)) {
    throw new XentError(
      'SHAPE_MISMATCH',
      `sparseCrossEntropyLoss: yTrue must be class ids [${lead.join(', ')}] or [${[...lead, 1].join(', ')}], ` +
        `or probabilities [${yPred.shape.join(', ')}]; got ${shapes}`,
    );
  }
  const values = yTrue.dataSync() as Int32Array | Float32Array;
  // With V = 1, [..., 1] is both ids and probabilities; as ids it is the same loss, and checked.
  if (ids) return { classes, target: values instanceof Int32Array ? values : integerIds(values, ignoreIndex) };
  const rows = values.length / classes;
  const oneHot = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let hot = -1;
    for (let c = 0; c < classes; c++) {
      const p = values[r * classes + c]!;
      if (p === 1 && hot < 0) hot = c;
      else if (p !== 0) return { classes, target: Float32Array.from(values) };
    }
    if (hot < 0) return { classes, target: Float32Array.from(values) };
    oneHot[r] = hot;
  }
  return { classes, target: oneHot };
}

/** Float class ids as integers; a fractional or non-finite one is refused (the engine checks the range). */
function integerIds(values: Float32Array, ignoreIndex: number): Int32Array {
  const ids = new Int32Array(values.length);
  for (let r = 0; r < values.length; r++) {
    const v = values[r]!;
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31) {
      throw new XentError('TARGET_OUT_OF_RANGE', `sparseCrossEntropyLoss: yTrue[${r}] = ${v} is not a class id (an integer, or ignoreIndex ${ignoreIndex})`);
    }
    ids[r] = v;
  }
  return ids;
}

function describeTensor(x: unknown): string {
  if (x instanceof tf.Tensor) return `${x.dtype} [${x.shape.join(', ')}]`;
  return x === null || typeof x !== 'object' ? String(x) : `a ${x.constructor?.name ?? 'object'}`;
}
