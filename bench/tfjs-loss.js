// npm run bench:tfjs: one TF.js training step of a model whose output layer has V = 32000
// classes, on the wasm backend (one thread), with TF.js's softmax cross-entropy (one-hot labels)
// against xent's sparseCrossEntropyLoss (class ids). Times the whole step (forward, loss,
// backward, SGD update) and the loss part alone (loss and its gradient with respect to given
// logits), each the median of samples taken in interleaved rounds. Both losses are checked
// against each other first. Writes its section at the end of bench/RESULTS.md.
//
//   node --experimental-wasm-relaxed-simd bench/tfjs-loss.js [--no-write]
//
// Kept out of npm run bench: its step time is mostly TF.js's dense layers, not a loss.

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createEngine } from '../dist/index.js';
import { sparseCrossEntropyLoss } from '../dist/tfjs.js';
import { SECTIONS, writeResults } from './results.js';
import { useBackend } from './tfjs.js';

const { values: flags } = parseArgs({ options: { 'no-write': { type: 'boolean', default: false } } });

const ROWS = 32;
const HIDDEN = 128;
const V = 32000;
const ROUNDS = 5;
const SAMPLES_PER_ROUND = 4;

await useBackend('wasm');
const engine = await createEngine();
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [HIDDEN], units: HIDDEN, activation: 'relu' }),
    tf.layers.dense({ units: V }),
  ],
});
const x = tf.randomNormal([ROWS, HIDDEN], 0, 1, 'float32', 1);
const ids = tf.randomUniform([ROWS], 0, V, 'int32', 2);
// Made in int32 and cast: a float32 oneHot is wrong on the wasm backend (see bench/tfjs.js).
const oneHot = tf.tidy(() => tf.oneHot(ids, V, 1, 0, 'int32').toFloat());
const optimizer = tf.train.sgd(1e-3);

const contenders = {
  'TF.js softmaxCrossEntropy (one-hot)': { loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits), labels: oneHot },
  'xent sparseCrossEntropyLoss (ids)': { loss: sparseCrossEntropyLoss(engine), labels: ids },
};

const logits = model.predict(x);
const values = Object.entries(contenders).map(([name, { loss, labels }]) => {
  const { value, grad } = tf.valueAndGrad((z) => loss(labels, z))(logits);
  const out = { name, value: value.dataSync()[0], grad: grad.dataSync() };
  tf.dispose([value, grad]);
  return out;
});
const [a, b] = values;
let maxDiff = 0, maxGrad = 0;
for (let i = 0; i < a.grad.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(a.grad[i] - b.grad[i]));
  maxGrad = Math.max(maxGrad, Math.abs(a.grad[i]));
}
if (Math.abs(a.value - b.value) > 1e-4 * Math.max(1, a.value) || maxDiff > 1e-4 * maxGrad) {
  throw new Error(`the losses disagree: ${a.value} vs ${b.value}, gradients differ by ${maxDiff} (max ${maxGrad})`);
}
console.log(`check: loss ${a.value.toFixed(6)} (TF.js) vs ${b.value.toFixed(6)} (xent), max gradient difference ${maxDiff.toExponential(2)}`);

const tasks = {};
for (const [name, { loss, labels }] of Object.entries(contenders)) {
  tasks[`${name}: step`] = () => {
    const l = optimizer.minimize(() => loss(labels, model.apply(x)), true);
    l.dataSync();
    l.dispose();
  };
  tasks[`${name}: loss part`] = () => {
    const { value, grad } = tf.valueAndGrad((z) => loss(labels, z))(logits);
    grad.dataSync();
    tf.dispose([value, grad]);
  };
}

/** Median milliseconds of each task over interleaved rounds, after a warm-up run each. */
function timeInRounds() {
  const samples = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (const task of Object.values(tasks)) task();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, task] of Object.entries(tasks)) {
      for (let i = 0; i < SAMPLES_PER_ROUND; i++) {
        const t0 = performance.now();
        task();
        samples[name].push(performance.now() - t0);
      }
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, s.sort((p, q) => p - q)[s.length >> 1]]));
}

const leaked = tf.memory().numTensors;
const ms = timeInRounds();
if (tf.memory().numTensors !== leaked) throw new Error(`tensors leaked: ${leaked} before timing, ${tf.memory().numTensors} after`);

const [tfName, xentName] = Object.keys(contenders);
const row = (name) => [name, ms[`${name}: step`], ms[`${name}: loss part`]];
const fmt = (v) => v.toFixed(2);
const lines = [
  SECTIONS.tfjs,
  '',
  `Written by \`npm run bench:tfjs\` (bench/tfjs-loss.js), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `TF.js ${tf.version.tfjs} wasm backend (1 thread), xent ${engine.features.simd} SIMD, 1 thread.`,
  `Model: dense ${HIDDEN} -> ${HIDDEN} (relu) -> dense ${HIDDEN} -> ${V}; batch of ${ROWS} rows (${ROWS * V} logits); SGD.`,
  'Step: optimizer.minimize (forward, loss, backward, update) and reading the loss. Loss part: the loss and its',
  `gradient with respect to given logits (tf.valueAndGrad), gradient read. Medians of ${ROUNDS * SAMPLES_PER_ROUND} samples in ${ROUNDS} interleaved rounds.`,
  '',
  '| loss | step (ms) | loss part (ms) | loss part, ns per logit |',
  '| --- | --- | --- | --- |',
  ...[tfName, xentName].map((name) => {
    const [, step, part] = row(name);
    return `| ${name} | ${fmt(step)} | ${fmt(part)} | ${((part * 1e6) / (ROWS * V)).toFixed(1)} |`;
  }),
  '',
  `Step: TF.js / xent = ${(ms[`${tfName}: step`] / ms[`${xentName}: step`]).toFixed(2)}; ` +
    `loss part: TF.js / xent = ${(ms[`${tfName}: loss part`] / ms[`${xentName}: loss part`]).toFixed(1)}.`,
  "Most of xent's loss part is moving data between TF.js's memory and xent's (the logits read with dataSync, the",
  'gradient made into a tensor): the fused kernel is the 1-2 ns per logit of the tables above. On this machine, fresh',
  'memory is slow to touch the first time (about 20 ms per 4 MB array), which such copies pay.',
  '',
];
console.log(`\n${lines.join('\n')}`);
if (!flags['no-write']) {
  writeResults('tfjs', lines.join('\n'));
}
engine.dispose();
