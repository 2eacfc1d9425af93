// `xent score --state` and `xent merge`: a corpus scored in pieces (npy and safetensors files,
// any order, other thread counts) gives the report of scoring it at once, to the bit.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xent } from './support/cli.js';
import { makeLogits, makeTargets } from './support/data.js';
import { writeNpy, writeSafetensors } from './fixtures/writers.js';

const dir = mkdtempSync(join(tmpdir(), 'xent-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function json(args: string[]): Record<string, unknown> {
  const r = xent([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const METRICS = ['loss', 'perplexity', 'bitsPerToken', 'accuracy', 'entropy', 'count', 'rows', 'topK'];

describe('xent score --state and xent merge', () => {
  it('three pieces scored apart and merged in any order print the whole corpus\'s numbers, bit for bit', () => {
    const rows = 700, classes = 301;
    const logits = makeLogits(rows, classes, 'normal', 5);
    const target = makeTargets(rows, classes, 6, 0.1);
    const all = writeNpy(join(dir, 'all-logits.npy'), logits, [rows, classes]);
    const allTargets = writeNpy(join(dir, 'all-targets.npy'), target, [rows]);
    const whole = json(['score', all, allTargets, '--top-k', '3']);

    const cuts = [0, 123, 124, 700];
    const states: string[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i]!, cuts[i + 1]!];
      const state = join(dir, `piece-${i}.json`);
      const piece = logits.subarray(a * classes, b * classes);
      if (i === 1) {
        const file = writeSafetensors(join(dir, `piece-${i}.safetensors`), [
          { name: 'logits', dtype: 'F32', shape: [b - a, classes], data: piece },
          { name: 'labels', dtype: 'I32', shape: [b - a], data: target.subarray(a, b) },
        ]);
        json(['score', file, '--top-k', '3', '--state', state, '--threads', '2']);
      } else {
        json(['score', writeNpy(join(dir, `piece-${i}.npy`), piece, [b - a, classes]),
          writeNpy(join(dir, `piece-${i}-targets.npy`), target.subarray(a, b), [b - a]), '--top-k', '3', '--state', state]);
      }
      states.push(state);
    }
    for (const order of [states, [...states].reverse(), [states[1]!, states[2]!, states[0]!]]) {
      const merged = json(['merge', ...order]);
      for (const key of METRICS) expect(merged[key], key).toEqual(whole[key]);
    }
    const table = xent(['merge', ...states]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/3 states merged: 700 rows x 301 classes/);
  });

  it('refuses states that are not JSON, of another format, corrupted, too large, or of other classes', () => {
    const logits = makeLogits(4, 5, 'normal', 1);
    const good = join(dir, 'good.json');
    xent(['score', writeNpy(join(dir, 'g.npy'), logits, [4, 5]), writeNpy(join(dir, 'gt.npy'), makeTargets(4, 5, 2), [4]), '--state', good]);
    const other = join(dir, 'other.json');
    xent(['score', writeNpy(join(dir, 'o.npy'), makeLogits(2, 7, 'normal', 1), [2, 7]), writeNpy(join(dir, 'ot.npy'), makeTargets(2, 7, 2), [2]), '--state', other]);
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const state = JSON.parse(readFileSync(good, "utf8"));
    const cases: [string[], RegExp][] = [
      [[write('text.json', 'not json')], /is not JSON/],
      [[write('foreign.json', '{"format":"other"}')], /is not a state written by this version of xent score/],
      [[write('limbs.json', JSON.stringify({ ...state, evaluation: { ...state.evaluation, nll: { ...state.evaluation.nll, limbs: [1] } } }))], /nll is not an exact sum/],
      [[write('big.json', ' '.repeat((1 << 20) + 1))], /too large for a state/],
      [[good, other], /scored 7 classes, but .*good.json scored 5/],
      [[join(dir, 'missing.json')], /missing.json/],
    ];
    for (const [files, message] of cases) {
      const r = xent(['merge', ...files]);
      expect(r.status, String(message)).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(xent(['merge']).status).toBe(2);
  });
});

