// xent through a bundler: `vite build` of examples/vite-app must emit both .wasm builds as
// assets (and nothing else of build/) and the worker of threads as one self-contained script,
// and the built app must run in headless Chromium, cross-origin isolated: streaming the relaxed
// build from its hashed asset URL, and with two threads.
//
// Needs `npm run build` first (npm test does it): the app imports the package, i.e. dist/.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reference from '../src/reference/index.js';
import { LAUNCH_OPTIONS, browserTestsRun, serveStatic, skipNotice } from './browser/chromium.js';
import { expectField, expectLoss, expectLosses } from './support/compare.js';

const APP = fileURLToPath(new URL('../examples/vite-app/', import.meta.url));
const BUILD = fileURLToPath(new URL('../build/', import.meta.url));

describe('vite build of examples/vite-app', () => {
  let out: string;
  let assets: string[];

  beforeAll(async () => {
    if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is missing: run npm run build first');
    out = mkdtempSync(join(tmpdir(), 'xent-vite-app-'));
    await build({ configFile: join(APP, 'vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    assets = readdirSync(join(out, 'assets'));
  });

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('emits every build the loader can ask for as a hashed .wasm asset, byte for byte, and nothing else of build/', () => {
    // The builds dist/loader.js names in literal new URL('../build/<name>.wasm', import.meta.url).
    const loader = readFileSync(new URL('../dist/loader.js', import.meta.url), 'utf8');
    const named = [...loader.matchAll(/new URL\('\.\.\/build\/([\w-]+)\.wasm', import\.meta\.url\)/g)].map((m) => m[1]!).sort();
    expect(named).toContain('xent');
    expect(named).toContain('xent-relaxed');
    const wasm = assets.filter((f) => f.endsWith('.wasm'));
    // Vite names an asset <name>-<8-character hash>.wasm.
    const emitted = wasm.map((f) => f.replace(/-[\w-]{8}\.wasm$/, '')).sort();
    expect(emitted).toEqual(named);
    for (const file of wasm) {
      const name = file.replace(/-[\w-]{8}\.wasm$/, '');
      expect(readFileSync(join(out, 'assets', file)).equals(readFileSync(join(BUILD, `${name}.wasm`))), `${file} is build/${name}.wasm`).toBe(true);
    }
    expect(assets.filter((f) => !f.endsWith('.wasm') && !f.endsWith('.js')), 'no .wat or other files of build/').toEqual([]);
    const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(out, 'assets', f), 'utf8')).join('\n');
    for (const file of wasm) expect(js, `the bundle refers to ${file}`).toContain(`/assets/${file}`);
  });

  it('bundles the worker of threads into one asset of its own, with no imports left', () => {
    const workers = assets.filter((f) => /^worker-[\w-]{8}\.js$/.test(f));
    expect(workers).toHaveLength(1);
    const code = readFileSync(join(out, 'assets', workers[0]!), 'utf8');
    expect(code).not.toMatch(/^\s*import\s|from\s*['"]\.{0,2}\//m);
    expect(code, 'the worker serves job slots').toContain('Atomics.wait');
    const js = assets.filter((f) => f.startsWith('index-')).map((f) => readFileSync(join(out, 'assets', f), 'utf8')).join('\n');
    expect(js).toContain(`/assets/${workers[0]}`);
    expect(js, 'no worker inlined as a data: URL').not.toContain('data:text/javascript');
  });

  describe.skipIf(!browserTestsRun())('the built app in Chromium', () => {
    let server: Awaited<ReturnType<typeof serveStatic>>;
    let browser: Browser;

    beforeAll(async () => {
      server = await serveStatic(['--root', out]);
      browser = await chromium.launch(LAUNCH_OPTIONS);
    });

    afterAll(async () => {
      await browser?.close();
      server?.stop();
    });

    it('runs: streams the relaxed assets, computes what the reference computes, and with two threads', async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      // Count streaming and synchronous compiles in the page.
      await page.addInitScript(() => {
        const counts = { streaming: 0, sync: 0 };
        (window as unknown as { __compiles: typeof counts }).__compiles = counts;
        const streaming = WebAssembly.compileStreaming;
        WebAssembly.compileStreaming = (source) => {
          counts.streaming += 1;
          return streaming(source);
        };
        WebAssembly.Module = new Proxy(WebAssembly.Module, {
          construct(target, args, newTarget) {
            counts.sync += 1;
            return Reflect.construct(target, args, newTarget) as object;
          },
        });
      });
      const wasmResponses: Array<{ path: string; type: string | undefined }> = [];
      page.on('response', (r) => {
        if (r.url().endsWith('.wasm')) wasmResponses.push({ path: new URL(r.url()).pathname, type: r.headers()['content-type'] });
      });
      await page.goto(server.url);
      await page.waitForSelector('#result:not([data-status="loading"])');
      const status = await page.getAttribute('#result', 'data-status');
      const text = (await page.textContent('#result')) ?? '';
      expect(status, text).toBe('ok');
      const shown = JSON.parse(text) as {
        features: { simd: string };
        threadedFeatures: object;
        threadedSame: boolean;
        loss: number;
        losses: number[];
        grad: number[];
        softmax: number[];
      };

      expect(shown.features.simd).toBe('relaxed');
      expect(shown.threadedFeatures).toEqual({ simd: 'relaxed', threads: 2, sharedMemory: true });
      expect(shown.threadedSame, 'two threads give the bits of one').toBe(true);
      // One engine with a private memory, one with a shared memory (threads). Not sorted: the
      // order of the two names would depend on the first letter of a content hash.
      const paths = wasmResponses.map((r) => r.path);
      expect(paths).toHaveLength(2);
      expect(paths).toEqual(expect.arrayContaining([
        expect.stringMatching(/^\/assets\/xent-relaxed-[\w-]{8}\.wasm$/),
        expect.stringMatching(/^\/assets\/xent-relaxed-shared-[\w-]{8}\.wasm$/),
      ]));
      for (const r of wasmResponses) expect(r.type).toBe('application/wasm');
      expect(await page.evaluate(() => (window as unknown as { __compiles: unknown }).__compiles)).toEqual({ streaming: 2, sync: 0 });

      const classes = 4;
      const logits = new Float32Array([2, -1, 0.5, 0.25, -0.5, 1.5, 3, 0, 1, 1, 1, 1]);
      const target = new Int32Array([0, 2, 3]);
      const want = reference.crossEntropy(logits, target, { classes, grad: true, labelSmoothing: 0.1 });
      expectLoss(shown.loss, want.loss, { label: 'vite app: loss' });
      expectLosses(shown.losses, want.losses, { label: 'vite app: losses' });
      expectField(shown.grad, want.grad!, { label: 'vite app: grad', classes });
      expectField(shown.softmax, reference.softmax(logits, { classes }), { label: 'vite app: softmax', classes });
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});

if (!browserTestsRun()) console.warn(`\n${skipNotice('the built Vite app in Chromium (test/vite-app.test.ts)')}\n`);
