// examples/rank/ end to end in headless Chromium: onnxruntime-web (wasm) runs data/char-model.onnx
// in the page and xent's logProbs scores candidate continuations. The ranking and every
// log-probability the page shows must be what the Node path gives: the same model run by
// onnxruntime-node, its logits scored by the float64 reference.
//
// Needs `npm run build` first (npm test does it).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reference from '../../../src/reference/index.js';
import { ROOT } from '../../support/cli.js';
import { LAUNCH_OPTIONS, browserTestsRun, serveStatic, skipNotice } from '../chromium.js';

const run = browserTestsRun();
if (!run) console.warn(`\n${skipNotice('test/browser/driven/rank.test.ts (examples/rank/ in Chromium)')}\n`);

const META = JSON.parse(readFileSync(join(ROOT, 'data', 'char-model.json'), 'utf8')) as { vocabulary: string; context: number };
const VOCAB = [...META.vocabulary];
const V = VOCAB.length;

interface Ranked {
  candidate: string;
  logprob: number;
  surprisal: number[];
}

/** The Node path: onnxruntime-node's logits, each candidate character's log-prob in float64. */
async function rankInNode(session: ort.InferenceSession, prompt: string, candidates: string[]): Promise<Ranked[]> {
  const ids = (text: string) => [...text].map((c) => VOCAB.indexOf(c));
  const scored: Ranked[] = [];
  for (const candidate of candidates) {
    const cand = ids(candidate);
    const all = [...ids(prompt).slice(-(META.context - cand.length)), ...cand];
    const input = new ort.Tensor('int64', BigInt64Array.from(all, BigInt), [1, all.length]);
    const logits = (await session.run({ input_ids: input })).logits!.data as Float32Array;
    const p = all.length - cand.length;
    const rows = logits.slice((p - 1) * V, (all.length - 1) * V);
    const { logprobs } = reference.logProbs(rows, cand, { classes: V });
    scored.push({ candidate, logprob: logprobs.reduce((a, b) => a + b, 0), surprisal: Array.from(logprobs, (l) => -l / Math.LN2) });
  }
  return scored.sort((a, b) => b.logprob - a.logprob);
}

async function readRanking(page: Page): Promise<Ranked[]> {
  return page.$$eval('#ranking li', (items) => items.map((li) => ({
    candidate: (li as HTMLElement).dataset.candidate!,
    logprob: Number((li as HTMLElement).dataset.logprob),
    surprisal: Array.from(li.querySelectorAll<HTMLElement>('.char'), (c) => Number(c.dataset.surprisal)),
  })));
}

function expectSameRanking(shown: Ranked[], node: Ranked[]): void {
  expect(shown.map((r) => r.candidate)).toEqual(node.map((r) => r.candidate));
  shown.forEach((r, i) => {
    // Two runtimes' float32 logits: they agree to about 1e-6; the log-probs sum a few of them.
    expect(Math.abs(r.logprob - node[i]!.logprob), r.candidate).toBeLessThan(1e-4);
    r.surprisal.forEach((s, j) => expect(Math.abs(s - node[i]!.surprisal[j]!), `${r.candidate}[${j}]`).toBeLessThan(1e-4));
  });
}

describe.skipIf(!run)('examples/rank/ in Chromium: onnxruntime-web + xent rank continuations', () => {
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  let page: Page;
  let session: ort.InferenceSession;
  const problems: string[] = [];

  beforeAll(async () => {
    for (const file of ['dist/index.js', 'build/xent.wasm']) {
      if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run npm run build first`);
    }
    session = await ort.InferenceSession.create(join(ROOT, 'data', 'char-model.onnx'));
    server = await serveStatic();
    browser = await chromium.launch(LAUNCH_OPTIONS);
    page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(new URL('/examples/rank/', server.url).href);
    await page.waitForSelector('#ranking[data-ranked]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    server?.stop();
    await session?.release();
  });

  it('ranks the default candidates as the Node path does', async () => {
    expect(await page.getAttribute('#status', 'data-ready'), await page.textContent('#status') ?? '').toBe('true');
    const prompt = await page.inputValue('#prompt');
    const candidates = (await page.inputValue('#candidates')).split('\n').filter(Boolean);
    const shown = await readRanking(page);
    expect(shown).toHaveLength(candidates.length);
    expectSameRanking(shown, await rankInNode(session, prompt, candidates));
    // The model has learned something: a word of the text beats letters it never saw together.
    expect(shown.at(-1)!.candidate).toBe('qxzvj');
    expect(problems).toEqual([]);
  });

  it('ranks a new prompt and candidates, a prompt longer than the context cut from the left', async () => {
    const prompt = 'And Moses said unto the LORD, Behold, the children of Israel have not hearkened unto ';
    const candidates = ['me', 'thee', 'Pharaoh', 'the voice of the LORD'];
    expect(prompt.length).toBeGreaterThan(META.context);
    await page.fill('#prompt', prompt);
    await page.fill('#candidates', candidates.join('\n'));
    const before = await page.getAttribute('#ranking', 'data-ranked');
    await page.click('#rank');
    await page.waitForFunction((n) => document.querySelector('#ranking')!.getAttribute('data-ranked') !== n, before);
    expectSameRanking(await readRanking(page), await rankInNode(session, prompt, candidates));
    expect(problems).toEqual([]);
  });

  it('says which character the model does not know', async () => {
    await page.fill('#candidates', 'light\nsnow \u2603');
    await page.click('#rank');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toBe(`candidate 'snow \u2603': character "\u2603" at 5 is not in the model's vocabulary`);
  });
});
