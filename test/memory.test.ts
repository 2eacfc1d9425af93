// Engine memory: zero-copy tensors, views after growth, chunking of inputs larger than memory.

import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/index.js';
import { sameBits } from './support/compare.js';
import { makeLogits, makeTargets } from './support/data.js';

describe('tensors', () => {
  it('data is a view of engine memory that stays valid after the memory grows', async () => {
    const engine = await createEngine();
    const t = engine.tensor(3, 4);
    t.data.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const before = t.data;
    const big = engine.tensor(2048, 2048); // 16 MiB: grows the memory
    expect(before.length).toBe(0); // the old view was detached by the growth
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(t.rows).toBe(3);
    expect(t.cols).toBe(4);
    big.free();
    engine.dispose();
  });

  it('freed memory is reused', async () => {
    const engine = await createEngine({ maxMemoryBytes: 16 << 20 });
    for (let i = 0; i < 20; i++) engine.tensor(1024, 1024).free(); // 4 MiB each, 80 MiB in all
    const a = engine.tensor(1024, 1024);
    const b = engine.tensor(1024, 1024);
    a.free();
    b.free();
    engine.dispose();
  });
});

describe('chunking', () => {
  // The oracle is a resident tensor, computed in one kernel call over all rows: the plain
  // arrays go through engine memory a few rows at a time, so the two paths really differ.
  it('a plain array larger than maxMemoryBytes gives the bits of one kernel call on a resident tensor', async () => {
    const small = await createEngine({ maxMemoryBytes: 8 << 20 });
    const large = await createEngine();
    const rows = 700, classes = 32000; // 89.6 MB of logits through 8 MiB of memory
    const logits = makeLogits(rows, classes, 'normal', 9);
    const target = makeTargets(rows, classes, 10, 0.1);
    const options = { classes, labelSmoothing: 0.1 } as const;
    const chunked = small.crossEntropy(logits, target, { ...options, grad: true });
    expect(small.arena.memory.buffer.byteLength).toBeLessThanOrEqual(8 << 20);

    const resident = large.tensor(rows, classes);
    resident.data.set(logits);
    const softmax = large.softmax(resident);
    const whole = large.crossEntropy(resident, target, { ...options, grad: 'inplace' });
    expect(sameBits(chunked.losses, whole.losses)).toBe(true);
    expect(sameBits(chunked.lse, whole.lse)).toBe(true);
    expect(sameBits(chunked.grad!, resident.data)).toBe(true);
    expect(chunked.loss).toBe(whole.loss);
    expect(sameBits(small.softmax(logits, { classes }), softmax)).toBe(true);
    small.dispose();
    large.dispose();
  });

  it('klDivergence, whose gradient takes a scratch row per row, chunked through maxMemoryBytes', async () => {
    const small = await createEngine({ maxMemoryBytes: 8 << 20 });
    const large = await createEngine();
    const rows = 300, classes = 10000; // 24 MB of student and teacher through 8 MiB of memory
    const student = makeLogits(rows, classes, 'normal', 4), teacher = makeLogits(rows, classes, 'normal', 5);
    const chunked = small.klDivergence(student, teacher, { classes, grad: true, temperature: 2 });
    expect(small.arena.memory.buffer.byteLength).toBeLessThanOrEqual(8 << 20);

    const s = large.tensor(rows, classes), t = large.tensor(rows, classes);
    s.data.set(student);
    t.data.set(teacher);
    const whole = large.klDivergence(s, t, { grad: 'inplace', temperature: 2 });
    expect(sameBits(chunked.losses, whole.losses)).toBe(true);
    expect(sameBits(chunked.grad!, s.data)).toBe(true);
    expect(chunked.loss).toBe(whole.loss);
    small.dispose();
    large.dispose();
  });

  it('an in-place gradient of a plain array works chunk by chunk', async () => {
    const small = await createEngine({ maxMemoryBytes: 8 << 20 });
    const large = await createEngine();
    const rows = 300, classes = 10000;
    const logits = makeLogits(rows, classes, 'normal', 2);
    const target = makeTargets(rows, classes, 3);
    const resident = large.tensor(rows, classes);
    resident.data.set(logits);
    large.crossEntropy(resident, target, { grad: 'inplace' });
    small.crossEntropy(logits, target, { classes, grad: 'inplace' });
    expect(sameBits(logits, resident.data)).toBe(true);
    small.dispose();
    large.dispose();
  });
});
