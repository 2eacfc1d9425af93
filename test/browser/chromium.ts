// Where the browser tests find Chromium, and with which flags. Shared by vitest.config.ts (the
// browser project) and the Node tests that drive pages with playwright-core (test/browser/driven/,
// test/vite-app.test.ts), which also start scripts/serve.js through serveStatic. Node-side only.
//
// Chromium comes from Debian (`apt-get install chromium`, as .ci/run does); Playwright never
// downloads a browser here. The flags keep a headless, root-run Chromium quiet on a machine whose
// network is closed: no sandbox (root), no GPU, and none of the background connections that
// would otherwise be refused many at a time.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_PATH = process.env.XENT_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch options for playwright-core's chromium.launch and @vitest/browser-playwright. */
export const LAUNCH_OPTIONS = { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true };

/**
 * Whether the browser tests run: always when Chromium is there; when it is missing, only under CI
 * (where they must run, and so fail loudly), otherwise they are skipped with a notice.
 */
export function browserTestsRun(): boolean {
  return existsSync(CHROMIUM_PATH) || Boolean(process.env.CI);
}

/** The loud notice printed when the browser tests are skipped. */
export function skipNotice(what: string): string {
  const line = '!'.repeat(78);
  return [
    line,
    `!! SKIPPED: ${what}`,
    `!! ${CHROMIUM_PATH} was not found. Install Debian's chromium (apt-get install chromium, as`,
    `!! .ci/run does) or set XENT_CHROMIUM. With CI set, these tests run and fail instead.`,
    line,
  ].join('\n');
}

/**
 * Starts scripts/serve.js in a child process on a free port, with `args` (e.g. ['--root', dir]),
 * and resolves with the URL it prints first. `stop` ends that child.
 */
export function serveStatic(args: string[] = []): Promise<{ url: string; stop: () => void }> {
  const script = fileURLToPath(new URL('../../scripts/serve.js', import.meta.url));
  const child = spawn(process.execPath, [script, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ url: line.trim(), stop });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('exit', (code) => reject(new Error(`scripts/serve.js exited with ${code}: ${err}`)));
    child.once('error', reject);
  });
}
