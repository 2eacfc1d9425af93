// Vocabulary shards: crossEntropyShard on column slices, mergeCrossEntropyShards and
// crossEntropyShardGrad against crossEntropy on the whole logits (the float64 reference and
// the engine), for every option that composes across shards.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeCrossEntropyShards, type Engine } from '../src/index.js';
import * as reference from '../src/reference/index.js';
import type { CrossEntropyShardPart, MergedCrossEntropy } from '../src/types.js';
import { expectField, expectLoss, expectLosses, expectXentError, sameBits } from './support/compare.js';
import { DATA_CLASSES, makeLogits, makeTargets, rng } from './support/data.js';
import { BUILDS, makeEngine } from './support/engines.js';
import { enginesOneAndTwoThreads } from './support/thread-engines.js';

/** Options of crossEntropy on the whole logits; weight has all classes. */
interface WholeOptions {
  weight?: Float32Array;
  labelSmoothing?: number;
  softcap?: number;
  zLoss?: number;
  reduction?: 'mean' | 'sum';
  ignoreIndex?: number;
  gradScale?: number;
}

/** Columns [c0, c1) of a rows x classes array, of the same type. */
function columns<A extends Float32Array | Float64Array>(x: A, classes: number, c0: number, c1: number): A {
  const rows = x.length / classes;
  const out = new (x.constructor as new (n: number) => A)(rows * (c1 - c0));
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * classes + c0, r * classes + c1), r * (c1 - c0));
  return out;
}

/** Shard bounds [0, ..., classes]: random cuts, so 1-column shards come up too. */
function randomCuts(classes: number, shards: number, seed: number): number[] {
  const random = rng(seed);
  const inner = new Set<number>();
  while (inner.size < Math.min(shards - 1, classes - 1)) inner.add(1 + Math.floor(random() * (classes - 1)));
  return [0, ...[...inner].sort((a, b) => a - b), classes];
}

type Api = Pick<Engine, 'crossEntropyShard' | 'crossEntropyShardGrad'> | typeof reference;

/** Every shard's part (in reverse order), the merge, and every shard's gradient slice. */
function sharded(api: Api, logits: Float32Array, target: Int32Array, classes: number, cuts: number[], o: WholeOptions) {
  const shards = cuts.slice(0, -1).map((c0, i) => ({ c0, c1: cuts[i + 1]! }));
  const common = (c0: number, c1: number) => ({
    classes: c1 - c0, offset: c0, totalClasses: classes,
    ...(o.ignoreIndex === undefined ? {} : { ignoreIndex: o.ignoreIndex }),
    ...(o.labelSmoothing === undefined ? {} : { labelSmoothing: o.labelSmoothing }),
    ...(o.softcap === undefined ? {} : { softcap: o.softcap }),
  });
  const parts = shards.map(({ c0, c1 }) =>
    api.crossEntropyShard(columns(logits, classes, c0, c1), target, { ...common(c0, c1), ...(o.weight ? { weight: o.weight.slice(c0, c1) } : {}) }),
  ) as CrossEntropyShardPart<ArrayLike<number>>[];
  const merged = mergeCrossEntropyShards(parts.slice().reverse(), {
    ...(o.reduction ? { reduction: o.reduction } : {}), ...(o.ignoreIndex === undefined ? {} : { ignoreIndex: o.ignoreIndex }),
    ...(o.labelSmoothing === undefined ? {} : { labelSmoothing: o.labelSmoothing }), ...(o.zLoss === undefined ? {} : { zLoss: o.zLoss }),
  });
  const grads = shards.map(({ c0, c1 }) =>
    api.crossEntropyShardGrad(columns(logits, classes, c0, c1), target, {
      ...common(c0, c1), ...(o.weight ? { weight: o.weight } : {}),
      ...(o.reduction ? { reduction: o.reduction } : {}), ...(o.zLoss === undefined ? {} : { zLoss: o.zLoss }),
      ...(o.gradScale === undefined ? {} : { gradScale: o.gradScale }),
      lse: merged.lse, denominator: merged.denominator, count: merged.count, grad: true,
    }).grad,
  );
  return { shards, parts, merged, grads };
}

/** The merge and the gradient slices against crossEntropy's result on the whole logits. */
function expectWhole(
  label: string,
  got: { shards: Array<{ c0: number; c1: number }>; merged: MergedCrossEntropy; grads: ArrayLike<number>[] },
  want: { loss: number; losses: ArrayLike<number>; lse: ArrayLike<number>; zLoss: number; count: number; grad?: ArrayLike<number> },
  classes: number,
  termScale = 0,
  tol?: number,
): void {
  expectLoss(got.merged.loss, want.loss, { label: `${label} loss` }, tol);
  expectLosses(got.merged.losses, want.losses, { label: `${label} losses` }, tol);
  expectLosses(got.merged.lse, want.lse, { label: `${label} lse` }, tol);
  expect(got.merged.count, `${label} count`).toBe(want.count);
  expectLoss(got.merged.zLoss, want.zLoss, { label: `${label} zLoss` }, tol);
  // The promise is over the whole output: the slices, put side by side, against the whole gradient.
  const assembled = new Float64Array(want.grad!.length);
  const rowsHere = assembled.length / classes;
  got.shards.forEach(({ c0, c1 }, i) => {
    for (let r = 0; r < rowsHere; r++) {
      for (let j = c0; j < c1; j++) assembled[r * classes + j] = got.grads[i]![r * (c1 - c0) + j - c0]!;
    }
  });
  expectField(assembled, want.grad!, { label: `${label} gradient slices`, classes, termScale }, tol);
}

const weightOf = (classes: number) => new Float32Array(classes).map((_, c) => 0.25 + (c % 7) / 3);
const OPTIONS: Array<[string, (classes: number) => WholeOptions]> = [
  ['no options', () => ({})],
  ['class weights', (c) => ({ weight: weightOf(c) })],
  ['label smoothing 0.1', () => ({ labelSmoothing: 0.1 })],
  ['label smoothing 1', () => ({ labelSmoothing: 1 })],
  ['weights + label smoothing, sum', (c) => ({ weight: weightOf(c), labelSmoothing: 0.2, reduction: 'sum' })],
  ['z-loss', () => ({ zLoss: 1e-3 })],
  ['softcap 30', () => ({ softcap: 30 })],
  ['ignoreIndex 0, gradScale 3', () => ({ ignoreIndex: 0, gradScale: 3 })],
  ['softcap 2 with weights, smoothing, z-loss, sum', (c) => ({ softcap: 2, weight: weightOf(c), labelSmoothing: 0.1, zLoss: 0.01, reduction: 'sum' })],
];

/** crossEntropy's options for the same call on the whole logits. */
function wholeOptions(classes: number, o: WholeOptions) {
  return { classes, ...o, grad: true } as const;
}

describe('vocabulary shards, worked by hand', () => {
  it('two 1-column shards of logits [0, ln 3], target 1: p = [1/4, 3/4]', () => {
    const logits = new Float32Array([0, Math.log(3)]);
    const got = sharded(reference, logits, Int32Array.from([1]), 2, [0, 1, 2], {});
    expect(got.merged.lse[0]).toBeCloseTo(Math.log(4), 6);
    expect(got.merged.loss).toBeCloseTo(Math.log(4 / 3), 6);
    expect(got.merged.denominator).toBe(1);
    expect(Array.from(got.grads, (g) => g[0]!).map((g) => Math.round(g * 1e6) / 1e6)).toEqual([0.25, -0.25]);
  });
});

describe.each(BUILDS)('vocabulary shards [%s]', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await makeEngine(build);
  });

  describe.each(OPTIONS)('%s: merged results and gradient slices match crossEntropy on the whole logits', (name, make) => {
    for (const [rowsHere, classes, shards] of [[13, 7, 7], [13, 100, 5], [5, 1025, 4], [2, 32000, 3]] as const) {
      it.each(DATA_CLASSES)(`${rowsHere}x${classes} in ${shards} shards, %s`, (data) => {
        const o = make(classes);
        const logits = makeLogits(rowsHere, classes, data, classes + shards);
        const target = makeTargets(rowsHere, classes, 5, 0.2);
        if (o.ignoreIndex === 0) target.forEach((t, r) => { if (t === -100) target[r] = 0; });
        const cuts = randomCuts(classes, shards, classes * 7 + shards);
        const label = `${build} ${name} ${rowsHere}x${classes} ${data} cuts ${cuts.join(',')}`;
        const want = reference.crossEntropy(logits, target, wholeOptions(classes, o));
        expectWhole(label, sharded(engine, logits, target, classes, cuts, o), want, classes);
        expectWhole(`${label} (engine's crossEntropy)`, sharded(engine, logits, target, classes, cuts, o), engine.crossEntropy(logits, target, wholeOptions(classes, o)), classes);
        // The reference shards, merged, against the reference on the whole logits: float64 both, so 1e-10.
        expectWhole(`${label} (reference shards)`, sharded(reference, logits, target, classes, cuts, o), want, classes, 0, 1e-10);
      });
    }
  });

  it('parts merge to the same bits in any order and after a structured clone', () => {
    const classes = 500, rowsHere = 9;
    const logits = makeLogits(rowsHere, classes, 'normal', 41);
    const target = makeTargets(rowsHere, classes, 42, 0.2);
    const o = { weight: weightOf(classes), labelSmoothing: 0.1, softcap: 20, zLoss: 1e-3 };
    const { parts, merged } = sharded(engine, logits, target, classes, randomCuts(classes, 6, 43), o);
    const random = rng(44);
    for (let trial = 0; trial < 5; trial++) {
      const shuffled = parts.map((p) => structuredClone(p)).sort(() => random() - 0.5);
      const again = mergeCrossEntropyShards(shuffled, { labelSmoothing: 0.1, zLoss: 1e-3 });
      expect(again.loss).toBe(merged.loss);
      expect(sameBits(again.losses, merged.losses) && sameBits(again.lse, merged.lse)).toBe(true);
    }
    expect(reference.mergeCrossEntropyShards).toBe(mergeCrossEntropyShards);
  });

  it('a shard whose logits are all -inf (masked padding columns) changes nothing', () => {
    const classes = 40, rowsHere = 6;
    const logits = makeLogits(rowsHere, classes, 'normal', 51);
    for (let r = 0; r < rowsHere; r++) logits.fill(-Infinity, r * classes + 32, (r + 1) * classes);
    const target = makeTargets(rowsHere, 32, 52, 0.2);
    for (const o of [{}, { labelSmoothing: 0.1, zLoss: 1e-3, weight: weightOf(classes) }] as WholeOptions[]) {
      const want = reference.crossEntropy(logits, target, wholeOptions(classes, o));
      expectWhole(`${build} masked shard ${JSON.stringify(o)}`, sharded(engine, logits, target, classes, [0, 5, 32, 40], o), want, classes);
    }
  });

  it('a shard of -inf and NaN makes its rows NaN, as a NaN does in the whole logits', () => {
    const classes = 40, rowsHere = 2;
    const logits = makeLogits(rowsHere, classes, 'normal', 53);
    for (let r = 0; r < rowsHere; r++) logits.fill(-Infinity, r * classes + 32, (r + 1) * classes);
    logits[35] = NaN; // row 0 only
    const { merged } = sharded(engine, logits, Int32Array.of(1, 2), classes, [0, 32, 40], {});
    expect(Number.isNaN(merged.losses[0])).toBe(true);
    expect(Number.isFinite(merged.losses[1])).toBe(true);
  });

  it('tensors, 16-bit logits, gradients into arrays and in place', () => {
    const classes = 300, rowsHere = 7;
    const logits = makeLogits(rowsHere, classes, 'normal', 61);
    const target = makeTargets(rowsHere, classes, 62, 0.2);
    const shard = columns(logits, classes, 100, 300);
    const place = { classes: 200, offset: 100, totalClasses: classes, labelSmoothing: 0.1 };
    const plain = engine.crossEntropyShard(shard, target, place);
    const tensor = engine.tensor(rowsHere, 200);
    tensor.data.set(shard);
    const fromTensor = engine.crossEntropyShard(tensor, target, { ...place, classes: undefined });
    expect(sameBits(fromTensor.sumExp, plain.sumExp) && sameBits(fromTensor.gap!, plain.gap!) && sameBits(fromTensor.max, plain.max)).toBe(true);
    const parts = [engine.crossEntropyShard(columns(logits, classes, 0, 100), target, { ...place, classes: 100, offset: 0 }), plain];
    const merged = mergeCrossEntropyShards(parts, { labelSmoothing: 0.1 });
    const gradOptions = { ...place, lse: merged.lse, denominator: merged.denominator, count: merged.count };
    const fresh = engine.crossEntropyShardGrad(shard, target, { ...gradOptions, grad: true }).grad;
    const into = new Float32Array(rowsHere * 200);
    expect(engine.crossEntropyShardGrad(shard, target, { ...gradOptions, grad: into }).grad).toBe(into);
    expect(sameBits(into, fresh)).toBe(true);
    const inplace = engine.crossEntropyShardGrad(tensor, target, { ...gradOptions, classes: undefined, grad: 'inplace' }).grad;
    expect(sameBits(inplace, fresh)).toBe(true);
    tensor.free();
    // A Float32Array lse (crossEntropy's) works too, to f32's digits.
    const lse32 = engine.crossEntropyShardGrad(shard, target, { ...gradOptions, lse: Float32Array.from(merged.lse), grad: true }).grad;
    expectField(lse32, fresh, { label: `${build} f32 lse`, classes: 200 });
    // bfloat16 bits of the logits against the reference on the same bits.
    const bits = Uint16Array.from(new Uint32Array(logits.buffer), (u) => u >>> 16);
    const shardBits = (c0: number, c1: number) => {
      const out = new Uint16Array(rowsHere * (c1 - c0));
      for (let r = 0; r < rowsHere; r++) out.set(bits.subarray(r * classes + c0, r * classes + c1), r * (c1 - c0));
      return out;
    };
    const bf = { totalClasses: classes, labelSmoothing: 0.1, dtype: 'bf16' } as const;
    const merged16 = mergeCrossEntropyShards(
      [engine.crossEntropyShard(shardBits(0, 100), target, { ...bf, classes: 100, offset: 0 }), engine.crossEntropyShard(shardBits(100, 300), target, { ...bf, classes: 200, offset: 100 })],
      { labelSmoothing: 0.1 },
    );
    const want = reference.crossEntropy(bits, target, { classes, labelSmoothing: 0.1, dtype: 'bf16', grad: true });
    expectLosses(merged16.losses, want.losses, { label: `${build} bf16 losses` });
    const grad16 = engine.crossEntropyShardGrad(shardBits(100, 300), target, {
      ...bf, classes: 200, offset: 100, lse: merged16.lse, denominator: merged16.denominator, count: merged16.count, grad: true,
    }).grad;
    expectField(grad16, columns(want.grad as Float64Array, classes, 100, 300), { label: `${build} bf16 grad`, classes: 200 });
    expectXentError(() => engine.crossEntropyShardGrad(shardBits(100, 300), target, {
      ...bf, classes: 200, offset: 100, lse: merged16.lse, denominator: merged16.denominator, count: merged16.count, grad: 'inplace',
    }), 'BAD_OPTION', /'inplace' needs f32 logits/);
  });

  it("logits near 1e4: the merge's float64 lse keeps the gradient's digits that an f32 lse loses", () => {
    const classes = 64;
    const logits = new Float32Array(4 * classes).map((_, i) => 1e4 + (i % classes) * 0.37 + Math.sin(i));
    const target = Int32Array.from([3, 60, 10, 0]);
    const want = reference.crossEntropy(logits, target, { classes, grad: true }).grad as Float64Array;
    const place = { classes, offset: 0, totalClasses: classes };
    const merged = mergeCrossEntropyShards([engine.crossEntropyShard(logits, target, place)]);
    const gradWith = (lse: Float32Array | Float64Array) =>
      engine.crossEntropyShardGrad(logits, target, { ...place, lse, denominator: merged.denominator, count: merged.count, grad: true }).grad;
    expectField(gradWith(merged.lse), want, { label: `${build} lse near 1e4`, classes });
    const error = Math.max(...gradWith(Float32Array.from(merged.lse)).map((g, i) => Math.abs(g - want[i]!)));
    expect(error, 'an f32 lse is off by up to half an ulp of 1e4').toBeGreaterThan(1e-5 * Math.max(...want.map(Math.abs)));
  });

  it('an lse whose low half reads as an f32 NaN reaches the kernel bit for bit, in a small call as in a chunked one', () => {
    // Small calls copy short arrays value by value, which a NaN's payload may not survive: the
    // f64 halves that lse is passed as must then be copied as bytes.
    const classes = 8, rows = 1200; // 9600 logits: past the small-call path
    const logits = new Float32Array(rows * classes).map((_, i) => 1e4 + (i % classes) * 0.37);
    const target = new Int32Array(rows).fill(2);
    const lse = new Float64Array(rows);
    const words = new DataView(lse.buffer);
    for (let r = 0; r < rows; r++) {
      words.setUint32(8 * r + 4, 0x40c38880, true); // high half: about 1e4
      words.setUint32(8 * r, 0x7f800001, true); // low half: a signalling NaN's bits as an f32
    }
    // 'sum': one row's gradient does not depend on how many rows the call has.
    const place = (n: number) => ({ classes, offset: 0, totalClasses: classes, denominator: n, count: n, reduction: 'sum', grad: true }) as const;
    const one = engine.crossEntropyShardGrad(logits.subarray(0, classes), target.subarray(0, 1), { ...place(1), lse: lse.subarray(0, 1) });
    const all = engine.crossEntropyShardGrad(logits, target, { ...place(rows), lse });
    expect(sameBits(one.grad, all.grad.subarray(0, classes))).toBe(true);
    // The low half matters: the same lse with it cleared gives other bits.
    words.setUint32(0, 0, true);
    const cleared = engine.crossEntropyShardGrad(logits.subarray(0, classes), target.subarray(0, 1), { ...place(1), lse: lse.subarray(0, 1) });
    expect(sameBits(cleared.grad, one.grad)).toBe(false);
  });

  it('bad parts and options are refused with a XentError', () => {
    const classes = 20;
    const logits = makeLogits(4, classes, 'normal', 71);
    const target = Int32Array.from([3, 19, -100, 12]);
    const part = (c0: number, c1: number, extra = {}) =>
      engine.crossEntropyShard(columns(logits, classes, c0, c1), target, { classes: c1 - c0, offset: c0, totalClasses: classes, ...extra });
    const [a, b, c] = [part(0, 8), part(8, 15), part(15, 20)];
    const merge = mergeCrossEntropyShards;
    expectXentError(() => merge([a, part(6, 15), c]), 'SHAPE_MISMATCH', /offset 6 overlaps the classes before it, which end at 8/);
    expectXentError(() => merge([a, c]), 'SHAPE_MISMATCH', /no part holds classes \[8, 15\)/);
    expectXentError(() => merge([a, b]), 'SHAPE_MISMATCH', /no part holds classes \[15, 20\)/);
    expectXentError(() => merge([a, b, { ...c, totalClasses: 21 }]), 'SHAPE_MISMATCH', /totalClasses 21, another has 20/);
    const fewer = engine.crossEntropyShard(columns(logits, classes, 15, 20).subarray(0, 15), target.subarray(0, 3), { classes: 5, offset: 15, totalClasses: classes });
    expectXentError(() => merge([a, b, fewer]), 'SHAPE_MISMATCH', /3 rows, another has 4/);
    expectXentError(() => merge([a, b, { ...c, target: Int32Array.from([3, 19, -100, 11]) }]), 'SHAPE_MISMATCH', /target\[3\] = 11, another has 12/);
    expectXentError(() => merge([a, b, { ...c, max: new Float32Array(3) }]), 'SHAPE_MISMATCH', /parts\[2\] is not a crossEntropyShard result/);
    expectXentError(() => merge([]), 'BAD_OPTION', /non-empty array/);
    expectXentError(() => merge([a, b, c], { ignoreIndex: -1 }), 'BAD_OPTION', /ignoreIndex -100, the merge has -1/);
    expectXentError(() => merge([a, b, c], { labelSmoothing: 0.1 }), 'BAD_OPTION', /needs parts computed with labelSmoothing/);
    expectXentError(() => merge([a, b, part(15, 20, { softcap: 5 })]), 'BAD_OPTION', /softcap/);
    expectXentError(() => merge([a, b, part(15, 20, { weight: new Float32Array(5).fill(1) })]), 'BAD_OPTION', /weights/);
    expectXentError(() => part(15, 20, { totalClasses: 19 }), 'SHAPE_MISMATCH', /5 classes at offset 15 does not fit in \[0, 19\)/);
    expectXentError(() => part(0, 8, { offset: undefined }), 'SHAPE_MISMATCH', /offset undefined/);
    expectXentError(() => part(0, 8, { weight: new Float32Array(20) }), 'SHAPE_MISMATCH', /weight \(this shard's slice\) has 20 values, expected 8/);
    expectXentError(() => engine.crossEntropyShard(columns(logits, classes, 0, 8), [3, 20, -100, 12], { classes: 8, offset: 0, totalClasses: classes }), 'TARGET_OUT_OF_RANGE', /target\[1\] = 20 is out of range \[0, 20\)/);

    const merged = merge([c, a, b]);
    const shard = columns(logits, classes, 8, 15);
    const grad = (extra: object) => () =>
      engine.crossEntropyShardGrad(shard, target, {
        classes: 7, offset: 8, totalClasses: classes, lse: merged.lse, denominator: merged.denominator, count: merged.count, grad: true, ...extra,
      });
    expect(grad({})().grad).toHaveLength(28);
    expectXentError(grad({ lse: merged.lse.subarray(1) }), 'SHAPE_MISMATCH', /lse must be .* of 4 values/);
    expectXentError(grad({ count: 4 }), 'SHAPE_MISMATCH', /count is 4, but the target has 3 rows not ignored/);
    expectXentError(grad({ denominator: 2 }), 'BAD_OPTION', /denominator is 2, but .* sum to 3/);
    expectXentError(grad({ weight: new Float32Array(7) }), 'SHAPE_MISMATCH', /needs all 20 class weights/);
    expectXentError(grad({ grad: false }), 'BAD_OPTION', /grad must be true, 'inplace' or a Float32Array/);
    expectXentError(grad({ grad: new Float32Array(27) }), 'SHAPE_MISMATCH', /grad has 27 values, expected 28/);
    // Nothing was written by a refused in-place call.
    const before = shard.slice();
    expectXentError(grad({ grad: 'inplace', count: 2 }), 'SHAPE_MISMATCH', /count is 2/);
    expect(sameBits(shard, before)).toBe(true);
  });

  it('merged results and gradients match the reference for any shape, split and options (fast-check)', () => {
    const shardCase = fc
      .record({ rows: fc.integer({ min: 0, max: 6 }), classes: fc.integer({ min: 1, max: 60 }) })
      .chain(({ rows: r, classes }) =>
        fc.record({
          rows: fc.constant(r),
          classes: fc.constant(classes),
          logits: fc.array(
            fc.oneof(
              { weight: 20, arbitrary: fc.float({ min: -20, max: 20, noNaN: true }) },
              { weight: 1, arbitrary: fc.float({ min: -3e4, max: 3e4, noNaN: true }) },
              { weight: 1, arbitrary: fc.constant(-Infinity) },
            ),
            { minLength: r * classes, maxLength: r * classes },
          ),
          target: fc.array(fc.oneof(fc.integer({ min: 0, max: classes - 1 }), fc.constant(-100)), { minLength: r, maxLength: r }),
          cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, classes - 1) }), { maxLength: Math.min(8, classes - 1) }),
          weight: fc.option(fc.array(fc.float({ min: Math.fround(0.01), max: 4, noNaN: true }), { minLength: classes, maxLength: classes }), { nil: undefined }),
          labelSmoothing: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 1e-6, max: 1, noNaN: true })),
          zLoss: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 0.01, noNaN: true })),
          softcap: fc.option(fc.double({ min: 1, max: 50, noNaN: true }), { nil: undefined }),
          reduction: fc.constantFrom('mean' as const, 'sum' as const),
        }),
      );
    fc.assert(
      fc.property(shardCase, (c) => {
        const logits = new Float32Array(c.logits);
        // As in properties.test.ts: a -inf target logit makes the whole batch's gradient NaN.
        const target = Int32Array.from(c.target, (t, r) => (t >= 0 && logits[r * c.classes + t] === -Infinity ? -100 : t));
        const cuts = [0, ...c.cuts.filter((x) => x < c.classes).sort((x, y) => x - y), c.classes];
        const o: WholeOptions = {
          labelSmoothing: c.labelSmoothing, zLoss: c.zLoss, reduction: c.reduction,
          ...(c.weight ? { weight: new Float32Array(c.weight) } : {}), ...(c.softcap ? { softcap: c.softcap } : {}),
        };
        const want = reference.crossEntropy(logits, target, wholeOptions(c.classes, o));
        const label = `${build} ${JSON.stringify({ ...c, logits: undefined })}`;
        const divisor = c.reduction === 'sum' ? 1 : want.count === 0 ? 0 : target.reduce((s, t) => (t < 0 ? s : s + (c.weight?.[t] ?? 1)), 0);
        const termScale = divisor > 0 ? (1 / divisor) * Math.max(...(c.weight ?? [1])) * (1 + 2 * c.zLoss * 3e4) : 0;
        expectWhole(label, sharded(engine, logits, target, c.classes, cuts, o), want, c.classes, termScale);
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });
});

describe('vocabulary shards with two threads', () => {
  const engines = enginesOneAndTwoThreads();

  it('parts and gradients have the bits of one thread', () => {
    const { one, two } = engines;
    const classes = 4000, rowsHere = 300;
    const logits = makeLogits(rowsHere, classes, 'normal', 81);
    const target = makeTargets(rowsHere, classes, 82, 0.1);
    const o = { labelSmoothing: 0.1, softcap: 20, zLoss: 1e-4, weight: weightOf(classes) };
    const cuts = [0, 1000, 4000];
    const a = sharded(one, logits, target, classes, cuts, o);
    const b = sharded(two, logits, target, classes, cuts, o);
    expect(two.features.threads).toBe(2);
    expect(b.merged.loss).toBe(a.merged.loss);
    a.parts.forEach((p, i) => expect(sameBits(b.parts[i]!.sumExp, p.sumExp) && sameBits(b.parts[i]!.gap!, p.gap!)).toBe(true));
    a.grads.forEach((g, i) => expect(sameBits(b.grads[i] as Float32Array, g as Float32Array)).toBe(true));
  });
});

describe('examples/shards/vocab-parallel.js', () => {
  it('splits a vocabulary across worker threads, merges, and matches crossEntropy on the whole logits', () => {
    const script = fileURLToPath(new URL('../examples/shards/vocab-parallel.js', import.meta.url));
    for (const workers of ['3', '1']) {
      const run = spawnSync(process.execPath, [script, workers], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const [, sharded, whole] = /sharded loss ([\d.]+), whole-logits loss ([\d.]+)/.exec(run.stdout) ?? [];
      expect(Number(sharded)).toBeCloseTo(Number(whole), 5);
      expect(run.stdout).toContain(`${workers} workers, 16 rows x 50257 classes, 13 rows counted`);
    }
  });
});
