// Worker threads in a real browser: Web Workers over a shared WebAssembly.Memory on a
// cross-origin isolated page, and one thread (said in engine.features) on a page that is not.
// Drives headless Chromium with playwright-core against scripts/serve.js; needs `npm run build`.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCH_OPTIONS, browserTestsRun, serveStatic, skipNotice } from '../chromium.js';

const run = browserTestsRun();
if (!run) console.warn(`\n${skipNotice('test/browser-threads.test.ts (threads in Chromium)')}\n`);

/** In the page: a 2-thread engine and a 1-thread one on the same data; their features and results. */
async function threadsInPage(base: string, browser: Browser) {
  const page = await browser.newPage();
  await page.goto(base);
  // The page's code is a string: vitest would rewrite an import() inside a function it can see.
  const report = await page.evaluate(`(async () => {
    const { createEngine } = await import(${JSON.stringify(new URL('/dist/index.js', base).href)});
    const rows = 300, classes = 1000;
    const logits = new Float32Array(rows * classes).map((_, i) => Math.sin(i * 0.37) * 5);
    const target = new Int32Array(rows).map((_, r) => (r * 7919) % classes);
    const two = await createEngine({ threads: 2 });
    const one = await createEngine({ threads: 1 });
    const a = two.crossEntropy(logits, target, { classes, grad: true });
    const b = one.crossEntropy(logits, target, { classes, grad: true });
    let same = a.loss === b.loss;
    for (let i = 0; i < a.grad.length; i++) same &&= Object.is(a.grad[i], b.grad[i]);
    const report = { isolated: globalThis.crossOriginIsolated, features: two.features, same, loss: a.loss };
    two.dispose();
    one.dispose();
    return report;
  })()`) as { isolated: boolean; features: object; same: boolean; loss: number };
  await page.close();
  return report;
}

describe.runIf(run)('threads in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch(LAUNCH_OPTIONS);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a cross-origin isolated page gets two threads with bit-identical results', async () => {
    const server = await serveStatic();
    try {
      const report = await threadsInPage(server.url, browser);
      expect(report.isolated).toBe(true);
      expect(report.features).toMatchObject({ threads: 2, sharedMemory: true });
      expect(report.same).toBe(true);
      expect(Number.isFinite(report.loss)).toBe(true);
    } finally {
      server.stop();
    }
  });

  it('a worker script that cannot be loaded makes createEngine reject with a BAD_OPTION XentError', async () => {
    // The package served without dist/threads/worker.js, as a server or bundler that drops it does.
    const root = mkdtempSync(join(tmpdir(), 'xent-no-worker-'));
    const repo = fileURLToPath(new URL('../../..', import.meta.url));
    cpSync(join(repo, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(repo, 'build'), join(root, 'build'), { recursive: true, filter: (f) => !f.endsWith('.wat') });
    rmSync(join(root, 'dist', 'threads', 'worker.js'));
    const server = await serveStatic(['--root', root]);
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      const refused = await page.evaluate(`(async () => {
        const { createEngine, XentError } = await import('/dist/index.js');
        try {
          await createEngine({ threads: 2 });
          return 'created';
        } catch (error) {
          return { xent: error instanceof XentError, code: error.code, message: error.message };
        }
      })()`);
      await page.close();
      expect(refused).toMatchObject({ xent: true, code: 'BAD_OPTION' });
      expect((refused as { message: string }).message).toMatch(/^createEngine: a worker thread failed to start \(.+\)\. .*bundler.*threads: 1$/);
    } finally {
      server.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a page that is not isolated falls back to one thread, and says so', async () => {
    const server = await serveStatic(['--not-isolated']);
    try {
      const report = await threadsInPage(server.url, browser);
      expect(report.isolated).toBe(false);
      expect(report.features).toMatchObject({ threads: 1, sharedMemory: false });
      expect(report.same).toBe(true);
    } finally {
      server.stop();
    }
  });
});
