// `xent demo` (what `npm start` runs): trains the character-level MLP of char-model.ts on
// Genesis and Exodus (King James Version) for a few thousand steps, with xent's fused
// cross-entropy forward + backward each step; then scores held-out text with
// engine.evaluate, samples a few lines, and compares the time spent in the loss with the
// float64 reference on the very same batches.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../index.js';
import * as reference from '../reference/index.js';
import { integerFlag, parse, threadsFlag } from './args.js';
import { Adam, CharMlp } from './char-model.js';
import { InputError } from './errors.js';
import { num, percent, seconds, table } from './format.js';
import { progressBar } from './progress.js';

const CORPUS = new URL('../../data/kjv-genesis-exodus.txt', import.meta.url);

/**
 * Model and training settings, picked so that the demo takes about 10 s on a 2-core machine
 * (most of it in the JS forward and backward passes) and reaches a held-out perplexity
 * near 5.6, against 19.9 for character frequencies alone.
 */
const MODEL = { context: 4, embed: 10, hidden: 64 };
const DEFAULTS = { steps: 2000, batch: 128, seed: 1 };
const LEARNING_RATE = 0.005;
/** Share of the corpus (its last lines) held out from training. */
const HELD_OUT = 0.1;
const SAMPLE_PROMPTS = ['And God said', 'And Moses', 'In the beginning'];
const TEMPERATURE = 0.7;
/** Longest sampled line, in characters; a verse usually ends sooner. */
const SAMPLE_LENGTH = 110;
/**
 * The float64 reference redoes the loss of every 4th batch: on every batch its plain-JS loops
 * would add about a third to the training time, and a quarter of them (500 by default)
 * times it well enough.
 */
const REFERENCE_EVERY = 4;

export const DEMO_USAGE = `usage: xent demo [options]

Trains a small character-level language model on Genesis and Exodus (KJV) with xent's
fused cross-entropy, then reports held-out perplexity and samples some text.

options:
  --steps N          training steps (default: ${DEFAULTS.steps})
  --batch N          characters per step (default: ${DEFAULTS.batch})
  --seed N           random seed (default: ${DEFAULTS.seed})
  --corpus FILE      train on another UTF-8 text instead
  --threads N|auto   engine threads (default: 1)
  -h, --help         show this help`;

/** mulberry32: a small seeded generator, so every run of the demo is the same. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Corpus {
  chars: string[];
  ids: Int32Array;
  /** Examples predict ids[i] for i in [context, trainEnd) (training) or [trainEnd + context, length). */
  trainEnd: number;
}

function loadCorpus(path: string | URL, context: number): Corpus {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const file = path instanceof URL ? fileURLToPath(path) : path;
    throw new InputError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  // Hold out the last lines, cut at a line break.
  const cut = text.lastIndexOf('\n', Math.floor(text.length * (1 - HELD_OUT))) + 1;
  if (ids.length < 20 * context || cut <= context || ids.length - cut <= context) {
    throw new InputError(String(path), `is too short to train on (${ids.length} characters)`);
  }
  // Code points, not UTF-16 units: [...text] and Int32Array.from agree on them.
  const trainEnd = [...text.slice(0, cut)].length;
  return { chars, ids, trainEnd };
}

/** contexts[r * K + k] = the k-th of the K characters before position positions[r]. */
function gather(ids: Int32Array, positions: ArrayLike<number>, K: number, contexts: Int32Array, targets: Int32Array): void {
  for (let r = 0; r < positions.length; r++) {
    const p = positions[r]!;
    for (let k = 0; k < K; k++) contexts[r * K + k] = ids[p - K + k]!;
    targets[r] = ids[p]!;
  }
}

export async function demo(args: string[]): Promise<number> {
  const { values } = parse(args, {
    steps: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    corpus: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const steps = integerFlag('--steps', values.steps, DEFAULTS.steps, 1);
  const batch = integerFlag('--batch', values.batch, DEFAULTS.batch, 1, 65536);
  const seed = integerFlag('--seed', values.seed, DEFAULTS.seed);
  const threads = threadsFlag(values.threads);
  const corpus = loadCorpus(values.corpus ?? CORPUS, MODEL.context);
  const engine = await createEngine({ threads });
  try {
    run(engine, corpus, { steps, batch, seed, corpusName: values.corpus ?? 'data/kjv-genesis-exodus.txt' });
  } finally {
    engine.dispose();
  }
  return 0;
}

interface RunOptions {
  steps: number;
  batch: number;
  seed: number;
  corpusName: string;
}

function run(engine: Engine, corpus: Corpus, options: RunOptions): void {
  const started = performance.now();
  const random = rng(options.seed);
  const V = corpus.chars.length;
  const model = new CharMlp({ vocab: V, ...MODEL }, random);
  const { ids, trainEnd } = corpus;

  console.log(`xent demo: a character-level language model trained with xent's fused cross-entropy`);
  console.log(
    `corpus   ${options.corpusName}: ${ids.length} characters, ${V} distinct; ` +
      `${trainEnd} for training, ${ids.length - trainEnd} held out`,
  );
  console.log(
    `model    ${MODEL.context} previous characters -> embeddings ${MODEL.context}x${MODEL.embed} -> tanh ${MODEL.hidden} ` +
      `-> ${V} logits (${model.parameterCount} parameters), Adam lr ${LEARNING_RATE}`,
  );
  console.log(
    `engine   simd ${engine.features.simd}, ${engine.features.threads} thread(s); ` +
      `${options.steps} steps of ${options.batch} characters\n`,
  );

  const timing = train(engine, model, corpus, options, random);
  heldOut(engine, model, corpus);
  samples(engine, model, corpus, random);
  printTiming(timing, options, V);
  console.log(
    `\ntraining took ${seconds(timing.trainSeconds)} ` +
      `(${((options.steps * options.batch) / timing.trainSeconds / 1000).toFixed(0)}k characters/s); ` +
      `the whole demo ${seconds((performance.now() - started) / 1000)}`,
  );
}

interface Timing {
  /** Milliseconds in engine.crossEntropy, over all batches and over the checked ones. */
  xent: number;
  xentChecked: number;
  /** Milliseconds in reference.crossEntropy, over the checked batches. */
  reference: number;
  checked: number;
  /** Largest |xent - reference| of the loss and of any gradient element. */
  lossDiff: number;
  gradDiff: number;
  trainSeconds: number;
}

/**
 * Each step: forward in JS, loss + d(loss)/d(logits) in one xent call that overwrites the
 * logits with their gradient, backward in JS, Adam. On every REFERENCE_EVERY-th batch the
 * float64 reference computes the same loss and gradient from a copy of the logits, for the
 * timing table and as a live check.
 */
function train(engine: Engine, model: CharMlp, corpus: Corpus, options: RunOptions, random: () => number): Timing {
  const { steps, batch: B } = options;
  const { ids, trainEnd } = corpus;
  const { vocab: V, context: K } = model.size;
  const adam = new Adam(model.parameterCount);
  const positions = new Int32Array(B);
  const contexts = new Int32Array(B * K);
  const targets = new Int32Array(B);
  const logits = new Float32Array(B * V);
  const copy = new Float32Array(B * V);
  const timing: Timing = { xent: 0, xentChecked: 0, reference: 0, checked: 0, lossDiff: 0, gradDiff: 0, trainSeconds: 0 };
  const bar = progressBar(steps, 'training |{bar}| step {value}/{total} | loss {loss} | {rate} steps/s | {chars}k chars/s', {
    loss: '-', rate: '-', chars: '-',
  });
  const reportEvery = Math.max(1, Math.round(steps / 10));
  const warmup = Math.min(100, Math.ceil(steps / 10));
  let recent = 0; // loss summed since the last report
  let recentCount = 0;
  const start = performance.now();

  for (let step = 1; step <= steps; step++) {
    for (let r = 0; r < B; r++) positions[r] = K + Math.floor(random() * (trainEnd - K));
    gather(ids, positions, K, contexts, targets);
    model.forward(contexts, B, logits);
    const checking = step % REFERENCE_EVERY === 0;
    if (checking) copy.set(logits);

    let t0 = performance.now();
    const result = engine.crossEntropy(logits, targets, { classes: V, grad: 'inplace' });
    const took = performance.now() - t0;
    timing.xent += took;
    if (checking) {
      t0 = performance.now();
      const check = reference.crossEntropy(copy, targets, { classes: V, grad: true });
      timing.reference += performance.now() - t0;
      timing.xentChecked += took;
      timing.checked += 1;
      timing.lossDiff = Math.max(timing.lossDiff, Math.abs(result.loss - check.loss));
      for (let i = 0; i < logits.length; i++) timing.gradDiff = Math.max(timing.gradDiff, Math.abs(logits[i]! - check.grad![i]!));
    }

    model.backward(logits, B);
    // A short warm-up, then a linear decay to a tenth of the rate.
    const lr = LEARNING_RATE * Math.min(1, step / warmup) * (1 - 0.9 * (step / steps));
    adam.step(model.params, model.grads, lr);

    recent += result.loss;
    recentCount += 1;
    const rate = step / ((performance.now() - start) / 1000);
    if (bar !== undefined && (step % 10 === 0 || step === steps)) {
      bar.update(step, { loss: (recent / recentCount).toFixed(4), rate: rate.toFixed(0), chars: ((rate * B) / 1000).toFixed(0) });
    }
    if (step % reportEvery === 0 || step === steps) {
      if (bar === undefined) {
        console.log(
          `step ${String(step).padStart(String(steps).length)}/${steps}  loss ${(recent / recentCount).toFixed(4)}  ` +
            `${rate.toFixed(0)} steps/s  ${((rate * B) / 1000).toFixed(1)}k chars/s`,
        );
      }
      recent = 0;
      recentCount = 0;
    }
  }
  bar?.stop();
  timing.trainSeconds = (performance.now() - start) / 1000;
  return timing;
}

/** Every held-out character, predicted from the K before it, scored by engine.evaluate. */
function heldOut(engine: Engine, model: CharMlp, corpus: Corpus): void {
  const { ids, trainEnd } = corpus;
  const { vocab: V, context: K } = model.size;
  const positions = Int32Array.from({ length: ids.length - trainEnd - K }, (_, i) => trainEnd + K + i);
  const N = positions.length;
  const contexts = new Int32Array(N * K);
  const targets = new Int32Array(N);
  gather(ids, positions, K, contexts, targets);
  const logits = new Float32Array(N * V);
  model.forward(contexts, N, logits);
  const k = 3;
  const result = engine.evaluate(logits, targets, { classes: V, topK: k });
  let topHits = 0;
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < k; j++) if (result.topK!.indices[r * k + j] === targets[r]) topHits += 1;
  }
  // For scale: a model that ignores the context and predicts training frequencies.
  const counts = new Float64Array(V);
  for (let i = 0; i < trainEnd; i++) counts[ids[i]!]! += 1;
  let unigram = 0;
  for (let r = 0; r < N; r++) unigram -= Math.log(counts[targets[r]!]! / trainEnd);

  console.log(`\nheld-out text (${N} characters), engine.evaluate:`);
  console.log(
    table(
      [
        ['perplexity', num(result.perplexity, 5), `(a unigram model: ${num(Math.exp(unigram / N), 4)}; uniform guessing: ${V})`],
        ['bits per character', num(result.bitsPerToken, 5), ''],
        ['loss', num(result.loss, 5), 'nats per character'],
        ['accuracy', percent(result.accuracy), 'next character is the most likely one'],
        [`top-${k} accuracy`, percent(topHits / N), ''],
        ['entropy', num(result.entropy, 5), "nats, the model's own uncertainty"],
        ['count', String(result.count), 'characters'],
      ],
      [false, true, false],
    ),
  );
}

/** A line of generated text per prompt, sampled from engine.softmax at TEMPERATURE. */
function samples(engine: Engine, model: CharMlp, corpus: Corpus, random: () => number): void {
  const { vocab: V, context: K } = model.size;
  const index = new Map(corpus.chars.map((c, i) => [c, i]));
  const logits = new Float32Array(V);
  const context = new Int32Array(K);
  console.log(`\nsamples (temperature ${TEMPERATURE}):`);
  for (const prompt of SAMPLE_PROMPTS) {
    const text = [...prompt].map((c) => index.get(c) ?? 0);
    let line: string;
    for (;;) {
      context.set(text.slice(-K));
      model.forward(context, 1, logits);
      const p = engine.softmax(logits, { classes: V, temperature: TEMPERATURE });
      let u = random();
      let next = V - 1;
      for (let c = 0; c < V; c++) if ((u -= p[c]!) < 0) { next = c; break; }
      line = text.map((i) => corpus.chars[i]).join('');
      if (corpus.chars[next] === '\n') break;
      if (text.length >= SAMPLE_LENGTH) {
        line = line.slice(0, line.lastIndexOf(' ')) + ' ...';
        break;
      }
      text.push(next);
    }
    console.log(`  ${line}`);
  }
}

function printTiming(timing: Timing, options: RunOptions, V: number): void {
  const { checked } = timing;
  const perBatch = (ms: number, n: number) => `${((ms * 1000) / Math.max(n, 1)).toFixed(1)} us per batch`;
  console.log(`\ncross-entropy forward + backward (loss and gradient) of ${options.batch} x ${V} logits:`);
  console.log(
    table(
      [
        [`xent, all ${options.steps} batches`, seconds(timing.xent / 1000), perBatch(timing.xent, options.steps)],
        [`xent, ${checked} of them (every ${REFERENCE_EVERY}th)`, seconds(timing.xentChecked / 1000), perBatch(timing.xentChecked, checked)],
        ['float64 reference, the same batches', seconds(timing.reference / 1000), perBatch(timing.reference, checked)],
      ],
      [false, true, true],
    ),
  );
  if (checked > 0) {
    console.log(
      `xent was ${(timing.reference / Math.max(timing.xentChecked, 1e-9)).toFixed(1)}x faster than the reference; ` +
        `largest difference: loss ${timing.lossDiff.toExponential(1)}, gradient ${timing.gradDiff.toExponential(1)}`,
    );
  }
}
