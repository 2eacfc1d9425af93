#!/usr/bin/env node
// npm run bench:runtimes: bench/runtimes.js once in each runtime (Node 20 as this script runs,
// without flags, Node 22 and 24, Deno, Bun, Firefox ESR, Chromium), printed as the Markdown
// table of the README's compatibility section, with the machine's CPU. Needs dist/ and build/
// (npm run build); the runtimes are those of npm run test:runtimes (scripts/runtimes.js).
// One run, one after the other: on a busy machine the numbers move by some 10 %.

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { BROWSER_ENGINES, SERVER_RUNTIMES, install, runPage, runScript } from './runtimes.js';

const ORDER = ['node20', 'node22', 'node24', 'deno', 'bun', 'firefox', 'chromium'];

function cpu() {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'));
    if (line) return line.slice('Model name:'.length).trim();
  } catch {
    // no lscpu: os.cpus() below
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

install();
const rows = [];
let measured;
for (const name of ORDER) {
  let report;
  if (BROWSER_ENGINES[name]) {
    const { version, report: r } = await runPage(name, 'bench/runtimes.js');
    report = { ...r, runtime: `${name === 'firefox' ? 'Firefox' : 'Chromium'} ${version}` };
  } else {
    report = await runScript(name, 'bench/runtimes.js');
  }
  measured = report;
  const engine = BROWSER_ENGINES[name] ?? SERVER_RUNTIMES[name].engine;
  rows.push([report.runtime, engine, report.auto.build, String(report.threads),
    report.auto.nsPerElement.toFixed(2), report.baseline.nsPerElement.toFixed(2)]);
  console.error(`${report.runtime}: done`);
}

console.log(`crossEntropy forward + backward, ${measured.shape} logits, one thread, ns per logit element (median of ${measured.calls} calls);`);
console.log(`${cpu()}, ${os.cpus().length} cores, ${process.platform} ${process.arch}; npm run bench:runtimes\n`);
console.log(`| runtime | JS engine | \`simd: 'auto'\` picks | threads with \`threads: 2\` | fwd+bwd ns/element, 'auto' | fwd+bwd ns/element, 'baseline' |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
