// bench/RESULTS.md holds the main run's tables, then one section per separate run (the fused
// linear cross-entropy's, TF.js's training step), in that order. Each run rewrites its own
// part and keeps the others.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const PATH = new URL('./RESULTS.md', import.meta.url);

/** The sections' headings, in the order they stand in the file. */
export const SECTIONS = {
  linear: '## Fused linear cross-entropy',
  tfjs: '## TensorFlow.js training step',
};

/**
 * Writes `text` as the part `name` ('main' or a key of SECTIONS; a section's text starts with
 * its heading) and keeps the other parts as they are.
 * @param {'main' | keyof typeof SECTIONS} name
 * @param {string} text
 */
export function writeResults(name, text) {
  const before = existsSync(PATH) ? readFileSync(PATH, 'utf8') : '';
  const starts = Object.entries(SECTIONS)
    .map(([key, heading]) => [key, before.indexOf(`\n${heading}\n`)])
    .filter(([, at]) => at >= 0)
    .sort((a, b) => a[1] - b[1]);
  const parts = { main: before.slice(0, starts[0]?.[1] ?? before.length) };
  starts.forEach(([key, at], i) => (parts[key] = before.slice(at + 1, starts[i + 1]?.[1] ?? before.length)));
  parts[name] = text;
  const order = ['main', ...Object.keys(SECTIONS)];
  writeFileSync(PATH, `${order.filter((key) => parts[key]?.trim()).map((key) => parts[key].trim()).join('\n\n')}\n`);
}
