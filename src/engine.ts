// createEngine: loads the module, owns its memory, and exposes the operations of docs/API.md.

import { XentError } from './errors.js';
import type { Kernels } from './kernels.js';
import { compile, isNode, shippedModule, type SimdLevel, type WasmSource } from './loader.js';
import { Arena, PAGE, Tensor } from './memory.js';
import { checkOptionKeys, describe, integerOption, numberOption } from './options.js';
import { crossEntropy } from './ops/cross-entropy.js';
import { fromTensorLike, type EngineContext, type Logits, type TensorLike } from './ops/logits.js';
import { logSoftmax, logSumExp, softmax } from './ops/softmax.js';
import { DEFAULT_MAX_MEMORY_BYTES, INITIAL_MEMORY_BYTES, MAX_AUTO_THREADS, MAX_THREADS } from './tuning.js';
import { WorkerPool } from './threads/pool.js';
import type {
  ClassesOption, CrossEntropyOptions, CrossEntropyResult, DtypeOption, SoftmaxOptions,
} from './types.js';
import { binaryCrossEntropy } from './ops/bce.js';
import { evaluate } from './ops/evaluate.js';
import { Evaluator } from './ops/evaluator.js';
import { sigmoidFocalLoss } from './ops/focal.js';
import { klDivergence } from './ops/kl.js';
import type {
  BinaryCrossEntropyOptions, EvaluateExtrasOf, EvaluatorOptions, EvaluateOptions, EvaluateResult, GradOf, KlDivergenceOptions, LossResult,
  SigmoidFocalLossOptions,
} from './types.js';

import { logProbs } from './ops/log-probs.js';
import { crossEntropyShard, crossEntropyShardGrad } from './ops/shards.js';
import type {
  CrossEntropyShardGradOptions, CrossEntropyShardOptions, CrossEntropyShardPart, LogProbsOptions, LogProbsResult,
} from './types.js';
import { linearCrossEntropy } from './ops/linear.js';
import type { LinearCrossEntropyOptions, LinearCrossEntropyResult } from './types.js';

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


export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const op = 'createEngine';
  checkOptionKeys(op, options, ['threads', 'simd', 'maxMemoryBytes', 'wasm']);
  const simd = options.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'relaxed' && simd !== 'baseline') {
    throw new XentError('BAD_OPTION', `${op}: simd must be 'auto', 'relaxed' or 'baseline', got ${describe(simd)}`);
  }
  const threads = options.threads === 'auto' ? await availableCores() : integerOption(op, 'threads', options.threads, 1);
  if (threads < 1 || threads > MAX_THREADS) {
    throw new XentError('BAD_OPTION', `${op}: threads must be 'auto' or an integer in [1, ${MAX_THREADS}], got ${threads}`);
  }
  const maxMemoryBytes = numberOption(op, 'maxMemoryBytes', options.maxMemoryBytes, DEFAULT_MAX_MEMORY_BYTES, {
    min: 2 * INITIAL_MEMORY_BYTES,
    max: 4 * 1024 ** 3 - PAGE,
  });

  // Worker threads need a shared memory, and so a build that imports one. Without
  // SharedArrayBuffer (a page that is not cross-origin isolated) the engine has one thread.
  const shared = threads > 1 && sharedMemoryAvailable();
  const module = await chooseModule(simd, options.wasm, shared);
  const maxPages = Math.floor(maxMemoryBytes / PAGE);
  const memory = new WebAssembly.Memory({ initial: INITIAL_MEMORY_BYTES / PAGE, maximum: maxPages, shared });
  const instance = await instantiate(module, memory, shared);
  const kernels = instance.exports as unknown as Kernels;
  const level: SimdLevel = kernels.simdLevel() === 1 ? 'relaxed' : 'baseline';
  if (simd === 'relaxed' && level !== 'relaxed') {
    throw new XentError('BAD_OPTION', `${op}: simd 'relaxed' was asked for, but the wasm module given is the baseline build`);
  }
  const arena = new Arena(memory, kernels.heapBase(), maxPages * PAGE);
  arena.smallCallBlock(); // before any call: see its comment
  if (shared) arena.workers = await WorkerPool.start(module, instance.exports, arena, threads - 1);
  return new Engine(kernels, arena, level, shared);
}

/** The module over the engine's memory; a module that is not one of xent's builds is refused. */
async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory, shared: boolean): Promise<WebAssembly.Instance> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (error) {
    const which = shared ? 'a shared-memory build (build/xent-shared.wasm or xent-relaxed-shared.wasm), as threads > 1 needs'
      : 'a build with a private memory (build/xent.wasm or xent-relaxed.wasm), as threads: 1 needs';
    throw new XentError('BAD_OPTION', `createEngine: the wasm module given does not link (${(error as Error).message}); pass ${which}`);
  }
  const missing = ['heapBase', 'simdLevel', 'crossEntropy', 'evaluate'].filter((name) => typeof instance.exports[name] !== 'function');
  if (missing.length > 0) {
    throw new XentError('BAD_OPTION', `createEngine: the wasm module given is not a build of this version of xent (it lacks ${missing.join(', ')})`);
  }
  return instance;
}

/** Cores the engine may use for threads: 'auto'. */
async function availableCores(): Promise<number> {
  let cores = globalThis.navigator?.hardwareConcurrency;
  if (cores === undefined && isNode()) {
    const osModule = 'node:os';
    const os = (await import(/* @vite-ignore */ osModule)) as typeof import('node:os');
    cores = os.availableParallelism();
  }
  return Math.max(1, Math.min(cores ?? 1, MAX_AUTO_THREADS));
}

function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && (isNode() || globalThis.crossOriginIsolated === true);
}

async function chooseModule(
  simd: 'auto' | 'relaxed' | 'baseline',
  wasm: WasmSource | undefined,
  shared: boolean,
): Promise<WebAssembly.Module> {
  if (wasm !== undefined) return compile(wasm);
  if (simd === 'baseline') return shippedModule('baseline', shared);
  try {
    return await shippedModule('relaxed', shared);
  } catch (error) {
    if (simd === 'relaxed') {
      throw new XentError(
        'BAD_OPTION',
        `createEngine: this runtime cannot compile relaxed SIMD (${(error as Error).message}); ` +
          "use simd: 'auto' or 'baseline' (Node 20 needs --experimental-wasm-relaxed-simd)",
      );
    }
    return shippedModule('baseline', shared);
  }
}

/** Logits as the operations take them: f32 arrays, tensors, 16-bit bits, tensor-likes. */
type Input = Logits | Uint16Array | TensorLike;

/** What each operation's logits may be, besides its own: see fromTensorLike. */
const HALVES = { halves: true, sequences: false };
const F32_ONLY = { halves: false, sequences: false };
const SEQUENCES = { halves: true, sequences: true };

// The Owner (memory.ts) of its tensors, structurally: an `implements Owner` would leave the
// published .d.ts requiring the arena, which stripInternal takes out of it (an error for users
// who check library types, skipLibCheck: false).
export class Engine {
  /** @internal the module's exports */
  readonly kernels: Kernels;
  readonly #simd: SimdLevel;
  readonly #shared: boolean;
  #arena: Arena | undefined;
  #busy = false;

  /** @internal use createEngine */
  constructor(kernels: Kernels, arena: Arena, simd: SimdLevel, shared: boolean) {
    this.kernels = kernels;
    this.#arena = arena;
    this.#simd = simd;
    this.#shared = shared;
  }

  /** What runs: the SIMD build, the threads (1 once a worker has failed), shared memory. */
  get features(): Readonly<Features> {
    return Object.freeze({
      simd: this.#simd,
      threads: 1 + (this.#arena?.workers?.size ?? 0),
      sharedMemory: this.#shared,
    });
  }

  get disposed(): boolean {
    return this.#arena === undefined;
  }

  /** @internal the memory of a live engine */
  get arena(): Arena {
    this.#refuseDisposed();
    return this.#arena!;
  }

  #refuseDisposed(): void {
    if (this.#arena === undefined) {
      throw new XentError('DISPOSED', 'this engine was disposed; create a new one with createEngine');
    }
  }

  /** A rows x cols f32 matrix in engine memory; ops read and write it without copies. */
  tensor(rows: number, cols: number): Tensor {
    this.#refuseDisposed();
    for (const [name, n] of [['rows', rows], ['cols', cols]] as const) {
      if (!Number.isInteger(n) || n < (name === 'rows' ? 0 : 1)) {
        throw new XentError('SHAPE_MISMATCH', `tensor: ${name} must be an integer >= ${name === 'rows' ? 0 : 1}, got ${describe(n)}`);
      }
    }
    return new Tensor(this, rows, cols);
  }

  logSumExp(logits: Input, options?: ClassesOption & DtypeOption): Float32Array {
    return this.#call((ctx) => logSumExp(ctx, ...fromTensorLike('logSumExp', logits, options, HALVES)));
  }

  softmax(logits: Input, options?: SoftmaxOptions<Float32Array | Tensor>): Float32Array {
    return this.#call((ctx) => softmax(ctx, ...fromTensorLike('softmax', logits, options, HALVES)));
  }

  logSoftmax(logits: Input, options?: SoftmaxOptions<Float32Array | Tensor>): Float32Array {
    return this.#call((ctx) => logSoftmax(ctx, ...fromTensorLike('logSoftmax', logits, options, HALVES)));
  }

  crossEntropy<const O extends CrossEntropyOptions = {}>(
    logits: Input,
    target: Int32Array | number[] | Float32Array,
    options?: O,
  ): CrossEntropyResult & GradOf<O> {
    const [x, o] = fromTensorLike('crossEntropy', logits, options, HALVES);
    return this.#call((ctx) => crossEntropy(ctx, x, target, o)) as CrossEntropyResult & GradOf<O>;
  }

  binaryCrossEntropy<const O extends BinaryCrossEntropyOptions = {}>(
    logits: Logits | TensorLike,
    target: Float32Array,
    options?: O,
  ): LossResult & GradOf<O> {
    const [x, o] = fromTensorLike('binaryCrossEntropy', logits, options, F32_ONLY);
    return this.#call((ctx) => binaryCrossEntropy(ctx, x as Logits, target, o)) as LossResult & GradOf<O>;
  }

  sigmoidFocalLoss<const O extends SigmoidFocalLossOptions = {}>(
    logits: Logits | TensorLike,
    target: Float32Array,
    options?: O,
  ): LossResult & GradOf<O> {
    const [x, o] = fromTensorLike('sigmoidFocalLoss', logits, options, F32_ONLY);
    return this.#call((ctx) => sigmoidFocalLoss(ctx, x as Logits, target, o)) as LossResult & GradOf<O>;
  }

  klDivergence<const O extends KlDivergenceOptions = {}>(
    studentLogits: Logits | TensorLike,
    teacherLogits: Logits | TensorLike,
    options?: O,
  ): LossResult & GradOf<O> {
    const [student, o] = fromTensorLike('klDivergence', studentLogits, options, { ...F32_ONLY, what: 'studentLogits' });
    const [teacher] = fromTensorLike('klDivergence', teacherLogits, o, { ...F32_ONLY, what: 'teacherLogits' });
    return this.#call((ctx) => klDivergence(ctx, student as Logits, teacher as Logits, o)) as LossResult & GradOf<O>;
  }

  evaluate<const O extends EvaluateOptions = {}>(
    logits: Input,
    target: Int32Array | number[],
    options?: O,
  ): EvaluateResult & EvaluateExtrasOf<O> {
    const [x, o] = fromTensorLike('evaluate', logits, options, SEQUENCES);
    return this.#call((ctx) => evaluate(ctx, x, target, o)) as EvaluateResult & EvaluateExtrasOf<O>;
  }

  logProbs(logits: Input, ids: Int32Array | number[], options?: LogProbsOptions): LogProbsResult {
    const [x, o] = fromTensorLike('logProbs', logits, options, HALVES);
    return this.#call((ctx) => logProbs(ctx, x, ids, o));
  }

  /** One shard's per-row partial results, for mergeCrossEntropyShards. */
  crossEntropyShard(logits: Input, target: Int32Array | number[], options: CrossEntropyShardOptions): CrossEntropyShardPart {
    const [x, o] = fromTensorLike('crossEntropyShard', logits, options, HALVES);
    return this.#call((ctx) => crossEntropyShard(ctx, x, target, o!));
  }

  /** The gradient of the merged loss with respect to one shard's logits. */
  crossEntropyShardGrad(
    logits: Input,
    target: Int32Array | number[],
    options: CrossEntropyShardGradOptions,
  ): { grad: Float32Array } {
    const [x, o] = fromTensorLike('crossEntropyShardGrad', logits, options, HALVES);
    return this.#call((ctx) => crossEntropyShardGrad(ctx, x, target, o!));
  }

  /**
   * crossEntropy on the logits hidden @ head^T + bias without materialising them: hidden is
   * rows x dim, head classes x dim (as nn.Linear.weight), both row-major.
   */
  linearCrossEntropy(
    hidden: Logits | TensorLike,
    head: Logits | Uint16Array,
    target: Int32Array | number[],
    options: LinearCrossEntropyOptions,
  ): LinearCrossEntropyResult {
    return this.#call((ctx) => linearCrossEntropy(ctx, hidden, head, target, options));
  }

  /** A streaming evaluation over any number of batches: see Evaluator. */
  evaluator(options?: EvaluatorOptions): Evaluator {
    this.#refuseDisposed();
    return new Evaluator((fn) => this.#call(fn), options);
  }

  /** Frees engine memory; every later call throws XentError 'DISPOSED'. Idempotent. */
  dispose(): void {
    if (this.#arena !== undefined) this.#arena.disposed = true;
    this.#arena?.workers?.dispose();
    this.#arena = undefined;
  }

  /**
   * Runs one operation. A call made while another runs (from an option getter, or an array
   * subclass's method) is refused; so is one on an engine disposed meanwhile (runRows checks).
   */
  #call<T>(operation: (ctx: EngineContext) => T): T {
    const ctx = { arena: this.arena, kernels: this.kernels };
    if (this.#busy) {
      throw new XentError('BAD_OPTION', 'this engine is already running an operation: a call from inside another (an option getter, an array method) is refused');
    }
    this.#busy = true;
    try {
      return operation(ctx);
    } finally {
      this.#busy = false;
    }
  }
}
