// TensorFlow.js as a peer: tf.losses.softmaxCrossEntropy and sigmoidCrossEntropy and their
// gradients, on the wasm and cpu backends, one thread.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
// The union package: tfjs-core alone registers no gradients.
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** Where bench/tfjs-loss.js's section starts in RESULTS.md; bench/run.js keeps what follows it. */
let wasmReady;

/** Switches TF.js to a backend ('wasm' or 'cpu'); the wasm one is set up once, single-threaded. */
export async function useBackend(name) {
  if (name === 'wasm' && !wasmReady) {
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(`${dir}/`);
    setThreadsCount(1);
    wasmReady = true;
  }
  await tf.setBackend(name);
  await tf.ready();
}

/**
 * A TF.js cross-entropy step: labels as a one-hot matrix (made in int32 and cast: float32
 * oneHot returns garbage on the wasm backend), loss averaged over rows, optional gradient.
 */
export function tfCrossEntropy(logits, target, classes, withGrad) {
  const rows = target.length;
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(target, 'int32'), classes, 1, 0, 'int32'), 'float32'));
  return lossStep(labels, () => tf.tensor2d(logits, [rows, classes]), (x) => tf.losses.softmaxCrossEntropy(labels, x), withGrad);
}

/** A TF.js binary cross-entropy step: tf.losses.sigmoidCrossEntropy, the mean over every element. */
export function tfSigmoidCrossEntropy(logits, target, withGrad) {
  const labels = tf.tensor1d(target);
  return lossStep(labels, () => tf.tensor1d(logits), (x) => tf.losses.sigmoidCrossEntropy(labels, x), withGrad);
}

/**
 * Returns { run, gradient, dispose }: run computes the loss of a new input tensor (and its
 * gradient) and returns the loss; gradient() is the last gradient run computed; dispose frees
 * the labels.
 */
function lossStep(labels, input, lossOf, withGrad) {
  const valueAndGrad = tf.valueAndGrad(lossOf);
  let gradient;
  const run = () =>
    tf.tidy(() => {
      const x = input();
      if (!withGrad) return lossOf(x).dataSync()[0];
      const { value, grad } = valueAndGrad(x);
      gradient = grad.dataSync();
      return value.dataSync()[0];
    });
  return { run, gradient: () => gradient, dispose: () => labels.dispose() };
}
