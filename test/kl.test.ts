// The fused KL-divergence kernel against the float64 reference and PyTorch, for both builds.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { XentError, type Engine, type Tensor } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { KlDivergenceOptions } from '../src/types.js';
import { expectField, expectLoss, expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, TEST_SHAPES, makeLogits, rowsFor } from './support/data.js';
import { BUILDS, makeEngine, rawKernels } from './support/engines.js';
import { torchOptions } from './support/torch-args.js';
import { TORCH_VERSION, torchCases } from './support/vectors.js';

/**
 * The gradient against the reference: docs/API.md's tolerance, 1e-5 * max |ref| over the output,
 * plus at each entry the rounding of the probabilities it is the difference of, 4 f32 ulps of
 * max(p_s, p_t) (or 2^-126, below which the kernel's exp flushes to 0) times invT * scale.
 * That second term matters only where the two distributions agree to below f32 resolution (a
 * class that both put all but 1e-8 of their mass on, logits that differ by 1e-16, or rows
 * whose only differences are probabilities of e^-150): there p_s - p_t is below what any f32
 * softmax resolves (f32 PyTorch gives 0 as well) and the float64 reference's 1e-17 or 1e-65
 * cannot be matched.
 */
function expectKlGrad(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  student: Float32Array,
  teacher: Float32Array,
  options: KlDivergenceOptions & { classes: number },
  label: string,
): void {
  const { classes, temperature = 1, gradScale = 1 } = options;
  const rows = student.length / classes;
  const scale = (Math.abs(gradScale) * (options.reduction === 'sum' ? 1 : 1 / rows)) / temperature;
  const ps = reference.softmax(student, { classes, temperature });
  const pt = reference.softmax(teacher, { classes, temperature });
  let largest = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) largest = Math.max(largest, Math.abs(want[i]!));
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const limit = 1e-5 * largest + (4 * 2 ** -24 * Math.max(ps[i]!, pt[i]!) + 2 ** -126) * scale;
    const ok = Number.isNaN(want[i]!) ? Number.isNaN(got[i]!) : Math.abs(got[i]! - want[i]!) <= limit;
    if (!ok && bad.length < 5) bad.push(`row ${Math.floor(i / classes)}, column ${i % classes}: got ${got[i]}, expected ${want[i]} (limit ${limit})`);
  }
  if (bad.length) expect.fail(`${label}: gradient differs:\n  ${bad.join('\n  ')}`);
}

function compare(engine: Engine, label: string, student: Float32Array, teacher: Float32Array, options: KlDivergenceOptions & { classes: number }): void {
  const got = engine.klDivergence(student, teacher, { ...options, grad: true });
  const want = reference.klDivergence(student, teacher, { ...options, grad: true });
  const where = { label, classes: options.classes };
  expectLoss(got.loss, want.loss, where);
  expectLosses(got.losses, want.losses, where);
  expectKlGrad(got.grad!, want.grad!, student, teacher, options, label);
  const forward = engine.klDivergence(student, teacher, options);
  expect(forward.losses).toEqual(got.losses);
  expect(forward.grad).toBeUndefined();
}

describe.each(BUILDS)('klDivergence [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe('matches the reference over row lengths and data classes', () => {
    for (const { rows, classes } of TEST_SHAPES) {
      // A teacher of the same data class would make the -inf pattern shared; the student
      // takes the data class, the teacher is a perturbed copy (someNegInf: same masked classes).
      it.each(DATA_CLASSES)(`${rows}x${classes} %s`, (data) => {
        const student = makeLogits(rows, classes, data, classes);
        const noise = makeLogits(rows, classes, 'normal', classes + 1);
        const teacher = student.map((s, i) => (Number.isFinite(s) ? s + 2 * noise[i]! : s));
        if (data === 'someNegInf') teacher.forEach((t, i) => { if (t === -Infinity) student[i] = -Infinity; });
        compare(engine, `${build} ${rows}x${classes} ${data}`, student, teacher, { classes });
      });
    }
  });

  const OPTIONS: Array<[string, KlDivergenceOptions]> = [
    ['T = 2', { temperature: 2 }],
    ['T = 0.25, sum', { temperature: 0.25, reduction: 'sum' }],
    ['T = 4, gradScale 16 (a T^2 factor applied by the caller)', { temperature: 4, gradScale: 16 }],
  ];
  describe.each([1, 7, 33, 1000, 32000])('options at %i classes', (classes) => {
    const rows = rowsFor(classes);
    it.each(OPTIONS)('%s', (name, options) => {
      const student = makeLogits(rows, classes, 'normal', 11);
      const teacher = makeLogits(rows, classes, 'normal', 12).map((v) => 3 * v);
      compare(engine, `${build} ${rows}x${classes} ${name}`, student, teacher, { classes, ...options });
    });
  });

  it('equal student and teacher cost exactly 0, with a zero gradient, at any temperature', () => {
    const x = makeLogits(7, 45, 'normal', 5);
    for (const temperature of [1, 0.3, 7]) {
      const r = engine.klDivergence(x, x.slice(), { classes: 45, temperature, grad: true });
      expect(Array.from(r.losses, (l) => l + 0)).toEqual(new Array(7).fill(0));
      expect(r.grad!.every((g) => Math.abs(g) < 1e-8)).toBe(true);
    }
  });

  it('a masked class: -inf in both is NaN (0 * -inf, as PyTorch); -inf in the student alone is +inf', () => {
    const s = new Float32Array([0, -Infinity, 1, 0, -Infinity, 1, 0, 0.5, 1]);
    const t = new Float32Array([0, -Infinity, 2, 0, 1, 2, 0, 0.5, 1]);
    const r = engine.klDivergence(s, t, { classes: 3, reduction: 'sum' });
    expect(r.losses[0]).toBeNaN();
    expect(r.losses[1]).toBe(Infinity);
    expect(Number.isFinite(r.losses[2])).toBe(true);
  });

  describe('gradient requests', () => {
    const classes = 37, rows = 9;
    const student = makeLogits(rows, classes, 'normal', 21);
    const teacher = makeLogits(rows, classes, 'normal', 22);
    const want = reference.klDivergence(student, teacher, { classes, grad: true, temperature: 1.5 }).grad!;

    it("a Float32Array is filled; 'inplace' overwrites the student logits", () => {
      const out = new Float32Array(rows * classes);
      expect(engine.klDivergence(student, teacher, { classes, grad: out, temperature: 1.5 }).grad).toBe(out);
      expectField(out, want, { label: 'grad: array', classes });
      const copy = student.slice();
      expect(engine.klDivergence(copy, teacher, { classes, grad: 'inplace', temperature: 1.5 }).grad).toBe(copy);
      expectField(copy, want, { label: "grad: 'inplace'", classes });
    });

    it("tensors: 'inplace' on the student tensor, the teacher a tensor too, even the same one", () => {
      const s = engine.tensor(rows, classes), t = engine.tensor(rows, classes);
      s.data.set(student);
      t.data.set(teacher);
      const r = engine.klDivergence(s, t, { grad: 'inplace', temperature: 1.5 });
      expect(r.grad!.buffer).toBe(s.data.buffer);
      expectField(s.data, want, { label: "tensor, grad: 'inplace'", classes });
      expect(t.data).toEqual(teacher);
      // One tensor as student, teacher and in-place target: the gradient of KL(p || p) is 0.
      t.data.set(teacher);
      engine.klDivergence(t, t, { grad: 'inplace' });
      expect(t.data.every((g) => Math.abs(g) < 1e-8)).toBe(true);
      s.free();
      t.free();
    });
  });

  describe('short rows, four at a time (kl-rows4.ts: 4 to 64 classes)', () => {
    /** Both sides of both switch-overs, every classes mod 4. */
    const CLASSES = Array.from({ length: 70 }, (_, i) => i + 1);
    const pair = (rows: number, classes: number, seed: number) => {
      const student = makeLogits(rows, classes, 'normal', seed);
      const teacher = makeLogits(rows, classes, 'normal', seed + 1).map((v) => 2 * v);
      return { student, teacher };
    };

    it.each(CLASSES)('%i classes, 1..9 rows, every data class, T = 1 and T = 0.5 with sum', (classes) => {
      for (let rows = 1; rows <= 9; rows++) {
        for (const data of DATA_CLASSES) {
          const student = makeLogits(rows, classes, data, 50 * classes + rows);
          const noise = makeLogits(rows, classes, 'normal', 50 * classes + rows + 1);
          const teacher = student.map((s, i) => (Number.isFinite(s) ? s + 2 * noise[i]! : s));
          if (data === 'someNegInf') teacher.forEach((t, i) => { if (t === -Infinity) student[i] = -Infinity; });
          compare(engine, `${build} ${rows}x${classes} ${data}`, student, teacher, { classes });
        }
        const { student, teacher } = pair(rows, classes, 7 * classes + rows);
        compare(engine, `${build} ${rows}x${classes} T = 0.5, sum`, student, teacher, { classes, temperature: 0.5, reduction: 'sum' });
      }
    });

    it('a row gives the same bits wherever it sits: alone, in a group of four or in the last, partial group', () => {
      for (const classes of [4, 5, 6, 7, 10, 33, 64]) {
        const rows = 11;
        const { student, teacher } = pair(rows, classes, 3 * classes);
        const options = { classes, reduction: 'sum' as const, grad: true };
        const whole = engine.klDivergence(student, teacher, options);
        for (let start = 0; start < 4; start++) {
          for (let length = 1; start + length <= rows; length++) {
            const rowsOf = (a: Float32Array) => a.subarray(start * classes, (start + length) * classes);
            const part = engine.klDivergence(rowsOf(student), rowsOf(teacher), options);
            const label = `${build} ${classes} classes, rows ${start}..${start + length - 1}`;
            expect(sameBits(part.losses, whole.losses.subarray(start, start + length)), label).toBe(true);
            expect(sameBits(part.grad!, rowsOf(whole.grad!)), `${label} grad`).toBe(true);
          }
        }
      }
    });

    it("'inplace' gradients, of arrays and tensors, match the reference (the overlapping last block is read before it is written)", () => {
      for (let classes = 4; classes <= 66; classes++) {
        const rows = 7;
        const { student, teacher } = pair(rows, classes, 5 * classes);
        const options = { classes, temperature: 2 };
        const want = reference.klDivergence(student, teacher, { ...options, grad: true });
        const copy = student.slice();
        const got = engine.klDivergence(copy, teacher, { ...options, grad: 'inplace' });
        expectLosses(got.losses, want.losses, { label: `${build} ${rows}x${classes} inplace losses` });
        expectKlGrad(copy, want.grad!, student, teacher, options, `${build} ${rows}x${classes} inplace`);
        const t = engine.tensor(rows, classes);
        t.data.set(student);
        engine.klDivergence(t, teacher, { ...options, grad: 'inplace' });
        expectKlGrad(t.data, want.grad!, student, teacher, options, `${build} ${rows}x${classes} tensor inplace`);
        t.free();
      }
    });

    it('the four-rows kernel agrees with the row-at-a-time kernel, called directly', () => {
      const { kernels, memory, base } = rawKernels(build);
      for (const classes of [4, 5, 6, 7, 8, 10, 31, 64, 100]) {
        const rows = 9, n = rows * classes;
        const { student, teacher } = pair(rows, classes, 9 * classes);
        const [s, t, grad, terms, losses] = [0, 1, 2, 3, 4].map((k) => base + 4 * n * k) as [number, number, number, number, number];
        const run = (kernel: typeof kernels.klRows4) => {
          new Float32Array(memory.buffer, s, n).set(student);
          new Float32Array(memory.buffer, t, n).set(teacher);
          kernel(s, t, grad, losses, terms, rows, classes, 1 / 1.5, 0.5);
          return { losses: new Float32Array(memory.buffer, losses, rows).slice(), grad: new Float32Array(memory.buffer, grad, n).slice() };
        };
        const four = run(kernels.klRows4), one = run(kernels.klRowwise);
        const label = `${build} ${rows}x${classes} four rows vs row at a time`;
        expectLosses(four.losses, one.losses, { label });
        expectField(four.grad, one.grad, { label, classes });
      }
    });
  });

  describe('bad input: a clear XentError, and nothing written', () => {
    const classes = 6, rows = 5;
    const student = makeLogits(rows, classes, 'normal', 31);
    const teacher = makeLogits(rows, classes, 'normal', 32);
    const CASES: Array<[string, () => [unknown, KlDivergenceOptions], string, RegExp]> = [
      ['teacher of the wrong length', () => [teacher.subarray(6), { classes }], 'SHAPE_MISMATCH', /teacherLogits has 24 values, expected 30 \(5 rows of 6 classes/],
      ['teacher of class indices', () => [new Int32Array(30), { classes }], 'SHAPE_MISMATCH', /teacherLogits must be a Float32Array or a Tensor, got a Int32Array of 30/],
      ['temperature 0', () => [teacher, { classes, temperature: 0 }], 'BAD_OPTION', /temperature must be a finite number > 0, got 0/],
      ['temperature NaN', () => [teacher, { classes, temperature: NaN }], 'BAD_OPTION', /temperature must be a finite number > 0, got NaN/],
      ["reduction 'mean'", () => [teacher, { classes, reduction: 'mean' as 'sum' }], 'BAD_OPTION', /'batchmean' \(sum \/ rows, the default\) or 'sum'/],
      ['no classes for flat arrays', () => [teacher, {}], 'SHAPE_MISMATCH', /pass options\.classes/],
      ['an unknown option', () => [teacher, { classes, T: 2 } as KlDivergenceOptions], 'BAD_OPTION', /unknown option 'T'/],
    ];
    it.each(CASES)('%s', (_, make, code, message) => {
      const [t, options] = make();
      const out = new Float32Array(rows * classes).fill(7);
      expectXentError(() => engine.klDivergence(student, t as Float32Array, { ...options, grad: out }), code, message);
      expect(out.every((v) => v === 7)).toBe(true);
      const inplace = student.slice();
      expect(() => engine.klDivergence(inplace, t as Float32Array, { ...options, grad: 'inplace' })).toThrow(XentError);
      expect(inplace).toEqual(student);
    });

    it('a teacher tensor of another shape', () => {
      const t: Tensor = engine.tensor(rows, classes + 1);
      expectXentError(() => engine.klDivergence(student, t, { classes }), 'SHAPE_MISMATCH', /teacherLogits is a 5x7 tensor, expected 5x6/);
      t.free();
    });
  });

  it('two worker threads give the same bytes as one', async () => {
    const two = await makeEngine(build, { threads: 2 });
    const classes = 333, rows = 301;
    const student = makeLogits(rows, classes, 'normal', 41), teacher = makeLogits(rows, classes, 'normal', 42);
    const a = engine.klDivergence(student, teacher, { classes, grad: true, temperature: 2 });
    const b = two.klDivergence(student, teacher, { classes, grad: true, temperature: 2 });
    expect(b.loss).toBe(a.loss);
    expect(sameBits(b.losses, a.losses)).toBe(true);
    expect(sameBits(b.grad!, a.grad!)).toBe(true);
    two.dispose();
  });

  it('one view of engine memory as student and teacher, graded in place: the teacher is read before it is overwritten', () => {
    const classes = 29, rows = 6;
    const t = engine.tensor(rows, classes);
    t.data.set(makeLogits(rows, classes, 'normal', 43));
    const view = t.data;
    const r = engine.klDivergence(view, view, { classes, grad: 'inplace' });
    expect(Array.from(r.losses, (l) => l + 0)).toEqual(new Array(rows).fill(0));
    expect(view.every((g) => Math.abs(g) < 1e-8)).toBe(true);
    t.free();
  });

  describe('properties', () => {
    const rowsArb = fc.integer({ min: 1, max: 4 }).chain((rows) =>
      fc.integer({ min: 1, max: 40 }).chain((classes) =>
        fc.record({
          classes: fc.constant(classes),
          student: fc.array(fc.float({ min: -30, max: 30, noNaN: true }), { minLength: rows * classes, maxLength: rows * classes }),
          teacher: fc.array(fc.float({ min: -30, max: 30, noNaN: true }), { minLength: rows * classes, maxLength: rows * classes }),
          temperature: fc.float({ min: Math.fround(0.1), max: 10, noNaN: true }),
        }),
      ),
    );

    it('matches the reference, is >= 0 up to rounding, and ignores a constant added to a row', () => {
      fc.assert(
        fc.property(rowsArb, ({ classes, student, teacher, temperature }) => {
          const s = new Float32Array(student), t = new Float32Array(teacher);
          const options = { classes, temperature, reduction: 'sum' as const };
          const got = engine.klDivergence(s, t, { ...options, grad: true });
          const want = reference.klDivergence(s, t, { ...options, grad: true });
          expectLosses(got.losses, want.losses, { label: 'property' });
          expectKlGrad(got.grad!, want.grad!, s, t, options, 'property');
          expect(got.losses.every((l) => l > -1e-5)).toBe(true);
          const shifted = engine.klDivergence(s.map((v) => v + 8), t.map((v) => v - 4), options);
          expectLosses(shifted.losses, want.losses, { label: 'shifted rows' }, 1e-4);
        }),
        { numRuns: 150, seed: 20261830 },
      );
    });
  });

  describe(`against PyTorch ${TORCH_VERSION}`, () => {
    it.each(torchCases('klDivergence').map((c) => [c.name, c] as const))('%s', (label, c) => {
      const r = engine.klDivergence(new Float32Array(c.inputs.student!), new Float32Array(c.inputs.teacher!), { ...torchOptions(c), grad: true });
      const where = { label: `${build} ${label}`, classes: c.classes };
      expectLoss(r.loss, c.expected.loss as number, where);
      expectLosses(r.losses, c.expected.losses as number[], where);
      const grad = c.expected.grad as number[];
      // PyTorch's gradient of KL(p || p) is rounding noise around 0; ours is 0 up to f32 rounding.
      if (grad.every((g) => Math.abs(g) < 1e-15)) expect(r.grad!.every((g) => Math.abs(g) < 1e-7)).toBe(true);
      else expectField(r.grad!, grad, where);
    });
  });
});
