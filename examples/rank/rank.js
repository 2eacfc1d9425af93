// Ranks candidate continuations of a prompt by their log-probability under the project's
// character model (data/char-model.onnx), run by onnxruntime-web's wasm backend; xent's
// logProbs reads the log-probability of each candidate character from the model's logits
// (one pass per row, no softmax materialized). Plain ES modules from the import map.

import * as ort from 'onnxruntime-web';
import { createEngine } from 'xent';

const $ = (selector) => document.querySelector(selector);
const DATA = new URL('../../data/', import.meta.url);

function showStatus(items, { error = false } = {}) {
  const status = $('#status');
  status.replaceChildren(...items.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
  status.dataset.ready = String(!error);
}

let engine, session, meta;
try {
  // onnxruntime-web finds its .wasm next to its module; one thread keeps the numbers the same
  // whether or not the page is cross-origin isolated.
  ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
  ort.env.wasm.numThreads = 1;
  [engine, session, meta] = await Promise.all([
    createEngine(),
    ort.InferenceSession.create(new URL('char-model.onnx', DATA).href, { executionProviders: ['wasm'] }),
    fetch(new URL('char-model.json', DATA)).then((r) => r.json()),
  ]);
} catch (error) {
  showStatus([`failed to load: ${error.message}`], { error: true });
  throw error;
}
const vocab = [...meta.vocabulary];
const index = new Map(vocab.map((c, i) => [c, i]));
const V = vocab.length;
showStatus([
  `model: ${meta.model.layers} layers, ${meta.model.parameters} parameters, ${V} characters, context ${meta.context}`,
  `onnxruntime-web ${ort.env.versions.web} (wasm)`,
  `xent SIMD: ${engine.features.simd}`,
]);

/** Ids of the characters of `text`; a character the model does not know is an error naming it. */
function encode(text, what) {
  return [...text].map((c, i) => {
    const id = index.get(c);
    if (id === undefined) throw new Error(`${what}: character ${JSON.stringify(c)} at ${i} is not in the model's vocabulary`);
    return id;
  });
}

/**
 * log p(candidate | prompt) and each character's log-probability. The model sees at most its
 * context: the prompt is cut from the left to make room for the candidate.
 */
async function score(promptIds, candidate) {
  const cand = encode(candidate, `candidate '${candidate}'`);
  if (cand.length === 0 || cand.length >= meta.context) throw new Error(`candidate '${candidate}': 1 to ${meta.context - 1} characters, please`);
  const ids = [...promptIds.slice(-(meta.context - cand.length)), ...cand];
  const T = ids.length;
  const P = T - cand.length;
  const { logits } = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]) });
  // Position t predicts character t + 1: rows P - 1 .. T - 2 predict the candidate.
  const rows = logits.data.subarray((P - 1) * V, (T - 1) * V);
  const { logprobs } = engine.logProbs(rows, Int32Array.from(cand), { classes: V });
  logits.dispose();
  return { candidate, logprob: logprobs.reduce((a, b) => a + b, 0), logprobs: Array.from(logprobs) };
}

async function rank() {
  const error = $('#error');
  error.hidden = true;
  const button = $('#rank');
  button.disabled = true;
  try {
    const prompt = $('#prompt').value;
    if (prompt.length === 0) throw new Error('the prompt is empty: the first character of a candidate needs something before it');
    const promptIds = encode(prompt, 'prompt');
    const candidates = $('#candidates').value.split('\n').filter((line) => line.length > 0);
    const scored = [];
    for (const candidate of candidates) scored.push(await score(promptIds, candidate));
    // Most likely first; equal log-probabilities keep their input order (sort is stable).
    scored.sort((a, b) => b.logprob - a.logprob);
    show(scored);
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function show(scored) {
  const list = $('#ranking');
  list.replaceChildren(...scored.map(({ candidate, logprob, logprobs }) => {
    const li = document.createElement('li');
    li.dataset.candidate = candidate;
    li.dataset.logprob = String(logprob);
    const text = Object.assign(document.createElement('span'), { className: 'text' });
    [...candidate].forEach((c, i) => {
      const bits = -logprobs[i] / Math.LN2;
      const span = Object.assign(document.createElement('span'), {
        className: 'char', textContent: c, title: `${bits.toFixed(2)} bits`,
      });
      span.dataset.surprisal = String(bits);
      span.style.background = `rgba(224, 85, 91, ${Math.min(1, bits / 12).toFixed(3)})`;
      text.append(span);
    });
    const numbers = Object.assign(document.createElement('span'), {
      className: 'numbers',
      textContent: `log p = ${logprob.toFixed(3)} · ${(-logprob / Math.LN2 / logprobs.length).toFixed(2)} bits per character`,
    });
    li.append(text, numbers);
    return li;
  }));
  list.dataset.ranked = String(Number(list.dataset.ranked ?? 0) + 1);
}

$('#rank').addEventListener('click', rank);
$('#rank').disabled = false;
await rank();
