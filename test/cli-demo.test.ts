// `xent demo` (what `npm start` runs), shortened to 50 steps: it trains, evaluates held-out
// text better than chance, samples text, and its xent losses agree with the reference.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function demo(args: string[]) {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'xent.js'), 'demo', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('xent demo', () => {
  it('trains for 50 steps, beats a uniform guess on held-out text, and matches the reference', () => {
    const r = demo(['--steps', '50', '--batch', '64']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^corpus\s+data\/kjv-genesis-exodus\.txt: 366194 characters, 62 distinct/m);
    expect(out).toMatch(/^step 50\/50\s+loss \d/m);

    // Held-out perplexity from engine.evaluate: far below uniform guessing over 62 characters.
    const perplexity = Number(/^perplexity\s+([\d.]+)/m.exec(out)?.[1]);
    expect(perplexity).toBeGreaterThan(1);
    expect(perplexity).toBeLessThan(40);
    const bits = Number(/^bits per character\s+([\d.]+)/m.exec(out)?.[1]);
    expect(bits).toBeCloseTo(Math.log2(perplexity), 3);

    // One sampled line per prompt.
    for (const prompt of ['And God said', 'And Moses', 'In the beginning']) expect(out).toContain(`\n  ${prompt}`);

    // The engine's loss and gradient agreed with the float64 reference on the checked batches.
    const diff = /largest difference: loss ([\d.e+-]+), gradient ([\d.e+-]+)/.exec(out);
    expect(diff).not.toBeNull();
    expect(Number(diff![1])).toBeLessThan(1e-5);
    expect(Number(diff![2])).toBeLessThan(1e-5);
    expect(out).toMatch(/^float64 reference, the same batches\s+[\d.]+ m?s/m);
  });

  it('refuses a corpus that is not there, in one line', () => {
    const r = demo(['--steps', '5', '--corpus', 'no/such/corpus.txt']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('xent demo: no/such/corpus.txt: no such file\n');
  });
});
