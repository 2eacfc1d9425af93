// Reading tensors out of files a chunk at a time: open, read exact byte ranges at offsets,
// and what both formats share (dtype names, shape arithmetic). Nothing here reads a whole
// file; the largest read is one chunk of rows.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';

/** Where one tensor's values are in a file, and what they are. */
export interface TensorInfo {
  /** The path as the user wrote it, for messages. */
  file: string;
  /** The tensor's name inside a .safetensors file; undefined for .npy. */
  name?: string;
  /** NumPy's name for the element type: 'float32', 'float16', 'bfloat16', 'int64', ... */
  dtype: string;
  shape: number[];
  /** Absolute position of element 0 in the file. */
  byteOffset: number;
  byteLength: number;
}

/** 'file.npy' or 'file.safetensors (tensor logits)': how messages name a tensor. */
export function label(info: TensorInfo): string {
  return info.name === undefined ? info.file : `${info.file} (tensor '${info.name}')`;
}

/** Bytes per element of the dtypes either format can name; undefined when unknown. */
export const ITEM_SIZE: Readonly<Record<string, number>> = {
  bool: 1, int8: 1, uint8: 1, float8_e4m3: 1, float8_e5m2: 1,
  int16: 2, uint16: 2, float16: 2, bfloat16: 2,
  int32: 4, uint32: 4, float32: 4,
  int64: 8, uint64: 8, float64: 8, complex64: 8,
  complex128: 16,
};

/** The product of a shape's dimensions, refusing sizes that a double cannot count exactly. */
export function elementCount(file: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new InputError(file, `shape [${shape.join(', ')}] is too large`);
  return n;
}

/** A file opened for reading at offsets. */
export class OpenFile {
  readonly path: string;
  readonly size: number;
  #fd: number;

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.#fd = fd;
    this.size = size;
  }

  static open(path: string): OpenFile {
    let fd: number;
    try {
      // Non-blocking, so that a FIFO without a writer is refused below instead of waiting forever.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw new InputError(path, systemProblem(error));
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      const kind = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a pipe (FIFO or process substitution)'
        : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'not a regular file';
      throw new InputError(path, `is ${kind}, not a regular file: xent reads tensors at offsets, so save the data to a file first`);
    }
    return new OpenFile(path, fd, stat.size);
  }

  /** Fills `into` with the bytes at `position`; a file that ends first is an InputError. */
  read(position: number, into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      let n: number;
      try {
        n = readSync(this.#fd, into, done, into.length - done, position + done);
      } catch (error) {
        throw new InputError(this.path, systemProblem(error));
      }
      if (n === 0) {
        throw new InputError(
          this.path,
          `ended at byte ${position + done} while ${position + into.length} bytes were expected (did it shrink while being read?)`,
        );
      }
      done += n;
    }
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file). */
  readUpTo(position: number, length: number): Uint8Array {
    const bytes = new Uint8Array(Math.max(0, Math.min(length, this.size - position)));
    this.read(position, bytes);
    return bytes;
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** A system error as a short phrase: 'no such file', 'permission denied', ... */
function systemProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a file';
    default: return (error as Error).message;
  }
}
