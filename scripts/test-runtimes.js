#!/usr/bin/env node
// npm run test:runtimes: test/runtimes/suite.js under Node 22 and 24, Deno, Bun and Firefox ESR,
// and under Node 20 (this Node, as npm test runs it), whose results the others must match.
// Chromium is npm test's. Needs dist/ and build/ (npm run build). The runtimes are installed
// from the npm registry on first use (scripts/runtimes.js).
//
//   node scripts/test-runtimes.js [--only node22,deno,...]
//
// What each runtime must show (the suite checks the rest itself): the determinism case's bytes
// of the baseline build equal to the digest Node 20 computes (test/determinism.test.ts holds
// Node 20 to it), with 1 and 2 threads; a 300 x 1000 call on 2 threads with the bytes it has in
// Node 20; two threads; and, where the JavaScript engine is V8, the relaxed build's bytes equal
// to Node 20's as well. Other engines may fuse relaxed multiply-adds or not: their relaxed bytes
// are only reported.
//
// A runtime that cannot be installed or found fails the run under CI; elsewhere it is skipped
// with a loud notice, as the browser tests of npm test are.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BROWSER_ENGINES, FIREFOX, REPO, SERVER_RUNTIMES, install, notice, printTable, runPage, runScript } from './runtimes.js';

const ALL = ['node20', 'node22', 'node24', 'deno', 'bun', 'firefox'];
const CI = Boolean(process.env.CI);

/** The suite's report from one runtime. */
async function suite(name) {
  // Node 20 compiles relaxed SIMD only behind this flag (npm test runs it so).
  if (name !== 'firefox') return runScript(name, 'test/runtimes/suite.js', name === 'node20' ? ['--experimental-wasm-relaxed-simd'] : []);
  const { report, version, problems } = await runPage('firefox', 'test/runtimes/suite.js');
  report.runtime = `Firefox ${version}`;
  if (problems.length > 0) report.checks.push({ name: 'no errors in the page console', ok: false, why: problems.join('\n') });
  return report;
}

/** What the runner itself requires of a report, beyond the suite's own checks; node20's report is `first`. */
function judge(name, report, first) {
  const engine = BROWSER_ENGINES[name] ?? SERVER_RUNTIMES[name].engine;
  const problems = report.checks.filter((c) => !c.ok).map((c) => `${c.name}:\n    ${c.why.split('\n').slice(0, 6).join('\n    ')}`);
  const { baseline, relaxed } = report.digests;
  for (const threads of ['1', '2']) {
    if (baseline[threads] !== report.expected.baseline) {
      problems.push(`baseline build, ${threads} thread(s): the determinism case hashes to ${baseline[threads]}, Node 20 to ${report.expected.baseline}`);
    }
  }
  if (first && report.digests.large !== first.digests.large) {
    problems.push(`baseline build, 300 x 1000 on 2 threads: hashes to ${report.digests.large}, in Node 20 to ${first.digests.large}`);
  }
  if (relaxed['1'] !== relaxed['2']) problems.push(`relaxed build: 1 thread hashes to ${relaxed['1']}, 2 threads to ${relaxed['2']}`);
  if (engine === 'V8' && relaxed['1'] !== report.expected.relaxed) {
    problems.push(`relaxed build under V8: the determinism case hashes to ${relaxed['1']}, Node 20 to ${report.expected.relaxed}`);
  }
  if (report.auto.threads !== 2) problems.push(`createEngine({ threads: 2 }) got ${report.auto.threads} thread(s)`);
  const relaxedBits = relaxed['1'] === null ? 'no relaxed SIMD' : relaxed['1'] === report.expected.relaxed ? "V8's" : 'its own';
  return { engine, relaxedBits, problems };
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

let installError;
try {
  install();
} catch (error) {
  installError = error;
}

let failed = false;
const rows = [];
let first;
for (const name of only) {
  const started = Date.now();
  try {
    if (installError) throw new Error(`the runtimes could not be installed from the npm registry: ${installError.message}`);
    const report = await suite(name);
    if (name === 'node20') first = report;
    const { engine, relaxedBits, problems } = judge(name, report, first);
    const passed = report.checks.filter((c) => c.ok).length;
    rows.push([report.runtime, engine, report.auto.simd, String(report.auto.threads), relaxedBits,
      `${passed}/${report.checks.length}`, `${((Date.now() - started) / 1000).toFixed(1)} s`]);
    if (problems.length > 0) {
      failed = true;
      console.error(`\nFAILED in ${report.runtime}:\n  ${problems.join('\n  ')}`);
    }
  } catch (error) {
    const absent = installError || (name === 'firefox' && !existsSync(FIREFOX));
    if (CI || !absent) {
      failed = true;
      console.error(`\nFAILED: ${name} did not run: ${error.stack ?? error}`);
    } else {
      notice(`${name} in npm run test:runtimes`, error.message);
    }
  }
}

printTable(['runtime', 'JS engine', "simd 'auto'", 'threads', 'relaxed bits', 'checks', 'time'], rows);
console.log(failed ? '\ntest:runtimes FAILED' : '\ntest:runtimes passed');
process.exit(failed ? 1 : 0);
