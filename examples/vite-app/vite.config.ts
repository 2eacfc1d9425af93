// examples/vite-app: xent in a Vite app. Inside this repository `xent` resolves to the package
// itself (Node's package self-reference, through the "exports" of ../../package.json, so this
// folder has no package.json of its own); in your app, `npm install xent` does the same.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: {
    // Top-level await in main.ts.
    target: 'es2022',
  },
  optimizeDeps: {
    // The dev server pre-bundles dependencies into node_modules/.vite/deps/, which moves
    // import.meta.url away from xent's build/*.wasm; excluded, xent is served from where it
    // is. `vite build` needs no such setting.
    exclude: ['xent'],
  },
});
