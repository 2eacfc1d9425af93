// `xent score-model`: the project's character model (data/char-model.onnx, made by
// scripts/make-model.py) run by onnxruntime-node over the held-out text, scored by xent from
// the ort.Tensor it outputs, must give the held-out perplexity PyTorch recorded at export time
// (data/char-model.json). Bad models, vocabularies and texts: exit 2, one line naming the file.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, xent } from './support/cli.js';

const MODEL = join(ROOT, 'data', 'char-model.onnx');
const META = JSON.parse(readFileSync(join(ROOT, 'data', 'char-model.json'), 'utf8')) as {
  vocabulary: string;
  context: number;
  heldOut: { text: string; start: number; end: number; window: number; count: number; loss: number; perplexity: number };
};
const dir = mkdtempSync(join(tmpdir(), 'xent-score-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The held-out text, as the JSON defines it (offsets in characters). */
const heldOut = write('held-out.txt', [...readFileSync(join(ROOT, META.heldOut.text), 'utf8')].slice(META.heldOut.start, META.heldOut.end).join(''));

describe('xent score-model', () => {
  it('scores the held-out text with the perplexity PyTorch recorded', () => {
    const r = xent(['score-model', MODEL, heldOut, '--window', String(META.heldOut.window), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { perplexity: number; loss: number; count: number; characters: number };
    expect(out.count).toBe(META.heldOut.count);
    expect(out.characters).toBe(META.heldOut.end - META.heldOut.start);
    expect(Math.abs(out.perplexity - META.heldOut.perplexity) / META.heldOut.perplexity).toBeLessThan(1e-4);
    expect(Math.abs(out.loss - META.heldOut.loss) / META.heldOut.loss).toBeLessThan(1e-4);
  });

  it('gives the same counts whatever the batch, and prints the report of xent score', () => {
    const text = write('short.txt', 'In the beginning God created the heaven and the earth.\n'.repeat(5));
    const a = JSON.parse(xent(['score-model', MODEL, text, '--batch', '1', '--window', '20', '--json']).stdout);
    const b = JSON.parse(xent(['score-model', MODEL, text, '--batch', '7', '--window', '20', '--json']).stdout);
    // 275 characters in 14 windows of 20 (the last 15 long): one unscored position per window.
    expect(a.count).toBe(275 - 14);
    expect(b.count).toBe(a.count);
    expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * a.loss);
    const table = xent(['score-model', MODEL, text, '--top-k', '3']);
    expect(table.status).toBe(0);
    for (const line of ['loss', 'perplexity', 'bits per token', 'accuracy', 'top-3 accuracy', 'entropy', 'count']) {
      expect(table.stdout).toMatch(new RegExp(`^${line}\\s`, 'm'));
    }
  });

  it('writes a state that xent merge reports the same', () => {
    const state = join(dir, 'held-out.state.json');
    const scored = JSON.parse(xent(['score-model', MODEL, heldOut, '--state', state, '--json']).stdout);
    const merged = xent(['merge', state, '--json']);
    expect(merged.status).toBe(0);
    const report = JSON.parse(merged.stdout);
    for (const key of ['loss', 'perplexity', 'accuracy', 'entropy', 'count']) expect(report[key], key).toBe(scored[key]);
  });

  it('says how to get onnxruntime-node where it is not installed (an optional peer dependency)', () => {
    // A copy of the package whose node_modules holds its one dependency and not onnxruntime-node.
    const pkg = join(dir, 'without-ort');
    for (const f of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    mkdirSync(join(pkg, 'node_modules'));
    symlinkSync(join(ROOT, 'node_modules', 'cli-progress'), join(pkg, 'node_modules', 'cli-progress'));
    const r = xent(['score-model', MODEL, heldOut], pkg);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`xent score-model: ${MODEL}: running an ONNX model needs onnxruntime-node, which is not installed: npm install onnxruntime-node`);
  });

  const refusals: Array<[string, () => string[], RegExp]> = [
    ['a model whose output is float [B, T]', () => ['score-model', join(ROOT, 'test', 'fixtures', 'model-rank2.onnx'), heldOut, '--vocab', join(ROOT, 'data', 'char-model.json')],
      /model-rank2\.onnx: output 'logits' is float32 \[16, 64\] .*expected float32 or float16 logits \[16, 64, \d+\]/],
    ['a model whose output is int64 [B, T, 1]', () => ['score-model', join(ROOT, 'test', 'fixtures', 'model-int64.onnx'), heldOut, '--vocab', join(ROOT, 'data', 'char-model.json')],
      /model-int64\.onnx: output 'logits' is int64 \[16, 64, 1\] .*expected float32 or float16 logits/],
    ['a text with a character outside the vocabulary', () => ['score-model', MODEL, write('snow.txt', 'And God said, Let there be snow \u2603.')],
      /snow\.txt: character "\u2603" \(U\+2603\) at character 32 is not in the model's vocabulary of \d+ characters/],
    ['an ONNX file that does not load', () => ['score-model', write('garbage.onnx', 'not a model'), heldOut, '--vocab', join(ROOT, 'data', 'char-model.json')],
      /garbage\.onnx: does not load as an ONNX model/],
    ['a missing model', () => ['score-model', join(dir, 'none.onnx'), heldOut, '--vocab', join(ROOT, 'data', 'char-model.json')],
      /none\.onnx: no such file/],
    ['a model without its vocabulary file', () => ['score-model', write('lonely.onnx', ''), heldOut],
      /lonely\.json: no such file/],
    ['a vocabulary file without a vocabulary', () => ['score-model', MODEL, heldOut, '--vocab', write('bad.json', '{"context": 64}')],
      /bad\.json: needs "vocabulary"/],
    ['a window longer than the model takes', () => ['score-model', MODEL, heldOut, '--window', String(META.context + 1)],
      /--window must be an integer in \[2, \d+\]/],
  ];
  it.each(refusals)('refuses %s: exit 2, one line', (_, args, message) => {
    const r = xent(args());
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    if (!r.stderr.includes('usage:')) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
