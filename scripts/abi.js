// Writes src/kernels.ts, the wasm module's exports typed as the AssemblyScript source declares
// them, from the bindings asc generates (build/xent.d.ts, asconfig's "bindings": "raw").
// Run by `npm run build:wasm`, so a kernel's TypeScript signature cannot drift from its source.

import { readFileSync, writeFileSync } from 'node:fs';

const [from = 'build/xent.d.ts', to = 'src/kernels.ts'] = process.argv.slice(2);
const bindings = readFileSync(from, 'utf8');

// Each export is a doc block (its source path, then `@param name `type`` lines) and a declaration.
const exportPattern = /\/\*\*\n\s+\* (\S+)\n([\s\S]*?)\*\/\n\s+export function (\w+)\(([^)]*)\): (\w+);/g;
const members = [];
for (const [, source, doc, name, params, returns] of bindings.matchAll(exportPattern)) {
  const types = new Map([...doc.matchAll(/@param (\w+) `(\w+)`/g)].map(([, param, type]) => [param, type]));
  const typed = params
    .split(', ')
    .filter(Boolean)
    .map((param) => {
      const [paramName] = param.split(':');
      return `${paramName}: number /* ${types.get(paramName)} */`;
    });
  members.push(`  /** ${source} */\n  ${name}(${typed.join(', ')}): ${returns};`);
}
if (members.length === 0) throw new Error(`${from}: no exported functions found; has asc's bindings format changed?`);

writeFileSync(
  to,
  `// The wasm module's exports, typed from the AssemblyScript source: written by scripts/abi.js on
// every \`npm run build:wasm\`; do not edit. Pointers (usize) are byte addresses in linear memory.

export interface Kernels {
${members.join('\n')}
}
`,
);
