#!/usr/bin/env node
// A small static server for the browser demo (npm run demo:browser) and the page tests.
//
//   node scripts/serve.js [--port 8080] [--host 127.0.0.1] [--root DIR] [--not-isolated]
//
// Without --root it serves this repository's examples/, dist/, build/, data/, bench/ and
// onnxruntime-web's dist/ (and nothing else), so that examples/browser/ can import
// ../../dist/index.js, which finds ../build/*.wasm by URL, and the benchmark's plain-JavaScript
// contender, and examples/rank/ can load the model and ONNX Runtime.
// With --root it serves everything under DIR (a `vite build` output, say).
//
// Every response carries COOP/COEP, so pages are cross-origin isolated (SharedArrayBuffer, and
// so threads, need it), unless --not-isolated leaves those headers out (to see the fallback).
// .wasm is served as application/wasm (WebAssembly.compileStreaming needs it), and nothing is
// cached, so a rebuild shows on reload.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const COMMON = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/**
 * What the demo server serves of this repository: the pages, the package, the character model
 * of examples/rank/, the benchmark's plain-JavaScript contender, and onnxruntime-web's build
 * (examples/rank/ runs the model with it).
 */
const SERVED = ['examples', 'dist', 'build', 'data', 'bench', 'node_modules/onnxruntime-web/dist'];

/**
 * Starts the server. `only` limits it to these folders of `root`; `index` is where
 * `/` redirects to; `isolated: false` leaves out the COOP/COEP headers. Resolves once
 * listening, with the base URL and a close function.
 */
export function serve({ root = REPO, port = 8080, host = '127.0.0.1', only, index = '/', isolated = true } = {}) {
  const base = resolve(root);
  const HEADERS = isolated ? { ...ISOLATION, ...COMMON } : COMMON;
  const server = createServer(async (request, response) => {
    const send = (status, body, headers = {}) => {
      response.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    if (path === '/' && index !== '/') return send(302, '', { Location: index });
    const file = resolve(join(base, path));
    const inside = file.slice(base.length + 1).split(sep).join('/');
    const allowed = !only || only.some((folder) => inside === folder || inside.startsWith(`${folder}/`));
    if ((file !== base && !file.startsWith(base + sep)) || !allowed) return send(404, 'not found\n');
    let target = file;
    let info = await stat(target).catch(() => undefined);
    if (info?.isDirectory()) {
      if (!path.endsWith('/')) return send(301, '', { Location: `${path}/` });
      target = join(target, 'index.html');
      info = await stat(target).catch(() => undefined);
    }
    if (!info?.isFile()) return send(404, 'not found\n');
    response.writeHead(200, {
      ...HEADERS,
      'Content-Type': TYPES[extname(target)] ?? 'application/octet-stream',
      'Content-Length': info.size,
    });
    if (request.method === 'HEAD') return response.end();
    createReadStream(target).pipe(response);
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      resolveListen({ url, server, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--not-isolated') {
      options.isolated = false;
      continue;
    }
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--host') options.host = value;
    else if (flag === '--root') options.root = resolve(value);
    else {
      console.error(`serve.js: unknown argument ${flag}\nusage: node scripts/serve.js [--port 8080] [--host 127.0.0.1] [--root DIR] [--not-isolated]`);
      process.exit(2);
    }
    i += 1;
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536)) {
    console.error(`serve.js: --port must be an integer in [0, 65535], got ${argv[argv.indexOf('--port') + 1]}`);
    process.exit(2);
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  const repo = options.root === undefined;
  const { url } = await serve({
    ...options,
    ...(repo ? { only: SERVED, index: '/examples/browser/' } : {}),
  });
  // The first line is the address; the tests read it.
  console.log(repo ? `${url}/examples/browser/` : `${url}/`);
  const what = repo ? `xent browser demo: serving ${SERVED.map((f) => `${f}/`).join(', ')}` : `serving ${options.root}`;
  console.log(`${what}, ${options.isolated === false ? 'not ' : ''}cross-origin isolated (Ctrl-C stops)`);
}
