// The browser demo (examples/browser/) end to end, in headless Chromium driven by playwright-core:
// a plain <script type="module"> page on scripts/serve.js that imports dist/index.js, which
// streams build/*.wasm from next to it. Moves the sliders, edits a logit, changes the target,
// checks every number on the page against the float64 reference, runs the benchmark panel
// small, checks the chart, and saves a screenshot.
//
// Needs `npm run build` first (npm test does it).

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reference from '../../../src/reference/index.js';
import { importGraph, sizes } from '../../../scripts/size.js';
import { LAUNCH_OPTIONS, browserTestsRun, serveStatic, skipNotice } from '../chromium.js';
import { expectField, expectLoss } from '../../support/compare.js';

const run = browserTestsRun();
if (!run) console.warn(`\n${skipNotice('test/page.test.ts (the browser demo in Chromium)')}\n`);

const BUILT = ['../../../dist/index.js', '../../../build/xent.wasm', '../../../build/xent-relaxed.wasm'].map((p) => new URL(p, import.meta.url));

/** What the playground shows, read back from the DOM (data-value holds each number in full). */
async function readPlayground(page: Page) {
  return page.evaluate(() => {
    const values = (selector: string) => Array.from(document.querySelectorAll<HTMLElement>(selector), (e) => Number(e.dataset.value));
    const one = (selector: string) => Number(document.querySelector<HTMLElement>(selector)!.dataset.value);
    return {
      logits: Array.from(document.querySelectorAll<HTMLInputElement>('.logit'), (e) => Number(e.value)),
      target: Number(document.querySelector<HTMLInputElement>('input[name=target]:checked')!.value),
      temperature: Number(document.querySelector<HTMLInputElement>('#temperature')!.value),
      smoothing: Number(document.querySelector<HTMLInputElement>('#smoothing')!.value),
      probs: values('.prob .bar'),
      grad: values('.grad .bar'),
      loss: one('#loss'),
      pTarget: one('#p-target'),
      lse: one('#lse'),
      topk: Array.from(document.querySelectorAll<HTMLElement>('#topk li'), (e) => Number(e.dataset.index)),
      lossText: document.querySelector('#loss')!.textContent,
      updates: Number(document.querySelector<HTMLElement>('#playground')!.dataset.updates),
    };
  });
}

type Shown = Awaited<ReturnType<typeof readPlayground>>;

/** Every number the playground shows, against the float64 reference of the same inputs. */
function expectMatchesReference(shown: Shown, label: string): void {
  const classes = shown.logits.length;
  const logits = Float32Array.from(shown.logits);
  const probs = reference.softmax(logits, { classes, temperature: shown.temperature });
  const scaled = Float32Array.from(logits, (x) => x / shown.temperature);
  const ce = reference.crossEntropy(scaled, [shown.target], {
    classes, labelSmoothing: shown.smoothing, grad: true, gradScale: 1 / shown.temperature,
  });
  expectField(shown.probs, probs, { label: `${label}: softmax bars`, classes });
  expectField(shown.grad, ce.grad!, { label: `${label}: gradient bars`, classes });
  expectLoss(shown.loss, ce.loss, { label: `${label}: loss` });
  expectLoss(shown.lse, ce.lse[0]!, { label: `${label}: lse` });
  expectLoss(shown.pTarget, probs[shown.target]!, { label: `${label}: p(target)` });
  const top = Array.from(probs, (p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i).slice(0, 3).map((e) => e.i);
  expect(shown.topk, `${label}: top 3`).toEqual(top);
}

describe.skipIf(!run)('the browser demo in Chromium (examples/browser/, scripts/serve.js)', () => {
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const responses: Array<{ path: string; type: string | null; status: number }> = [];

  beforeAll(async () => {
    for (const file of BUILT) if (!existsSync(file)) throw new Error(`${file.pathname} is missing: run npm run build first`);
    server = await serveStatic();
    browser = await chromium.launch(LAUNCH_OPTIONS);
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('response', (response) => {
      responses.push({ path: new URL(response.url()).pathname, type: response.headers()['content-type'] ?? null, status: response.status() });
    });
    await page.goto(server.url);
    await page.waitForSelector('#status[data-ready]');
  });

  afterAll(async () => {
    await browser?.close();
    server?.stop();
  });

  it('loads as a plain module script: dist/ by the import map, the relaxed build streamed from build/', async () => {
    expect(await page.getAttribute('#status', 'data-ready'), await page.textContent('#status') ?? '').toBe('true');
    expect(await page.getAttribute('#status', 'data-simd')).toBe('relaxed');
    expect(await page.evaluate(() => self.crossOriginIsolated), 'COOP/COEP from scripts/serve.js').toBe(true);
    const wasm = responses.filter((r) => r.path.endsWith('.wasm'));
    expect(wasm).toEqual([{ path: '/build/xent-relaxed.wasm', type: 'application/wasm', status: 200 }]);
    expect(responses.some((r) => r.path === '/dist/index.js' && r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.status !== 200), 'failed requests').toEqual([]);
  });

  it('loads exactly the dist/ files that scripts/size.js counts, and one .wasm', () => {
    const loaded = responses.filter((r) => r.path.startsWith('/dist/')).map((r) => r.path.slice(1));
    expect([...loaded].sort()).toEqual(importGraph().sort());
    const js = sizes(loaded);
    const wasm = sizes(['build/xent-relaxed.wasm']);
    const gzip = (list: typeof js) => list.reduce((n, f) => n + f.gzip, 0);
    console.log(
      `the demo page loads ${js.length} dist/ files, ${(gzip(js) / 1000).toFixed(1)} kB gzipped, ` +
        `and build/xent-relaxed.wasm, ${(gzip(wasm) / 1000).toFixed(1)} kB gzipped`,
    );
  });

  it('the playground starts out matching the reference', async () => {
    expectMatchesReference(await readPlayground(page), 'initial');
  });

  it('moving the temperature slider changes the numbers, which still match the reference', async () => {
    const before = await readPlayground(page);
    await page.focus('#temperature');
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
    const after = await readPlayground(page);
    expect(after.temperature).toBeCloseTo(before.temperature + 12 * 0.05, 6);
    expect(await page.textContent('#temperature-value')).toBe(after.temperature.toFixed(2));
    expect(after.updates).toBeGreaterThan(before.updates);
    expect(after.loss).not.toBe(before.loss);
    expect(after.lossText).not.toBe(before.lossText);
    expect(after.probs).not.toEqual(before.probs);
    expectMatchesReference(after, 'T slider');
  });

  it('label smoothing, an edited logit and a new target: the numbers follow the reference', async () => {
    await page.focus('#smoothing');
    for (let i = 0; i < 15; i++) await page.keyboard.press('ArrowRight');
    let shown = await readPlayground(page);
    expect(shown.smoothing).toBeCloseTo(0.15, 6);
    expectMatchesReference(shown, 'smoothing slider');

    await page.locator('.logit').nth(6).fill('4.25');
    shown = await readPlayground(page);
    expect(shown.logits[6]).toBe(4.25);
    expect(shown.topk[0], 'the edited class is now the most likely').toBe(6);
    expectMatchesReference(shown, 'edited logit');

    const lossBefore = shown.loss;
    await page.locator('.target').nth(5).click();
    shown = await readPlayground(page);
    expect(shown.target).toBe(5);
    expect(shown.loss).not.toBe(lossBefore);
    expect(await page.locator('.class.is-target').getAttribute('data-index')).toBe('5');
    expectMatchesReference(shown, 'new target');
  });

  it('the benchmark panel runs small and draws one bar per contender', async () => {
    await page.fill('#bench-rows', '16');
    await page.fill('#bench-classes', '1000');
    await page.fill('#bench-budget', '60');
    await page.click('#bench-run');
    await page.waitForSelector('#bench-status[data-state="done"], #bench-status[data-state="error"]', { timeout: 60_000 });
    expect(await page.getAttribute('#bench-status', 'data-state'), await page.textContent('#bench-status') ?? '').toBe('done');
    const bars = await page.$$eval('#bench-chart rect.bar', (rects) =>
      rects.map((r) => ({ name: r.getAttribute('data-name'), throughput: Number(r.getAttribute('data-throughput')), width: Number(r.getAttribute('width')) })),
    );
    expect(bars.map((b) => b.name)).toEqual(['xent · relaxed SIMD', 'xent · baseline SIMD', 'plain JavaScript']);
    for (const bar of bars) {
      expect(bar.throughput, bar.name!).toBeGreaterThan(0);
      expect(Number.isFinite(bar.throughput), bar.name!).toBe(true);
      expect(bar.width, bar.name!).toBeGreaterThan(0);
    }
    // Bar lengths are proportional to throughput.
    const [a, , c] = bars;
    expect(a!.width / c!.width).toBeCloseTo(a!.throughput / c!.throughput, 1);
    const labels = await page.$$eval('#bench-chart text.bar-text', (texts) => texts.map((t) => t.textContent));
    expect(labels).toHaveLength(3);
    for (const label of labels) expect(label).toMatch(/^\d+(\.\d)? M\/s/);
    const rows = await page.$$eval('#bench-table tbody tr', (trs) => (trs as HTMLTableRowElement[]).map((tr) => Array.from(tr.cells, (td) => td.textContent)));
    expect(rows).toHaveLength(3);
    // The contenders computed the same loss: xent and plain JavaScript agree.
    const spread = Number(await page.getAttribute('#bench-status', 'data-spread'));
    expect(spread).toBeLessThan(1e-5);
  });

  it('no errors in the console; a screenshot for people to look at', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const path = join(tmpdir(), `xent-browser-demo-${process.pid}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`browser demo screenshot: ${path}`);
    expect(existsSync(path)).toBe(true);
    expect(problems).toEqual([]);
  });
});
