// The package as a user gets it: `npm pack`, the tarball installed into a scratch project (from
// npm's cache, offline), imported from Node ESM by its name, a consumer type-checked with
// TypeScript's `moduleResolution` 'node16' and 'bundler', and a page using it built with Vite.
//
// Needs `npm run build` first (npm test does it): the tarball holds dist/ and build/.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** A consumer using the API and its types; an error in xent's .d.ts or exports fails tsc. */
const CONSUMER = `import { createEngine, XentError, type Engine, type CrossEntropyResult } from 'xent';
import * as reference from 'xent/reference';

const engine: Engine = await createEngine({ simd: 'baseline' });
const logits = new Float32Array([2, -1, 0.5, 0.25, -0.5, 1.5]);
const target = new Int32Array([0, 2]);
const result: CrossEntropyResult = engine.crossEntropy(logits, target, { classes: 3, grad: true });
const want = reference.crossEntropy(logits, target, { classes: 3 });
try {
  engine.crossEntropy(logits, new Int32Array([0, 5]), { classes: 3 });
} catch (error) {
  if (error instanceof XentError) console.log(error.code);
}
console.log(JSON.stringify({ loss: result.loss, want: want.loss, grad: Array.from(result.grad ?? []), simd: engine.features.simd }));
engine.dispose();
`;

function tsconfig(moduleResolution: 'node16' | 'bundler') {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'node16' ? 'node16' : 'ESNext',
      moduleResolution,
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: ['consumer.ts'],
  });
}

describe('the packed package in a scratch project', () => {
  let scratch: string;

  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
    scratch = mkdtempSync(join(tmpdir(), 'xent-package-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as Array<{ filename: string }>;
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // --prefer-offline: the dependencies come from npm's cache, filled by the project's own npm ci
    // (only their metadata may be fetched from the registry, once).
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${packed[0]!.filename}`], {
      cwd: scratch,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writeFileSync(join(scratch, 'consumer.ts'), CONSUMER);
  }, 120_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('holds dist/, the four builds and no sources or tests', () => {
    const installed = join(scratch, 'node_modules', 'xent');
    expect(readdirSync(join(installed, 'build')).sort()).toEqual(['xent-relaxed-shared.wasm', 'xent-relaxed.wasm', 'xent-shared.wasm', 'xent.wasm']);
    expect(existsSync(join(installed, 'dist', 'threads', 'worker.js'))).toBe(true);
    for (const absent of ['src', 'test', 'assembly', 'scripts']) expect(existsSync(join(installed, absent)), absent).toBe(false);
    expect(existsSync(join(installed, 'LICENSE'))).toBe(true);
  });

  it('is imported by name from Node ESM, with xent/reference, and runs with two threads', () => {
    const script = `import { createEngine } from 'xent';
import * as reference from 'xent/reference';
const logits = new Float32Array(64 * 100).map((_, i) => ((i * 37) % 101) / 10 - 5);
const target = new Int32Array(64).map((_, r) => (r * 7) % 100);
const engine = await createEngine({ threads: 2 });
const got = engine.crossEntropy(logits, target, { classes: 100 });
const want = reference.crossEntropy(logits, target, { classes: 100 });
console.log(JSON.stringify({ features: engine.features, loss: got.loss, want: want.loss }));
engine.dispose();
`;
    writeFileSync(join(scratch, 'main.js'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: scratch, encoding: 'utf8' })) as {
      features: { threads: number };
      loss: number;
      want: number;
    };
    expect(out.features.threads).toBe(2);
    expect(Math.abs(out.loss - out.want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(out.want)));
  });

  it.each(['node16', 'bundler'] as const)("type-checks a consumer with moduleResolution '%s'", (resolution) => {
    writeFileSync(join(scratch, 'tsconfig.json'), tsconfig(resolution));
    let output = '';
    try {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output, 'tsc reports no errors').toBe('');
  });

  it('builds a page that uses it with Vite, emitting the builds and the worker', async () => {
    const page = join(scratch, 'page');
    mkdirSync(page);
    writeFileSync(join(page, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(page, 'main.js'), "import { createEngine } from 'xent';\nconst engine = await createEngine({ threads: 2 });\nconsole.log(engine.features);\n");
    const out = join(scratch, 'page-dist');
    await build({ root: page, configFile: false, logLevel: 'warn', build: { outDir: out, target: 'es2022' } });
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.filter((f) => f.endsWith('.wasm'))).toHaveLength(4);
    expect(assets.filter((f) => /^worker-[\w-]{8}\.js$/.test(f))).toHaveLength(1);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/assets\/index-[\w-]{8}\.js/);
  });
});
