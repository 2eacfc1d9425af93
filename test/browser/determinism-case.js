// One fixed case whose outputs must be bit-identical in Node and in Chromium: the same .wasm,
// the same inputs, the same float64 reductions in JavaScript. Both test/determinism.test.ts
// (Node) and test/browser/determinism.test.ts (Chromium) hash the output bytes with SHA-256
// (crypto.subtle, in both) and compare against the one constant below, computed in Node.
//
// The inputs use integer arithmetic only (no Math.exp or Math.log, whose last bit a JS engine
// is free to choose), and every logit is a multiple of 1/256 in [-8, 8], exact in float32.
//
// Plain JavaScript, so that every runtime of npm run test:runtimes (test/runtimes/suite.js),
// Firefox included, runs this very file as it is.

/**
 * SHA-256 of the input bytes, and of the output bytes per build, computed in Node 20. A change
 * to a kernel changes these on purpose: take the new values from the failure message of the
 * Node test (test/determinism.test.ts), then check that Chromium agrees. The baseline build is
 * deterministic by the WebAssembly spec.
 * The relaxed build's relaxed_madd may or may not fuse; V8 fuses it on every x86-64 with
 * FMA3 and on arm64, in Node, Deno and Chromium alike, so one constant serves them all there
 * (npm run test:runtimes requires it of every V8 runtime). On a CPU without FMA this constant
 * would change for all of them together. JavaScriptCore (Bun) does not fuse: its relaxed bytes
 * differ, and are only reported.
 */
export const EXPECTED_DIGEST = {
  inputs: 'f0e07374e4757f924152fb0e00486fb1456e477e40be6777d13e0f8d14bbc01d',
  baseline: 'ec403e64e94cd2f2002b2e1fda1572c761b38eca6a59c0917f0b002cbef13af6',
  relaxed: '17d9adf646b19a7d244c792afdff9c57591af71fdf5469241233012b921a1693',
};

const SHAPES = [
  { rows: 9, classes: 37 }, // two unrolled blocks of 16, one vector of 4, a tail of 1
  { rows: 4, classes: 1000 },
];

/** @returns {Float32Array} */
function fixedLogits(/** @type {number} */ rows, /** @type {number} */ classes, /** @type {number} */ seed) {
  const x = new Float32Array(rows * classes);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // Numerical Recipes' LCG
    x[i] = (((s >>> 8) % 4097) - 2048) / 256;
  }
  return x;
}

/** The inputs of one shape: logits, class indices (one row ignored), class weights, soft labels. */
export function fixedInputs(/** @type {number} */ rows, /** @type {number} */ classes) {
  const logits = fixedLogits(rows, classes, rows * 1000 + classes);
  const target = Int32Array.from({ length: rows }, (_, r) => (r === 2 ? -100 : (r * 7 + 3) % classes));
  const weight = Float32Array.from({ length: classes }, (_, c) => (1 + (c % 5)) / 4);
  const probs = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let c = 0; c < classes; c++) total += (r + c) % 4;
    for (let c = 0; c < classes; c++) probs[r * classes + c] = ((r + c) % 4) / total;
  }
  return { logits, target, weight, probs };
}

/**
 * Every output of the case, in a fixed order, as the bytes that get hashed.
 * @param {import('../../src/index.js').Engine} engine
 * @returns {Uint8Array[]}
 */
export function outputs(engine) {
  /** @type {Uint8Array[]} */
  const parts = [];
  const add = (/** @type {Float32Array | Float64Array} */ a) => parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  for (const { rows, classes } of SHAPES) {
    const { logits, target, weight, probs } = fixedInputs(rows, classes);
    const plain = engine.crossEntropy(logits, target, { classes, grad: true });
    const full = engine.crossEntropy(logits, target, {
      classes, grad: true, weight, labelSmoothing: 0.125, zLoss: 1 / 1024, softcap: 20, reduction: 'sum', gradScale: 0.5,
    });
    const soft = engine.crossEntropy(logits, probs, { classes, grad: true, labelSmoothing: 0.25 });
    for (const r of [plain, full, soft]) {
      add(Float64Array.of(r.loss, r.zLoss, r.count));
      add(r.losses);
      add(r.lse);
      add(/** @type {Float32Array} */ (r.grad));
    }
    add(engine.softmax(logits, { classes, temperature: 0.75 }));
    add(engine.logSoftmax(logits, { classes }));
    add(engine.logSumExp(logits, { classes }));
  }
  return parts;
}

/**
 * The bytes of every input, to tell a changed input from a changed output.
 * @returns {Uint8Array[]}
 */
export function inputs() {
  return SHAPES.flatMap(({ rows, classes }) =>
    Object.values(fixedInputs(rows, classes)).map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)),
  );
}

/**
 * @param {Uint8Array[]} parts
 * @returns {Promise<string>}
 */
export async function sha256(parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
