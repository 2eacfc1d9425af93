// How the engine gets its module in a browser page: compileStreaming from a URL next to the
// code, never a synchronous compile on the main thread, and the `wasm` override.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { XentError, createEngine, type Engine } from '../../src/index.js';
import { reference } from './support.js';

// The same literal URLs as src/loader.ts, so that Vite serves them the same way.
const BASELINE_URL = new URL('../../build/xent.wasm', import.meta.url);
const RELAXED_URL = new URL('../../build/xent-relaxed.wasm', import.meta.url);

/** Counts synchronous compiles and instantiations (new WebAssembly.Module / Instance). */
function watchSyncCompiles(): { count: () => number; restore: () => void } {
  const { Module, Instance } = WebAssembly;
  let count = 0;
  const trap = <T extends object>(target: T) =>
    new Proxy(target, {
      construct(t, args, newTarget) {
        count += 1;
        return Reflect.construct(t as never, args, newTarget) as object;
      },
    });
  WebAssembly.Module = trap(Module);
  WebAssembly.Instance = trap(Instance);
  return {
    count: () => count,
    restore: () => {
      WebAssembly.Module = Module;
      WebAssembly.Instance = Instance;
    },
  };
}

/** One small cross-entropy with a gradient, to check that an engine computes. */
function smallCase(engine: Engine) {
  const logits = new Float32Array([1.5, -0.25, 3, 0.5, 2, -1, 0, 0.75, 4, -2, 1, 1]);
  const target = new Int32Array([2, 0, 3]);
  return { got: engine.crossEntropy(logits, target, { classes: 4, grad: true }), want: reference.crossEntropy(logits, target, { classes: 4, grad: true }) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loading the module in Chromium', () => {
  // This test runs first in the file's page, before anything has compiled a shipped build.
  it("createEngine() streams the relaxed build from build/ next to the code, with no synchronous compile", async () => {
    const streaming = vi.spyOn(WebAssembly, 'compileStreaming');
    const sync = watchSyncCompiles();
    let engine: Engine;
    try {
      engine = await createEngine();
    } finally {
      sync.restore();
    }
    expect(WebAssembly.validate(new Uint8Array(await (await fetch(RELAXED_URL)).arrayBuffer())), 'Chromium validates relaxed SIMD').toBe(true);
    expect(engine.features).toEqual({ simd: 'relaxed', threads: 1, sharedMemory: false });
    expect(streaming).toHaveBeenCalledTimes(1);
    const response = (await streaming.mock.calls[0]![0]) as Response;
    expect(new URL(response.url).pathname).toMatch(/\/build\/xent-relaxed\.wasm$/);
    expect(response.headers.get('content-type')).toBe('application/wasm');
    expect(sync.count(), 'new WebAssembly.Module / Instance calls').toBe(0);
    const { got, want } = smallCase(engine);
    expect(got.loss).toBeCloseTo(want.loss, 5);
    engine.dispose();
  });

  it("simd: 'baseline' streams the baseline build", async () => {
    const streaming = vi.spyOn(WebAssembly, 'compileStreaming');
    const engine = await createEngine({ simd: 'baseline' });
    expect(engine.features.simd).toBe('baseline');
    expect(streaming).toHaveBeenCalledTimes(1);
    expect(new URL(((await streaming.mock.calls[0]![0]) as Response).url).pathname).toMatch(/\/build\/xent\.wasm$/);
    engine.dispose();
  });

  it('a build is compiled once per page, however many engines use it', async () => {
    const streaming = vi.spyOn(WebAssembly, 'compileStreaming');
    const engines = await Promise.all([createEngine(), createEngine(), createEngine({ simd: 'relaxed' })]);
    expect(streaming).not.toHaveBeenCalled();
    for (const e of engines) e.dispose();
  });

  describe('the wasm option overrides where the module comes from', () => {
    const sources: Array<[string, () => Promise<string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module>]> = [
      ['a URL', async () => BASELINE_URL],
      ['a URL string', async () => BASELINE_URL.href],
      ['a path relative to the page', async () => BASELINE_URL.pathname],
      ['an ArrayBuffer', async () => (await fetch(BASELINE_URL)).arrayBuffer()],
      ['a Uint8Array', async () => new Uint8Array(await (await fetch(BASELINE_URL)).arrayBuffer())],
      ['a WebAssembly.Module', async () => WebAssembly.compileStreaming(fetch(BASELINE_URL))],
    ];
    it.each(sources)('%s', async (_, source) => {
      const wasm = await source();
      const streaming = vi.spyOn(WebAssembly, 'compileStreaming');
      const sync = watchSyncCompiles();
      let engine: Engine;
      try {
        engine = await createEngine({ wasm });
      } finally {
        sync.restore();
      }
      expect(engine.features.simd).toBe('baseline');
      expect(sync.count(), 'synchronous compiles').toBe(0);
      // Anything fetched is compiled while it streams in.
      expect(streaming).toHaveBeenCalledTimes(typeof wasm === 'string' || wasm instanceof URL ? 1 : 0);
      const { got, want } = smallCase(engine);
      expect(got.loss).toBeCloseTo(want.loss, 5);
      engine.dispose();
    });

    it('relaxed: the relaxed build given as bytes reports relaxed', async () => {
      const engine = await createEngine({ wasm: new Uint8Array(await (await fetch(RELAXED_URL)).arrayBuffer()) });
      expect(engine.features.simd).toBe('relaxed');
      engine.dispose();
    });

    it("simd: 'relaxed' with the baseline build given is BAD_OPTION", async () => {
      await expect(createEngine({ simd: 'relaxed', wasm: BASELINE_URL })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    });

    it('a wasm option of the wrong type is BAD_OPTION, naming the value', async () => {
      const error = await createEngine({ wasm: 42 as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XentError);
      expect(error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining('got 42') });
    });

    it('a URL that does not serve a module rejects', async () => {
      await expect(createEngine({ wasm: new URL('/no-such-file.wasm', location.href) })).rejects.toThrow();
    });
  });
});
