// Finds, compiles and caches the WebAssembly module, in Node and in browsers. The .wasm
// files sit in build/, next to dist/ and src/, so one relative URL serves both.

import { XentError } from './errors.js';
import { describe } from './options.js';

export type SimdLevel = 'relaxed' | 'baseline';
export type WasmSource = string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module;

const builds = new Map<string, Promise<WebAssembly.Module>>();

/** The shipped build for a SIMD level and memory kind, compiled once per process (or page). */
export function shippedModule(level: SimdLevel, shared = false): Promise<WebAssembly.Module> {
  const key = `${level}${shared ? ' shared' : ''}`;
  let module = builds.get(key);
  if (module === undefined) {
    module = compile(buildUrl(level, shared));
    builds.set(key, module);
  }
  return module;
}

/**
 * Where a shipped build lives. Each URL is written out as a literal `new URL('...', import.meta.url)`,
 * the form that bundlers (Vite, webpack 5, Parcel) recognise statically: they emit the .wasm as an
 * asset and rewrite the URL to it. From a template string Vite would instead emit every file of
 * build/ (the 350 kB .wat text included), and other bundlers may emit nothing.
 * The shared builds import a shared memory, for engines with worker threads.
 */
function buildUrl(level: SimdLevel, shared: boolean): URL {
  if (shared) {
    return level === 'relaxed'
      ? new URL('../build/xent-relaxed-shared.wasm', import.meta.url)
      : new URL('../build/xent-shared.wasm', import.meta.url);
  }
  return level === 'relaxed'
    ? new URL('../build/xent-relaxed.wasm', import.meta.url)
    : new URL('../build/xent.wasm', import.meta.url);
}

/** Compiles a module from anything createEngine's `wasm` option accepts. */
export async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source !== 'string' && !(source instanceof URL) && !(source instanceof ArrayBuffer) && !(source instanceof Uint8Array)) {
    throw new XentError('BAD_OPTION', `createEngine: wasm must be a URL, path, bytes or WebAssembly.Module, got ${describe(source)}`);
  }
  const name = typeof source === 'string' || source instanceof URL ? String(source) : 'the bytes given';
  try {
    const bytes = await bytesOf(source);
    return await (bytes instanceof Response ? WebAssembly.compileStreaming(bytes) : WebAssembly.compile(bytes));
  } catch (error) {
    if (error instanceof XentError) throw error;
    throw new XentError('BAD_OPTION', `createEngine: cannot load the wasm module from ${name} (${(error as Error).message}); ` +
      "pass one of xent's builds (build/xent*.wasm of this version of the package)");
  }
}

/**
 * The bytes of a module: given, read from a file (Node; a plain path is taken literally), or
 * fetched: then the response itself where it can be compiled while it streams in.
 */
async function bytesOf(source: string | URL | ArrayBuffer | Uint8Array): Promise<BufferSource | Response> {
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return source as Uint8Array<ArrayBuffer>;
  const path = isNode() && typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source);
  if (path || (isNode() && source instanceof URL && source.protocol === 'file:')) {
    const fsModule = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
    // A path is read as written: '%41', '#' and '?' are characters of it, not URL syntax.
    return fs.readFile(source);
  }
  const url = source instanceof URL ? source : new URL(source, globalThis.location?.href);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: ${response.status} ${response.statusText}`);
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type') === 'application/wasm') return response;
  return response.arrayBuffer();
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}
