#!/usr/bin/env node
// What a page downloads to use xent: the JavaScript of dist/ that `import 'xent'` pulls in
// (dist/index.js and its static imports) and each .wasm build (a page fetches one of them:
// relaxed or baseline SIMD, with a shared memory when it runs threads),
// raw and gzipped (level 9, as a server would). Run after `npm run build`:
//
//   node scripts/size.js [--json]

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** dist/ files reachable from `entry` through static relative imports, entry first. */
export function importGraph(entry = join(REPO, 'dist/index.js')) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    // `import ... from './x.js'`, `export ... from './x.js'`, `import './x.js'` (type-only
    // imports are gone from tsc's output). Dynamic import() of a variable is not followed.
    for (const match of source.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|(?:^|[;\s])import\s*['"](\.[^'"]+)['"]/gm)) {
      visit(resolve(dirname(file), match[1] ?? match[2]));
    }
  };
  visit(resolve(entry));
  return [...seen].map((file) => relative(REPO, file));
}

/** Raw and gzip -9 bytes of each file (paths relative to the repository). */
export function sizes(files) {
  return files.map((file) => {
    const bytes = readFileSync(join(REPO, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const js = sizes(importGraph());
  const wasm = sizes(readdirSync(join(REPO, 'build')).filter((f) => f.endsWith('.wasm')).sort().map((f) => `build/${f}`));
  const total = (list) => list.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip }), { raw: 0, gzip: 0 });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ js, jsTotal: total(js), wasm }, null, 2));
  } else {
    const kB = (n) => `${(n / 1000).toFixed(1)} kB`.padStart(9);
    const line = (f) => `  ${f.file.padEnd(30)} ${kB(f.raw)} ${kB(f.gzip)}`;
    console.log(`  ${'file'.padEnd(30)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)}`);
    console.log(js.map(line).join('\n'));
    console.log(line({ file: `JS total (${js.length} files)`, ...total(js) }));
    console.log(wasm.map(line).join('\n'));
    console.log(`  A page loads the JS total and one .wasm: ${kB(total(js).gzip + Math.max(...wasm.map((w) => w.gzip))).trim()} gzipped at most.`);
  }
}
