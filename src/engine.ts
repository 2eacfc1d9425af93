// createEngine: loads the module, owns its memory, and exposes the operations of API.md.

import { XentError } from './errors.js';
import type { Kernels } from './kernels.js';
import { compile, shippedModule, type SimdLevel, type WasmSource } from './loader.js';
import { Arena, Tensor, type Owner } from './memory.js';
import { checkOptionKeys, describe, integerOption, numberOption } from './options.js';
import { crossEntropy } from './ops/cross-entropy.js';
import type { Logits } from './ops/logits.js';
import { logSoftmax, logSumExp, softmax } from './ops/softmax.js';
import { DEFAULT_MAX_MEMORY_BYTES, INITIAL_MEMORY_BYTES } from './tuning.js';
import type {
  ClassesOption, CrossEntropyOptions, CrossEntropyResult, SoftmaxOptions,
} from './types.js';

export interface EngineOptions {
  threads?: number | 'auto';
  simd?: 'auto' | 'relaxed' | 'baseline';
  maxMemoryBytes?: number;
  wasm?: WasmSource;
}

export interface Features {
  simd: SimdLevel;
  threads: number;
  sharedMemory: boolean;
}

const PAGE = 65536;

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const op = 'createEngine';
  checkOptionKeys(op, options, ['threads', 'simd', 'maxMemoryBytes', 'wasm']);
  const simd = options.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'relaxed' && simd !== 'baseline') {
    throw new XentError('BAD_OPTION', `${op}: simd must be 'auto', 'relaxed' or 'baseline', got ${describe(simd)}`);
  }
  if (options.threads !== undefined && options.threads !== 'auto') integerOption(op, 'threads', options.threads, 1);
  if (typeof options.threads === 'number' && options.threads < 1) {
    throw new XentError('BAD_OPTION', `${op}: threads must be 'auto' or an integer >= 1, got ${options.threads}`);
  }
  const maxMemoryBytes = numberOption(op, 'maxMemoryBytes', options.maxMemoryBytes, DEFAULT_MAX_MEMORY_BYTES, {
    min: 2 * INITIAL_MEMORY_BYTES,
    max: 4 * 1024 ** 3 - PAGE,
  });

  const module = await chooseModule(simd, options.wasm);
  const maxPages = Math.floor(maxMemoryBytes / PAGE);
  const memory = new WebAssembly.Memory({ initial: INITIAL_MEMORY_BYTES / PAGE, maximum: maxPages });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const level: SimdLevel = kernels.simdLevel() === 1 ? 'relaxed' : 'baseline';
  if (simd === 'relaxed' && level !== 'relaxed') {
    throw new XentError('BAD_OPTION', `${op}: simd 'relaxed' was asked for, but the wasm module given is the baseline build`);
  }
  return new Engine(kernels, new Arena(memory, kernels.heapBase(), maxPages * PAGE), { simd: level, threads: 1, sharedMemory: false });
}

async function chooseModule(simd: 'auto' | 'relaxed' | 'baseline', wasm: WasmSource | undefined): Promise<WebAssembly.Module> {
  if (wasm !== undefined) return compile(wasm);
  if (simd === 'baseline') return shippedModule('baseline');
  try {
    return await shippedModule('relaxed');
  } catch (error) {
    if (simd === 'relaxed') {
      throw new XentError(
        'BAD_OPTION',
        `createEngine: this runtime cannot compile relaxed SIMD (${(error as Error).message}); ` +
          "use simd: 'auto' or 'baseline' (Node 20 needs --experimental-wasm-relaxed-simd)",
      );
    }
    return shippedModule('baseline');
  }
}

export class Engine implements Owner {
  readonly features: Readonly<Features>;
  readonly kernels: Kernels;
  #arena: Arena | undefined;

  /** @internal use createEngine */
  constructor(kernels: Kernels, arena: Arena, features: Features) {
    this.kernels = kernels;
    this.#arena = arena;
    this.features = Object.freeze(features);
  }

  get disposed(): boolean {
    return this.#arena === undefined;
  }

  /** @internal the memory of a live engine */
  get arena(): Arena {
    if (this.#arena === undefined) {
      throw new XentError('DISPOSED', 'this engine was disposed; create a new one with createEngine');
    }
    return this.#arena;
  }

  /** A rows x cols f32 matrix in engine memory; ops read and write it without copies. */
  tensor(rows: number, cols: number): Tensor {
    const arena = this.arena;
    for (const [name, n] of [['rows', rows], ['cols', cols]] as const) {
      if (!Number.isInteger(n) || n < (name === 'rows' ? 0 : 1)) {
        throw new XentError('SHAPE_MISMATCH', `tensor: ${name} must be an integer >= ${name === 'rows' ? 0 : 1}, got ${describe(n)}`);
      }
    }
    void arena;
    return new Tensor(this, rows, cols);
  }

  logSumExp(logits: Logits, options?: ClassesOption): Float32Array {
    return logSumExp(this.context(), logits, options);
  }

  softmax(logits: Logits, options?: SoftmaxOptions<Float32Array | Tensor>): Float32Array {
    return softmax(this.context(), logits, options);
  }

  logSoftmax(logits: Logits, options?: SoftmaxOptions<Float32Array | Tensor>): Float32Array {
    return logSoftmax(this.context(), logits, options);
  }

  crossEntropy(logits: Logits, target: Int32Array | number[] | Float32Array, options?: CrossEntropyOptions): CrossEntropyResult {
    return crossEntropy(this.context(), logits, target, options);
  }

  /** Frees engine memory; every later call throws XentError 'DISPOSED'. Idempotent. */
  dispose(): void {
    this.#arena = undefined;
  }

  private context() {
    return { arena: this.arena, kernels: this.kernels };
  }
}
