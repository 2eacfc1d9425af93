import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { LAUNCH_OPTIONS, browserTestsRun, skipNotice } from './test/browser/chromium.js';

// Two projects: the Node suite, and the browser suite in real headless Chromium. Without
// Chromium the browser project is left out with a loud notice, unless CI is set: then it runs,
// and fails, because CI must not pass without the browser tests.

const node: TestProjectInlineConfiguration = {
  test: {
    name: 'node',
    // test/browser/driven: Node tests that drive Chromium through Playwright (pages, threads).
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/browser/*.test.ts'],
    // Node 20 compiles relaxed SIMD only behind this flag; the tests run both builds.
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
};

const browser: TestProjectInlineConfiguration = {
  test: {
    name: 'browser',
    include: ['test/browser/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: LAUNCH_OPTIONS }),
      instances: [{ browser: 'chromium' }],
      screenshotFailures: false,
    },
  },
};

const withBrowser = browserTestsRun();
if (!withBrowser) console.warn(`\n${skipNotice('the browser project (test/browser/**) of vitest.config.ts')}\n`);

export default defineConfig({
  test: {
    projects: withBrowser ? [node, browser] : [node],
  },
});
