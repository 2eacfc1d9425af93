// One place owns linear memory: the Arena hands out 16-byte aligned blocks of the module's
// WebAssembly.Memory, grows it up to a cap, and makes the typed-array views over it. Views
// are re-made from the current buffer every time, because growth detaches the old one.

import { XentError } from './errors.js';
import type { WorkerPool } from './threads/pool.js';

/** Bytes in a page of WebAssembly memory. */
export const PAGE = 65536;
/** Bytes of the block kept for small calls (Arena.smallCallBlock). */
export const SMALL_BLOCK_BYTES = 16 << 10;
/** Every block's alignment: a v128 load's natural one. */
const ALIGN = 16;

interface Block {
  start: number;
  end: number;
}

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  /** Free blocks below `top`, sorted by address, never adjacent (they are merged). */
  private readonly freeBlocks: Block[] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;
  /** The worker threads that share this memory, if the engine has any. */
  workers: WorkerPool | undefined;
  /** Set by engine.dispose(), which a call in progress may run into (from an option getter). */
  disposed = false;

  constructor(memory: WebAssembly.Memory, base: number, maxBytes: number) {
    this.memory = memory;
    this.#buffer = memory.buffer;
    this.maxBytes = maxBytes;
    this.top = align(base);
  }

  /** Bytes in use by live blocks. */
  get usedBytes(): number {
    let used = 0;
    for (const size of this.sizes.values()) used += size;
    return used;
  }

  /** Largest block that alloc could still return. */
  get largestFree(): number {
    let largest = Math.max(0, this.maxBytes - this.top);
    for (const b of this.freeBlocks) largest = Math.max(largest, b.end - b.start);
    return largest;
  }

  /**
   * A block of at least `bytes`, 16-byte aligned; throws OUT_OF_MEMORY past maxMemoryBytes,
   * naming `what` the block was for.
   */
  alloc(bytes: number, what: string | (() => string)): number {
    const size = align(Math.max(bytes, ALIGN));
    const index = this.freeBlocks.findIndex((b) => b.end - b.start >= size);
    let ptr: number;
    if (index >= 0) {
      const block = this.freeBlocks[index]!;
      ptr = block.start;
      block.start += size;
      if (block.start === block.end) this.freeBlocks.splice(index, 1);
    } else {
      ptr = this.top;
      this.reserve(ptr + size, what);
      this.top = ptr + size;
    }
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    const block = { start: ptr, end: ptr + size };
    let i = this.freeBlocks.findIndex((b) => b.start > ptr);
    if (i < 0) i = this.freeBlocks.length;
    this.freeBlocks.splice(i, 0, block);
    this.mergeAround(i);
  }

  /**
   * memory.buffer, kept: its getter costs more than a small call's copies, and the buffer
   * changes only when this arena grows the memory (no kernel grows it).
   */
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }

  #buffer: ArrayBuffer;

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.#buffer, ptr, length);
  }

  /**
   * All of memory as f32 and i32, indexed by byte offset / 4: small copies go through these
   * element by element rather than through a new view each (a view costs more than copying
   * a few hundred values). Re-made when growth has replaced the buffer.
   */
  get words(): { f32: Float32Array; i32: Int32Array } {
    const buffer = this.#buffer;
    if (this.#words?.f32.buffer !== buffer) this.#words = { f32: new Float32Array(buffer), i32: new Int32Array(buffer) };
    return this.#words;
  }

  #words: { f32: Float32Array; i32: Int32Array } | undefined;

  /**
   * A block of SMALL_BLOCK_BYTES kept for small calls (runner.ts) and the checks of targets
   * (ops/targets.ts): calls run one at a time, and keeping it saves an alloc and a release per
   * call. Made with the arena, so that using it never grows the memory, which would detach the
   * views of engine memory that a call was given.
   */
  smallCallBlock(): number {
    this.#small ??= this.alloc(SMALL_BLOCK_BYTES, 'small calls');
    return this.#small;
  }

  #small: number | undefined;

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.#buffer, ptr, length);
  }

  private reserve(end: number, what: string | (() => string)): void {
    if (end > this.maxBytes) {
      throw new XentError(
        'OUT_OF_MEMORY',
        `${typeof what === 'string' ? what : what()} needs ${end - this.top} more bytes of engine memory, ` +
          `but only ${Math.max(0, this.maxBytes - this.top)} of maxMemoryBytes (${this.maxBytes}) are left`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      this.memory.grow(Math.ceil((end - have) / PAGE));
      this.#buffer = this.memory.buffer;
    }
  }

  private mergeAround(i: number): void {
    const blocks = this.freeBlocks;
    if (i + 1 < blocks.length && blocks[i]!.end === blocks[i + 1]!.start) {
      blocks[i]!.end = blocks[i + 1]!.end;
      blocks.splice(i + 1, 1);
    }
    if (i > 0 && blocks[i - 1]!.end === blocks[i]!.start) {
      blocks[i - 1]!.end = blocks[i]!.end;
      blocks.splice(i, 1);
      i -= 1;
    }
    // A free block that reaches the top gives its space back to the top.
    const last = blocks[blocks.length - 1];
    if (last && last.end === this.top) {
      this.top = last.start;
      blocks.pop();
    }
  }
}

/** n rounded up to ALIGN; by division, not `& ~15`, which wraps past 2 GiB. */
export function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The engine as its tensors see it. */
export interface Owner {
  readonly arena: Arena;
  readonly disposed: boolean;
}

/** A rows x cols f32 matrix living in engine memory: passing it to an op copies nothing. */
export class Tensor {
  readonly rows: number;
  readonly cols: number;
  /** @internal the engine that owns the memory */
  readonly owner: Owner;
  #ptr: number;
  #view: Float32Array | undefined;

  /** @internal use engine.tensor(rows, cols) */
  constructor(owner: Owner, rows: number, cols: number) {
    this.owner = owner;
    this.rows = rows;
    this.cols = cols;
    this.#ptr = owner.arena.alloc(rows * cols * 4, `tensor(${rows}, ${cols})`);
  }

  /** @internal byte offset of element 0 in engine memory */
  get ptr(): number {
    this.assertUsable();
    return this.#ptr;
  }

  /** The values, row-major; a fresh view whenever memory has grown since the last one. */
  get data(): Float32Array {
    this.assertUsable();
    const buffer = this.owner.arena.buffer;
    if (this.#view === undefined || this.#view.buffer !== buffer) {
      this.#view = new Float32Array(buffer, this.#ptr, this.rows * this.cols);
    }
    return this.#view;
  }

  /** Gives the memory back to the engine; any later use throws XentError 'FREED'. Idempotent. */
  free(): void {
    if (this.#ptr < 0 || this.owner.disposed) return;
    this.owner.arena.release(this.#ptr);
    this.#ptr = -1;
    this.#view = undefined;
  }

  private assertUsable(): void {
    if (this.owner.disposed) {
      throw new XentError('DISPOSED', 'the engine that made this tensor was disposed');
    }
    if (this.#ptr < 0) {
      throw new XentError('FREED', `this tensor(${this.rows}, ${this.cols}) was freed; make a new one with engine.tensor`);
    }
  }
}
