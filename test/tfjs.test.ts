// xent/tfjs: sparseCrossEntropyLoss against TF.js's own softmax cross-entropy (one-hot labels)
// and against the float64 reference for the options TF.js lacks, in tf.valueAndGrad, in a
// custom loop (optimizer.minimize with sparse ids) and in model.compile / model.fit, on the
// TF.js cpu backend.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, XentError, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import { sparseCrossEntropyLoss, type SparseCrossEntropyLossOptions } from '../src/tfjs.js';
import { expectField, expectLoss } from './support/compare.js';
import { makeLogits, makeProbs, makeTargets } from './support/data.js';

let engine: Engine;
beforeAll(async () => {
  await tf.setBackend('cpu');
  engine = await createEngine();
});
afterAll(() => engine.dispose());

const ROWS = 13;
const V = 37;
const logits = makeLogits(ROWS, V, 'normal', 5);
const ids = makeTargets(ROWS, V, 6);

/** The loss and d loss / d yPred of a TF.js loss, read out. */
function valueAndGrad(loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar, yTrue: tf.Tensor, yPred: tf.Tensor): { value: number; grad: Float32Array } {
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss(yTrue, x))(yPred);
  const out = { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  tf.dispose([value, grad]);
  return out;
}

const oneHot = (t: Int32Array, classes: number) => tf.tidy(() => tf.oneHot(tf.tensor1d(t, 'int32'), classes).toFloat());

describe('sparseCrossEntropyLoss', () => {
  it('matches tf.losses.softmaxCrossEntropy with one-hot labels, for ids int, float, [..., 1] and one-hot', () => {
    const yPred = tf.tensor2d(logits, [ROWS, V]);
    const labels = oneHot(ids, V);
    const want = valueAndGrad((y, x) => tf.losses.softmaxCrossEntropy(y, x) as tf.Scalar, labels, yPred);
    const loss = sparseCrossEntropyLoss(engine);
    const targets: Record<string, tf.Tensor> = {
      'int32 [N]': tf.tensor1d(ids, 'int32'),
      'float32 [N]': tf.tensor1d(ids, 'float32'),
      'int32 [N, 1]': tf.tensor2d(ids, [ROWS, 1], 'int32'),
      'one-hot [N, V]': labels,
    };
    for (const [name, yTrue] of Object.entries(targets)) {
      const got = valueAndGrad(loss, yTrue, yPred);
      expectLoss(got.value, want.value, { label: `loss, ${name}` });
      expectField(got.grad, want.grad, { label: `grad, ${name}` });
    }
    // A loss used inside a larger expression: its gradient is scaled by the upstream one.
    const scaled = valueAndGrad((y, x) => loss(y, x).mul(-3), labels, yPred);
    expectLoss(scaled.value, -3 * want.value, { label: 'loss * -3' });
    expectField(scaled.grad, want.grad.map((g) => -3 * g), { label: 'grad of loss * -3' });
    tf.dispose([yPred, ...Object.values(targets)]);
  });

  it('takes [B, T, V] logits with [B, T] ids, and soft probabilities as TF.js does', () => {
    const yPred = tf.tensor3d(logits.subarray(0, 12 * V), [3, 4, V]);
    const t = ids.subarray(0, 12);
    const want = valueAndGrad((y, x) => tf.losses.softmaxCrossEntropy(y.reshape([12, V]), x.reshape([12, V])) as tf.Scalar, oneHot(t, V), yPred);
    const got = valueAndGrad(sparseCrossEntropyLoss(engine), tf.tensor2d(t, [3, 4], 'int32'), yPred);
    expectLoss(got.value, want.value, { label: '[B, T, V] loss' });
    expectField(got.grad, want.grad, { label: '[B, T, V] grad' });
    expect(got.grad.length).toBe(12 * V);

    const soft = tf.tensor2d(makeProbs(ROWS, V, 8), [ROWS, V]);
    const x = tf.tensor2d(logits, [ROWS, V]);
    const wantSoft = valueAndGrad((y, z) => tf.losses.softmaxCrossEntropy(y, z) as tf.Scalar, soft, x);
    const gotSoft = valueAndGrad(sparseCrossEntropyLoss(engine), soft, x);
    expectLoss(gotSoft.value, wantSoft.value, { label: 'soft loss' });
    expectField(gotSoft.grad, wantSoft.grad, { label: 'soft grad' });
  });

  it('passes its options to the engine: the float64 reference with the same options', () => {
    const weight = Float32Array.from({ length: V }, (_, c) => 0.5 + (c % 5) / 4);
    const withIgnored = ids.map((t, r) => (r % 4 === 1 ? -1 : t));
    const cases: SparseCrossEntropyLossOptions[] = [
      { labelSmoothing: 0.1 },
      { weight },
      { ignoreIndex: -1 },
      { zLoss: 1e-3, softcap: 5 },
      { reduction: 'sum', weight, labelSmoothing: 0.2, ignoreIndex: -1 },
    ];
    const yPred = tf.tensor2d(logits, [ROWS, V]);
    const yTrue = tf.tensor1d(withIgnored, 'int32');
    for (const options of cases) {
      const label = JSON.stringify(options, (k, v) => (k === 'weight' ? 'w' : v));
      const ref = reference.crossEntropy(logits, options.ignoreIndex === -1 ? withIgnored : ids, { classes: V, ...options, grad: true });
      const got = valueAndGrad(sparseCrossEntropyLoss(engine, options), options.ignoreIndex === -1 ? yTrue : tf.tensor1d(ids, 'int32'), yPred);
      expectLoss(got.value, ref.loss, { label });
      expectField(got.grad, ref.grad!, { label });
    }
    // TF.js's own label smoothing agrees too (its formula is PyTorch's).
    const smooth = valueAndGrad((y, x) => tf.losses.softmaxCrossEntropy(y, x, undefined, 0.1) as tf.Scalar, oneHot(ids, V), yPred);
    expectLoss(valueAndGrad(sparseCrossEntropyLoss(engine, { labelSmoothing: 0.1 }), oneHot(ids, V), yPred).value, smooth.value, { label: 'TF.js labelSmoothing' });
    expect(() => sparseCrossEntropyLoss(engine, { temperature: 2 } as SparseCrossEntropyLossOptions)).toThrow(/unknown option 'temperature'/);
    expect(() => sparseCrossEntropyLoss(engine, { labelSmoothing: 2 })(yTrue, yPred)).toThrow(XentError);
  });

  it('refuses yTrue of the wrong dtype or shape with an XentError naming the shapes', () => {
    const yPred = tf.tensor2d(logits, [ROWS, V]);
    const loss = sparseCrossEntropyLoss(engine);
    const bad: Array<[tf.Tensor, RegExp, string]> = [
      [tf.zeros([ROWS, V + 1]), /yTrue must be class ids \[13\] or \[13, 1\], or probabilities \[13, 37\]; got yTrue float32 \[13, 38\], yPred float32 \[13, 37\]/, 'SHAPE_MISMATCH'],
      [tf.zeros([ROWS + 1], 'int32'), /got yTrue int32 \[14\], yPred float32 \[13, 37\]/, 'SHAPE_MISMATCH'],
      [tf.zeros([ROWS], 'bool'), /yTrue must be int32 or float32; got yTrue bool \[13\]/, 'SHAPE_MISMATCH'],
      [tf.fill([ROWS], 1.5), /yTrue\[0\] = 1.5 is not a class id/, 'TARGET_OUT_OF_RANGE'],
      [tf.fill([ROWS], V, 'int32'), /out of range/, 'TARGET_OUT_OF_RANGE'],
    ];
    for (const [yTrue, message, code] of bad) {
      let error: unknown;
      try {
        loss(yTrue, yPred);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(XentError);
      expect((error as XentError).code).toBe(code);
      expect((error as Error).message).toMatch(message);
    }
    expect(() => loss(tf.tensor1d(ids, 'int32'), tf.tensor2d(logits, [ROWS, V]).toInt())).toThrow(/yPred must be float32 logits \[\.\.\., V\]; got yTrue int32 \[13\], yPred int32 \[13, 37\]/);
  });

  it('trains a tf.LayersModel through model.compile and model.fit (one-hot targets)', async () => {
    // A 3-class problem: the class is the index of the largest of three inputs.
    const n = 96;
    const inputs = tf.randomUniform([n, 3], 0, 1, 'float32', 11);
    const classes = inputs.argMax(1) as tf.Tensor1D;
    const targets = tf.oneHot(classes, 3).toFloat();
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })],
    });
    const before = tf.tidy(() => tf.losses.softmaxCrossEntropy(targets, model.predict(inputs) as tf.Tensor).dataSync()[0]!);
    model.compile({ optimizer: tf.train.adam(0.05), loss: sparseCrossEntropyLoss(engine) });
    const history = await model.fit(inputs, targets, { epochs: 30, batchSize: n, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    // One batch per epoch: the first epoch's loss is the untrained model's, as TF.js computes it.
    expectLoss(losses[0]!, before, { label: 'first epoch' });
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
  });

  it("is the package's 'xent/tfjs' entry point", async () => {
    // The built package (dist/), as a user imports it, with its own engine.
    const [{ sparseCrossEntropyLoss: fromPackage }, { createEngine: createPackageEngine }] = await Promise.all([import('xent/tfjs'), import('xent')]);
    const packageEngine = await createPackageEngine();
    const yPred = tf.tensor2d(logits, [ROWS, V]);
    const got = valueAndGrad(fromPackage(packageEngine), tf.tensor1d(ids, 'int32'), yPred);
    packageEngine.dispose();
    const ref = reference.crossEntropy(logits, ids, { classes: V, grad: true });
    expectLoss(got.value, ref.loss, { label: 'xent/tfjs loss' });
    expectField(got.grad, ref.grad!, { label: 'xent/tfjs grad' });
  });

  it('trains in a custom loop with sparse ids (optimizer.minimize)', () => {
    const w = tf.variable(tf.zeros([4, V]));
    const x = tf.randomNormal([ROWS, 4], 0, 1, 'float32', 3);
    const y = tf.tensor1d(ids, 'int32');
    const loss = sparseCrossEntropyLoss(engine);
    const optimizer = tf.train.sgd(0.5);
    const step = () => optimizer.minimize(() => loss(y, x.matMul(w)), true)!.dataSync()[0]!;
    const first = step();
    expectLoss(first, Math.log(V), { label: 'zero weights' });
    let last = first;
    for (let i = 0; i < 50; i++) last = step();
    expect(last).toBeLessThan(first - 0.5);
  });
});
