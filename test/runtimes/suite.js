// The cross-runtime suite of npm run test:runtimes: plain JavaScript with no test framework, so
// that Node 22 and 24, Deno, Bun (test/runtimes/run.js) and Firefox (test/runtimes/page.html)
// run the same file against the built package (dist/). It returns a report; the runner
// (scripts/test-runtimes.js) decides what each runtime must match.
//
// What it checks: the determinism case of test/browser/determinism-case.js for both builds and
// 1 and 2 threads; every operation against xent/reference on a few shapes; threads giving the
// bits of one thread; Tensors; 16-bit logits; XentErrors.

import { EXPECTED_DIGEST, inputs, outputs, sha256 } from '../browser/determinism-case.js';
import { XentError, createEngine, mergeCrossEntropyShards } from '../../dist/index.js';
import * as reference from '../../dist/reference/index.js';

/** docs/API.md's accuracy promise, as test/support/compare.ts applies it. */
const TOL = 1e-5;

/**
 * Runs everything; never throws. `report.checks` lists each check with `ok` and, when it
 * failed, why.
 */
export default async function runSuite() {
  /** @type {{ name: string, ok: boolean, why?: string }[]} */
  const checks = [];
  const check = async (/** @type {string} */ name, /** @type {() => unknown} */ body) => {
    try {
      await body();
      checks.push({ name, ok: true });
    } catch (error) {
      checks.push({ name, ok: false, why: String(error?.stack ?? error) });
    }
  };
  const report = {
    /** What `simd: 'auto'` picks here, and the threads a 2-thread engine gets. */
    auto: { simd: '', threads: 0 },
    /**
     * SHA-256 of the determinism case per build and thread count, null where the build cannot
     * run; `large`: of crossEntropy on 300 x 1000 logits, baseline build, split across 2 threads.
     */
    digests: { baseline: {}, relaxed: {}, large: null },
    expected: EXPECTED_DIGEST,
    checks,
  };

  await check('the determinism inputs are the bytes Node 20 makes', async () => {
    equal(await sha256(inputs()), EXPECTED_DIGEST.inputs, 'SHA-256 of the inputs');
  });

  await check("simd: 'auto' and threads: 2", async () => {
    const engine = await createEngine({ threads: 2 });
    report.auto = { simd: engine.features.simd, threads: engine.features.threads };
    engine.dispose();
  });

  for (const simd of ['baseline', 'relaxed']) {
    for (const threads of [1, 2]) {
      const engine = await createEngine({ simd, threads }).catch((error) => {
        // A runtime without relaxed SIMD refuses it with BAD_OPTION; anything else is a failure.
        if (simd === 'relaxed' && error?.code === 'BAD_OPTION') return null;
        throw error;
      }).catch((error) => {
        checks.push({ name: `createEngine({ simd: '${simd}', threads: ${threads} })`, ok: false, why: String(error?.stack ?? error) });
        return null;
      });
      report.digests[simd][threads] = engine && (await sha256(outputs(engine)));
      if (!engine) continue;
      await check(`[${simd}, ${threads} threads] engine.features`, () => {
        equal(engine.features.simd, simd, 'features.simd');
        equal(engine.features.threads, threads, 'features.threads');
      });
      await check(`[${simd}, ${threads} threads] computing twice gives the same bytes`, async () => {
        equal(await sha256(outputs(engine)), report.digests[simd][threads], 'second digest');
      });
      await check(`[${simd}, ${threads} threads] every operation against xent/reference`, () => operations(engine));
      if (threads === 2) {
        await check(`[${simd}] 2 threads give the bits of 1 on 300 x 1000`, async () => {
          const digest = await threadsMatch(engine, simd);
          if (simd === 'baseline') report.digests.large = digest;
        });
      }
      await check(`[${simd}, ${threads} threads] Tensors`, () => tensors(engine));
      await check(`[${simd}, ${threads} threads] 16-bit logits`, () => halves(engine));
      await check(`[${simd}, ${threads} threads] XentErrors, nothing written`, () => errors(engine));
      engine.dispose();
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------

function fail(/** @type {string} */ message) {
  throw new Error(message);
}

function equal(/** @type {unknown} */ got, /** @type {unknown} */ want, /** @type {string} */ what) {
  if (!Object.is(got, want)) fail(`${what}: got ${String(got)}, expected ${String(want)}`);
}

/** NaN-ness and infinities must agree exactly; true or false then, undefined for finite pairs. */
function special(/** @type {number} */ g, /** @type {number} */ w) {
  if (Number.isNaN(g) || Number.isNaN(w)) return Number.isNaN(g) && Number.isNaN(w);
  if (!Number.isFinite(g) || !Number.isFinite(w)) return g === w;
  return undefined;
}

/** Fields compared by the whole-output rule: max |got - want| <= TOL * max |want|. */
const FIELDS = new Set(['grad', 'softmax']);

/**
 * Compares an engine result with the reference's, field by field and recursively: numbers and
 * float arrays per element within TOL * max(1, |want|) (fields in FIELDS by the whole-output
 * rule), integer arrays exactly.
 */
function close(/** @type {any} */ got, /** @type {any} */ want, /** @type {string} */ label) {
  if (typeof want === 'number') {
    const ok = special(got, want) ?? Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want));
    if (!ok) fail(`${label}: got ${got}, expected ${want}`);
    return;
  }
  if (want instanceof Int32Array) {
    equal(got?.length, want.length, `${label}.length`);
    for (let i = 0; i < want.length; i++) equal(got[i], want[i], `${label}[${i}]`);
    return;
  }
  if (ArrayBuffer.isView(want)) {
    equal(got?.length, want.length, `${label}.length`);
    const field = FIELDS.has(label.split('.').pop() ?? '');
    let scale = 0;
    if (field) for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
    for (let i = 0; i < want.length; i++) {
      const g = got[i], w = want[i];
      const limit = field ? Math.max(TOL * scale, 2 ** -126) : TOL * Math.max(1, Math.abs(w));
      if (!(special(g, w) ?? Math.abs(g - w) <= limit)) fail(`${label}[${i}]: got ${g}, expected ${w}`);
    }
    return;
  }
  if (Array.isArray(want)) {
    equal(got?.length, want.length, `${label}.length`);
    want.forEach((w, i) => close(got[i], w, `${label}[${i}]`));
    return;
  }
  if (want && typeof want === 'object') {
    for (const key of Object.keys(want)) close(got?.[key], want[key], `${label}.${key}`);
    return;
  }
  equal(got, want, label);
}

/** Floats from an LCG: the same values in every runtime (no Math.sin, whose last bit may differ). */
function floats(/** @type {number} */ n, /** @type {number} */ seed, lo = -4, hi = 4) {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = lo + ((hi - lo) * (s >>> 8)) / 2 ** 24;
  }
  return x;
}

const SHAPES = [
  { rows: 1, classes: 1 },
  { rows: 5, classes: 3 },
  { rows: 17, classes: 37 },
  { rows: 33, classes: 1000 },
];

/** Every operation of the engine on each shape, against the float64 reference. */
function operations(/** @type {import('../../src/index.js').Engine} */ engine) {
  for (const { rows, classes } of SHAPES) {
    const at = `${rows} x ${classes}`;
    const logits = floats(rows * classes, rows * 31 + classes);
    const teacher = floats(rows * classes, rows * 37 + classes + 1);
    const target = Int32Array.from({ length: rows }, (_, r) => (r === 1 ? -100 : (r * 7 + 3) % classes));
    const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + (c % 3) / 2);
    const probs = reference.softmax(floats(rows * classes, classes + 5), { classes });
    const soft = Float32Array.from(probs);
    const binary = Float32Array.from(floats(rows * classes, 11 + rows), (v) => (v > 0 ? 1 : v > -2 ? 0.25 : 0));
    const k = Math.min(3, classes);
    const ids = Int32Array.from({ length: rows * k }, (_, i) => (i * 13) % classes);

    close(engine.logSumExp(logits, { classes }), reference.logSumExp(logits, { classes }), `logSumExp ${at}`);
    close({ softmax: engine.softmax(logits, { classes, temperature: 0.75 }) },
      { softmax: reference.softmax(logits, { classes, temperature: 0.75 }) }, `${at}`);
    close(engine.logSoftmax(logits, { classes }), reference.logSoftmax(logits, { classes }), `logSoftmax ${at}`);
    const options = { classes, grad: true, weight, labelSmoothing: 0.1, zLoss: 1e-3, softcap: 15 };
    close(engine.crossEntropy(logits, target, options), reference.crossEntropy(logits, target, options), `crossEntropy ${at}`);
    const sum = { classes, grad: true, reduction: 'sum', gradScale: 0.5 };
    close(engine.crossEntropy(logits, soft, sum), reference.crossEntropy(logits, soft, sum), `crossEntropy soft ${at}`);
    const bce = { classes, grad: true, posWeight: weight };
    close(engine.binaryCrossEntropy(logits, binary, bce), reference.binaryCrossEntropy(logits, binary, bce), `binaryCrossEntropy ${at}`);
    close(engine.sigmoidFocalLoss(logits, binary, { grad: true }), reference.sigmoidFocalLoss(logits, binary, { grad: true }),
      `sigmoidFocalLoss ${at}`);
    const kl = { classes, temperature: 2, grad: true };
    close(engine.klDivergence(logits, teacher, kl), reference.klDivergence(logits, teacher, kl), `klDivergence ${at}`);
    const ev = { classes, topK: k, segments: Int32Array.of(0, rows >> 1, rows) };
    close(engine.evaluate(logits, target, ev), reference.evaluate(logits, target, ev), `evaluate ${at}`);
    close(engine.logProbs(logits, ids, { classes }), reference.logProbs(logits, ids, { classes }), `logProbs ${at}`);
    // The streaming evaluator over two batches gives evaluate's bits (its sums are exact).
    const evaluator = engine.evaluator();
    const cut = rows >> 1;
    evaluator.add(logits.subarray(0, cut * classes), target.subarray(0, cut), { classes });
    evaluator.add(logits.subarray(cut * classes), target.subarray(cut), { classes });
    const whole = engine.evaluate(logits, target, { classes });
    for (const key of ['loss', 'accuracy', 'entropy', 'count']) equal(evaluator.result()[key], whole[key], `evaluator ${at}: ${key}`);

    if (classes > 1) {
      // The vocabulary in two shards, merged, against crossEntropy on the whole logits.
      const half = classes >> 1;
      const shard = (/** @type {number} */ offset, /** @type {number} */ width) => {
        const part = new Float32Array(rows * width);
        for (let r = 0; r < rows; r++) part.set(logits.subarray(r * classes + offset, r * classes + offset + width), r * width);
        return part;
      };
      const parts = [[0, half], [half, classes - half]].map(([offset, width]) =>
        engine.crossEntropyShard(shard(offset, width), target, { classes: width, offset, totalClasses: classes }));
      close(mergeCrossEntropyShards(parts, {}), reference.crossEntropy(logits, target, { classes }), `crossEntropyShard merged ${at}`);
    }
  }
}

/**
 * A call split across two threads gives the bits of the same call on one thread; returns the
 * SHA-256 of its results.
 */
async function threadsMatch(/** @type {import('../../src/index.js').Engine} */ engine, /** @type {'baseline' | 'relaxed'} */ simd) {
  const rows = 300, classes = 1000;
  const logits = floats(rows * classes, 7, -6, 6);
  const target = Int32Array.from({ length: rows }, (_, r) => (r * 7919) % classes);
  const one = await createEngine({ simd, threads: 1 });
  try {
    const a = engine.crossEntropy(logits, target, { classes, grad: true });
    const b = one.crossEntropy(logits, target, { classes, grad: true });
    equal(a.loss, b.loss, 'loss');
    for (let i = 0; i < a.grad.length; i++) if (!Object.is(a.grad[i], b.grad[i])) fail(`grad[${i}]: ${a.grad[i]} with 2 threads, ${b.grad[i]} with 1`);
    const ea = engine.evaluate(logits, target, { classes }), eb = one.evaluate(logits, target, { classes });
    for (const key of ['loss', 'accuracy', 'entropy']) equal(ea[key], eb[key], `evaluate ${key}`);
    const bytes = (/** @type {ArrayBufferView} */ v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return await sha256([Float64Array.of(a.loss, a.count), a.losses, a.lse, a.grad].map(bytes));
  } finally {
    one.dispose();
  }
}

/** Tensors: results equal the plain arrays' bit for bit; the in-place gradient lands in t.data; free. */
function tensors(/** @type {import('../../src/index.js').Engine} */ engine) {
  const rows = 6, classes = 50;
  const logits = floats(rows * classes, 3);
  const target = Int32Array.from({ length: rows }, (_, r) => r % classes);
  const plain = engine.crossEntropy(logits, target, { classes, grad: true });
  const t = engine.tensor(rows, classes);
  t.data.set(logits);
  const viaTensor = engine.crossEntropy(t, target, { grad: 'inplace' });
  equal(viaTensor.loss, plain.loss, 'loss from a Tensor');
  equal(viaTensor.grad, t.data, "grad: 'inplace' is the tensor's data");
  for (let i = 0; i < plain.grad.length; i++) equal(t.data[i], plain.grad[i], `in-place grad[${i}]`);
  t.free();
  expectXentError(() => t.data, 'FREED', 'a freed tensor');
}

/**
 * Float to IEEE half bits, for values exact in half precision (normal range), as the inputs
 * here are: multiples of 1/256 in (-8, 8).
 */
function halfBits(/** @type {number} */ x) {
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  let a = Math.abs(x), e = 0;
  while (a >= 2) (a /= 2), e++;
  while (a < 1) (a *= 2), e--;
  return sign | ((e + 15) << 10) | ((a - 1) * 1024);
}

/** 16-bit logits: f16 and bf16 bits as Uint16Array, and a float16 tensor-like [B, T, V]. */
function halves(/** @type {import('../../src/index.js').Engine} */ engine) {
  const b = 2, t = 3, classes = 40, rows = b * t;
  // Multiples of 1/256 in (-8, 8) are exact in f16; multiples of 1/16 in (-8, 8), in bf16 too.
  const f16 = Float32Array.from({ length: rows * classes }, (_, i) => (((i * 2654435761) >>> 0) % 4095 - 2047) / 256);
  const bf16 = Float32Array.from(f16, (v) => Math.trunc(v * 16) / 16);
  const target = Int32Array.from({ length: rows }, (_, r) => (r * 11) % classes);
  const want16 = reference.crossEntropy(f16, target, { classes, grad: true });
  const bits16 = Uint16Array.from(f16, halfBits);
  close(engine.crossEntropy(bits16, target, { classes, dtype: 'f16', grad: true }), want16, 'crossEntropy f16');
  const bitsBf16 = new Uint16Array(new Uint32Array(bf16.buffer).map((w) => w >>> 16));
  close(engine.crossEntropy(bitsBf16, target, { classes, dtype: 'bf16', grad: true }),
    reference.crossEntropy(bf16, target, { classes, grad: true }), 'crossEntropy bf16');
  const tensorLike = { data: bits16, dims: [b, t, classes], type: 'float16' };
  close(engine.evaluate(tensorLike, target, {}), reference.evaluate(f16, target, { classes }), 'evaluate float16 tensor-like');
}

function expectXentError(/** @type {() => unknown} */ body, /** @type {string} */ code, /** @type {string} */ what) {
  try {
    body();
  } catch (error) {
    if (!(error instanceof XentError)) fail(`${what}: threw ${String(error)}, not an XentError`);
    equal(error.code, code, `${what}: code`);
    return;
  }
  fail(`${what}: did not throw`);
}

/** Bad input is an XentError with its code, and the caller's buffers stay as they were. */
function errors(/** @type {import('../../src/index.js').Engine} */ engine) {
  const logits = floats(12, 5);
  const before = logits.slice();
  expectXentError(() => engine.crossEntropy(logits, Int32Array.of(0, 1, 7), { classes: 4, grad: 'inplace' }),
    'TARGET_OUT_OF_RANGE', 'a target out of range');
  expectXentError(() => engine.softmax(logits, { classes: 5 }), 'SHAPE_MISMATCH', 'a length not divisible by classes');
  expectXentError(() => engine.crossEntropy(logits, Int32Array.of(0, 1, 2), { classes: 4, reduction: 'none' }),
    'BAD_OPTION', "reduction: 'none'");
  for (let i = 0; i < logits.length; i++) equal(logits[i], before[i], `logits[${i}] after the refused calls`);
}
