// node scripts/exp-code.js: the machine code V8 generates for the bare exp loop (the
// vexpMinus kernel) of each SIMD build, counted by instruction: what one vector of four exps
// costs, and so what bounds the exp. V8 prints the code of optimised wasm functions with
// --print-wasm-code; --no-liftoff makes the first call compile with the optimising tier.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILDS = { baseline: 'xent.wasm', relaxed: 'xent-relaxed.wasm' };

if (process.argv[2] === '--child') {
  // Compiles and calls vexpMinus once, so that V8 prints its code.
  const bytes = readFileSync(new URL(`../build/${process.argv[3]}`, import.meta.url));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const base = kernels.heapBase();
  kernels.vexpMinus(base, base + 1024, 64);
} else {
  for (const [build, file] of Object.entries(BUILDS)) {
    const child = spawnSync(
      process.execPath,
      ['--no-liftoff', '--print-wasm-code', '--experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url), '--child', file],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (child.status !== 0) throw new Error(`${build}: ${child.stderr}`);
    const loop = vectorLoop(child.stdout);
    if (loop === undefined) {
      console.log(`${build}: no loop found (this V8 prints no code without a disassembler?)`);
      continue;
    }
    // One vector store per four exps; V8 may unroll the loop.
    const vectors = loop.filter((c) => /^v?mov(dqu|ups)$/.test(c.mnemonic) && c.operands.startsWith('[')).length;
    const counts = new Map();
    for (const { mnemonic } of loop) counts.set(mnemonic, (counts.get(mnemonic) ?? 0) + 1);
    const listing = [...counts].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${n / vectors} ${m}`).join(', ');
    const simd = loop.filter((c) => /^v/.test(c.mnemonic) && !/^v?mov/.test(c.mnemonic)).length / vectors;
    console.log(`${build} (${process.arch}): per vector of four exps, ${loop.length / vectors} instructions, ${simd} of them SIMD arithmetic\n  ${listing}\n`);
  }
}

/**
 * The instructions of the loop that holds the most packed-float arithmetic: the body of a
 * backward jump, from its target to the jump. Lines look like
 *   0x3e1f0a2c  4c  c5f059c8   vmulps xmm1,xmm1,xmm0
 */
function vectorLoop(text) {
  const code = [];
  for (const line of text.split('\n')) {
    const m = /^0x[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(?:REX\.W\s+)?(\S+)\s*(.*)$/.exec(line.trim());
    if (m) code.push({ offset: parseInt(m[1], 16), mnemonic: m[2], operands: m[3] });
  }
  let best;
  for (let i = 0; i < code.length; i++) {
    const target = /<\+0x([0-9a-f]+)>/.exec(code[i].operands);
    if (!code[i].mnemonic.startsWith('j') || !target) continue;
    const to = parseInt(target[1], 16);
    if (to >= code[i].offset) continue;
    const body = code.filter((c, k) => k <= i && c.offset >= to && c.offset <= code[i].offset);
    const packed = body.filter((c) => /^v?(mul|add|sub|fmadd|fnmadd)[0-9]*ps$/.test(c.mnemonic)).length;
    if (packed > 0 && (best === undefined || packed > best.packed)) best = { body, packed };
  }
  return best?.body;
}
