// Runs the `xent` command line as a child process (node bin/xent.js, after npm run build).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function xent(args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [join(cwd, 'bin', 'xent.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
