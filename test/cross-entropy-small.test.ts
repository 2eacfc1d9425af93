// crossEntropy on short rows: the kernel takes every row four at a time (assembly/kernels/
// cross-entropy-rows4.ts) when classes <= SMALL_CLASSES (256) and there is neither soft-capping nor
// label smoothing; rows % 4 fill a last group whose spare lanes repeat the last row. Checked
// against the float64 reference for every classes mod 4 and rows mod 4, past the switch-over,
// against the row-at-a-time kernel (both called directly), and for results
// that do not depend on a row's position (so that threads and chunks change no bit).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { CrossEntropyOptions } from '../src/types.js';
import { expectField, expectLoss, expectLosses, sameBits } from './support/compare.js';
import { DATA_CLASSES, makeLogits, makeTargets, rng } from './support/data.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';


/** Class counts 1..40: the narrow (V < 4) and wide paths, every V mod 4. */
const CLASSES = Array.from({ length: 40 }, (_, i) => i + 1);
/** Longer rows, up to and past SMALL_CLASSES = 256. */
const LONGER = [63, 64, 65, 127, 128, 129, 254, 255, 256, 257, 260];
/** Row counts 1..13: every rows mod 4, zero to three groups of four. */
const ROWS = Array.from({ length: 13 }, (_, i) => i + 1);

const weightOf = (classes: number) => new Float32Array(classes).map((_, c) => 0.25 + (c % 7) / 3);

type Case = [name: string, options: (classes: number) => CrossEntropyOptions, ignoreShare: number];
const OPTIONS: Case[] = [
  ['mean', () => ({}), 0],
  ['class weights', (c) => ({ weight: weightOf(c) }), 0],
  ['z-loss', () => ({ zLoss: 1e-3 }), 0],
  ['ignored rows', () => ({}), 0.3],
  ['ignoreIndex 0', () => ({ ignoreIndex: 0 }), 0],
  ['gradScale 1/8, sum', () => ({ gradScale: 0.125, reduction: 'sum' }), 0],
  ['weights, z-loss, ignored rows, gradScale 3, sum', (c) => ({ weight: weightOf(c), zLoss: 0.01, gradScale: 3, reduction: 'sum' }), 0.3],
];

/** Engine (fused forward and backward) against the reference: losses, lse, loss, zLoss, grad. */
function compare(
  engine: Engine,
  label: string,
  logits: Float32Array,
  target: Int32Array,
  options: CrossEntropyOptions & { classes: number },
): void {
  const got = engine.crossEntropy(logits, target, { ...options, grad: true });
  const want = reference.crossEntropy(logits, target, { ...options, grad: true });
  // Rows whose target holds all the probability ('dominant' data) have gradients of ~1e-16,
  // below what the reference's own p[t] - 1 resolves in float64: hence termScale, the size of
  // the terms c p[j] and c that those gradients are differences of.
  const where = { label, classes: options.classes, termScale: termScale(target, options) };
  expectLoss(got.loss, want.loss, where);
  expectLoss(got.zLoss, want.zLoss, { label: `${label} zLoss` });
  expectLosses(got.losses, want.losses, where);
  expectLosses(got.lse, want.lse, { label: `${label} lse` });
  expectField(got.grad!, want.grad!, where);
  expect(got.count).toBe(want.count);
}

/** Largest ceScale w[t] of a call: gradScale w[t], divided by the summed target weight under 'mean'. */
function termScale(target: Int32Array, options: CrossEntropyOptions & { classes: number }): number {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const w = (t: number) => (options.weight === undefined ? 1 : Number(options.weight[t]));
  let largest = 0, total = 0;
  for (const t of target) {
    if (t === ignoreIndex) continue;
    largest = Math.max(largest, w(t));
    total += w(t);
  }
  return Math.abs(options.gradScale ?? 1) * largest / (options.reduction === 'sum' || total === 0 ? 1 : total);
}

describe.each(BUILDS)('crossEntropy, short rows four at a time [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference for 1..40 classes and up to 260, and 1..13 rows', () => {
    it.each([...CLASSES, ...LONGER])('%i classes, every data class', (classes) => {
      for (const rows of ROWS) {
        for (const data of DATA_CLASSES) {
          const logits = makeLogits(rows, classes, data, 100 * classes + rows);
          const target = makeTargets(rows, classes, 7 * classes + rows, 0.15);
          compare(engine, `${build} ${rows}x${classes} ${data}`, logits, target, { classes });
        }
      }
    });

    it.each([...CLASSES, ...LONGER])('%i classes, with weights, z-loss, ignored rows, gradScale, sum', (classes) => {
      for (const rows of ROWS) {
        for (const [name, options, ignoreShare] of OPTIONS) {
          const opts = { classes, ...options(classes) };
          const ignored = opts.ignoreIndex ?? -100;
          const logits = makeLogits(rows, classes, 'normal', 31 * classes + rows);
          const target = makeTargets(rows, classes, 3 * classes + rows, ignoreShare).map((t) => (t === -100 ? ignored : t));
          compare(engine, `${build} ${rows}x${classes} ${name}`, logits, target, opts);
        }
      }
    });
  });

  it('forward alone gives the fused call\'s losses and lse bit for bit', () => {
    for (const classes of CLASSES) {
      const rows = 13;
      const logits = makeLogits(rows, classes, 'normal', classes);
      const target = makeTargets(rows, classes, classes + 1, 0.2);
      for (const options of [{}, { weight: weightOf(classes), zLoss: 1e-3 }]) {
        const fused = engine.crossEntropy(logits, target, { classes, grad: true, ...options });
        const forward = engine.crossEntropy(logits, target, { classes, ...options });
        expect(forward.losses, `${build} ${rows}x${classes}`).toEqual(fused.losses);
        expect(forward.lse, `${build} ${rows}x${classes} lse`).toEqual(fused.lse);
        expect(forward.grad).toBeUndefined();
      }
    }
  });

  it('a row gives the same bits wherever it sits: alone, in a group of four or in the last, partial group', () => {
    for (const classes of [...CLASSES, ...LONGER]) {
      const rows = 11;
      const logits = makeLogits(rows, classes, 'normal', 5 * classes);
      const target = makeTargets(rows, classes, 5 * classes + 1, 0.2);
      const options = { classes, weight: weightOf(classes), zLoss: 0.01, reduction: 'sum' as const, grad: true };
      const whole = engine.crossEntropy(logits, target, options);
      // Every start and length: shifts each row through every lane and into partial groups.
      for (let start = 0; start < 4; start++) {
        for (let length = 1; start + length <= rows; length++) {
          const part = engine.crossEntropy(logits.subarray(start * classes, (start + length) * classes), target.subarray(start, start + length), options);
          const label = `${build} ${classes} classes, rows ${start}..${start + length - 1}`;
          expect(sameBits(part.losses, whole.losses.subarray(start, start + length)), label).toBe(true);
          expect(sameBits(part.lse, whole.lse.subarray(start, start + length)), `${label} lse`).toBe(true);
          expect(sameBits(part.grad!, whole.grad!.subarray(start * classes, (start + length) * classes)), `${label} grad`).toBe(true);
        }
      }
    }
  });

  it('the four-rows kernel agrees with the row-at-a-time kernel, called directly', () => {
    const { kernels, memory, base } = rawKernels(build);
    for (const classes of [...CLASSES, ...LONGER]) {
      const rows = 9;
      const logits = makeLogits(rows, classes, 'normal', 9 * classes);
      const target = makeTargets(rows, classes, 9 * classes + 1, 0.2);
      for (const options of [{}, { weight: weightOf(classes), zLoss: 0.01, gradScale: 2, reduction: 'sum' as const }]) {
        const run = (path: 'rows4' | 'rowwise') => {
          // Raw memory: logits, grad, target, weight, losses, lse, one after another.
          const ptr = [base];
          for (const n of [rows * classes, rows * classes, rows, classes, rows, rows]) ptr.push(ptr[ptr.length - 1]! + 4 * n);
          const [x, grad, t, w, losses, lse] = ptr as [number, number, number, number, number, number];
          new Float32Array(memory.buffer, x, rows * classes).set(logits);
          new Int32Array(memory.buffer, t, rows).set(target);
          const weight = options.weight === undefined ? 0 : w;
          if (options.weight !== undefined) new Float32Array(memory.buffer, w, classes).set(options.weight);
          const zLoss = options.zLoss ?? 0, scale = options.gradScale ?? 1;
          if (path === 'rows4') kernels.crossEntropyRows4(x, t, weight, grad, losses, lse, rows, classes, -100, zLoss, scale, scale);
          else kernels.crossEntropyRowwise(x, t, weight, grad, losses, lse, rows, classes, -100, 0, 0, zLoss, 0, scale, scale);
          const f32 = (p: number, n: number) => new Float32Array(memory.buffer, p, n).slice();
          return { losses: f32(losses, rows), lse: f32(lse, rows), grad: f32(grad, rows * classes) };
        };
        const four = run('rows4'), one = run('rowwise');
        const label = `${build} ${rows}x${classes} ${JSON.stringify(options)} four rows vs row at a time`;
        expectLosses(four.losses, one.losses, { label });
        expectLosses(four.lse, one.lse, { label: `${label} lse` });
        expectField(four.grad, one.grad, { label, classes });
      }
    }
  });

  it("'inplace' gradients match the reference (the overlapping last block is read before it is written)", () => {
    for (const classes of [...CLASSES, ...LONGER]) {
      const rows = 9;
      const logits = makeLogits(rows, classes, 'normal', 3 * classes);
      const target = makeTargets(rows, classes, 3 * classes + 2, 0.2);
      const want = reference.crossEntropy(logits, target, { classes, zLoss: 1e-3, grad: true });
      const copy = logits.slice();
      const got = engine.crossEntropy(copy, target, { classes, zLoss: 1e-3, grad: 'inplace' });
      expect(got.grad).toBe(copy);
      expectField(copy, want.grad!, { label: `${build} ${rows}x${classes} inplace`, classes });
      expectLosses(got.losses, want.losses, { label: `${build} ${rows}x${classes} inplace losses` });

      const t = engine.tensor(rows, classes);
      t.data.set(logits);
      engine.crossEntropy(t, target, { classes, zLoss: 1e-3, grad: 'inplace' });
      expectField(t.data, want.grad!, { label: `${build} ${rows}x${classes} tensor inplace`, classes });
      t.free();
    }
  });

  it('confident rows: the target gradient keeps its digits when p[t] is near 1', () => {
    for (const classes of [...CLASSES, ...LONGER]) {
      const rows = 13;
      const logits = makeLogits(rows, classes, 'normal', 17 * classes);
      const target = makeTargets(rows, classes, 17 * classes + 1);
      target.forEach((t, r) => (logits[r * classes + t] = 18 + r));
      for (const options of [{}, { zLoss: 1e-4 }, { weight: weightOf(classes) }]) {
        const got = engine.crossEntropy(logits, target, { classes, grad: true, ...options });
        const want = reference.crossEntropy(logits, target, { classes, grad: true, ...options });
        const label = `${build} confident ${rows}x${classes} ${JSON.stringify(options)}`;
        expectField(got.grad!, want.grad!, { label, classes });
        expectLosses(got.losses, want.losses, { label });
      }
    }
  });

  it('NaN, +inf and all -inf rows are NaN in whichever lane of a group they sit; the other rows are unaffected', () => {
    for (const classes of [1, 2, 3, 4, 5, 7, 8, 10, 16, 21, 32, 33, 255]) {
      const rows = 11;
      for (const kind of ['nan', '+inf', 'all -inf'] as const) {
        for (let bad = 0; bad < rows; bad++) {
          const logits = makeLogits(rows, classes, 'normal', classes + bad);
          const column = (bad * 5) % classes;
          if (kind === 'nan') logits[bad * classes + column] = NaN;
          else if (kind === '+inf') logits[bad * classes + column] = Infinity;
          else logits.fill(-Infinity, bad * classes, (bad + 1) * classes);
          const target = makeTargets(rows, classes, bad);
          const got = engine.crossEntropy(logits, target, { classes, reduction: 'sum', grad: true });
          const label = `${build} ${rows}x${classes} ${kind} in row ${bad}`;
          // +inf alone in a one-class row is that row's target: inf - inf is NaN there too.
          expect(got.losses[bad], label).toBeNaN();
          expect(got.lse[bad], `${label} lse`).toBeNaN();
          expect(got.grad!.subarray(bad * classes, (bad + 1) * classes).every(Number.isNaN), `${label} grad`).toBe(true);
          const want = reference.crossEntropy(logits, target, { classes, reduction: 'sum', grad: true });
          expectLosses(got.losses, want.losses, { label });
          for (let r = 0; r < rows; r++) {
            if (r === bad) continue;
            const g = got.grad!.subarray(r * classes, (r + 1) * classes);
            expectField(g, want.grad!.subarray(r * classes, (r + 1) * classes), { label: `${label}, row ${r}`, classes });
          }
        }
      }
    }
  });

  it('a -inf target logit costs +inf; a -inf elsewhere is a class with zero gradient', () => {
    for (const classes of [2, 3, 4, 6, 9, 12, 31]) {
      const rows = 8;
      const logits = makeLogits(rows, classes, 'normal', 40 + classes);
      const target = makeTargets(rows, classes, 41 + classes);
      const other = (r: number) => (target[r]! + 1) % classes;
      for (let r = 0; r < rows; r += 2) logits[r * classes + target[r]!] = -Infinity;
      for (let r = 1; r < rows; r += 2) logits[r * classes + other(r)] = -Infinity;
      const got = engine.crossEntropy(logits, target, { classes, reduction: 'sum', grad: true });
      const want = reference.crossEntropy(logits, target, { classes, reduction: 'sum', grad: true });
      for (let r = 0; r < rows; r += 2) expect(got.losses[r], `${build} ${classes} row ${r}`).toBe(Infinity);
      for (let r = 1; r < rows; r += 2) expect(got.grad![r * classes + other(r)]).toBe(0);
      expectLosses(got.losses, want.losses, { label: `${build} ${rows}x${classes} -inf` });
      expectField(got.grad!, want.grad!, { label: `${build} ${rows}x${classes} -inf`, classes });
    }
  });

  it('ignored rows give loss 0, lse 0 and a gradient of +0 even when they hold NaN or inf', () => {
    for (const classes of [1, 3, 4, 5, 10, 32]) {
      const rows = 12;
      const random = rng(classes);
      const logits = makeLogits(rows, classes, 'normal', classes);
      const target = makeTargets(rows, classes, classes + 9);
      for (const r of [1, 4, 6, 7, 11]) {
        target[r] = -100;
        logits[r * classes + Math.floor(random() * classes)] = r % 2 ? NaN : Infinity;
      }
      const got = engine.crossEntropy(logits, target, { classes, zLoss: 0.1, grad: true });
      for (const r of [1, 4, 6, 7, 11]) {
        expect(got.losses[r]).toBe(0);
        expect(got.lse[r]).toBe(0);
        expect(Array.from(got.grad!.subarray(r * classes, (r + 1) * classes)).every((g) => Object.is(g, 0))).toBe(true);
      }
      const want = reference.crossEntropy(logits, target, { classes, zLoss: 0.1, grad: true });
      expectLosses(got.losses, want.losses, { label: `${build} ${rows}x${classes} ignored NaN rows` });
      expectField(got.grad!, want.grad!, { label: `${build} ${rows}x${classes} ignored NaN rows`, classes });
    }
  });
});

describe('crossEntropy, short rows, two threads', () => {
  let one: Engine;
  let two: Engine;
  beforeAll(async () => {
    one = await makeEngine('baseline');
    two = await makeEngine('baseline', { threads: 2 });
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  // Enough elements to be split (tuning.THREAD_MIN_ELEMENTS), into halves of odd row counts.
  it.each([[21847, 3], [6555, 10], [1773, 37]])('%i x %i: bit-identical to one thread', (rows, classes) => {
    expect(two.features.threads).toBe(2);
    const logits = makeLogits(rows, classes, 'normal', rows);
    const target = makeTargets(rows, classes, 4, 0.1);
    const options = { classes, weight: weightOf(classes), zLoss: 1e-4, grad: true } as const;
    const a = one.crossEntropy(logits, target, options);
    const b = two.crossEntropy(logits, target, options);
    expect(b.loss).toBe(a.loss);
    expect(sameBits(b.losses, a.losses)).toBe(true);
    expect(sameBits(b.lse, a.lse)).toBe(true);
    expect(sameBits(b.grad!, a.grad!)).toBe(true);
  });
});
