// `xent bench`: runs the benchmark suite of the source tree (bench/run.js) in a child
// process, the way `npm run bench` does, and passes its table and exit code through.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.js';

export const BENCH_USAGE = `usage: xent bench [arguments for bench/run.js]

Runs the benchmark suite (bench/run.js of the xent source tree) and prints its table.`;

export async function bench(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const runner = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
  if (!existsSync(runner)) {
    throw new InputError(runner, 'not found: the benchmark suite comes with the source repository, not with the npm package');
  }
  const child = spawn(process.execPath, [...nodeFlags(), runner, ...args], { cwd: root, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * The flags of `npm run bench`: --expose-gc, and relaxed SIMD where this Node has it only
 * behind a V8 flag (Node 20); a Node that no longer knows the flag ships the feature.
 */
function nodeFlags(): string[] {
  const relaxed = '--experimental-wasm-relaxed-simd';
  const v8 = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  return v8.stdout?.includes(relaxed.slice(2)) ? ['--expose-gc', relaxed] : ['--expose-gc'];
}
