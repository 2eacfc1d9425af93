// The header of the safetensors format:
//
//   N (u64 LE)  header: N bytes of UTF-8 JSON  data
//
// where the JSON maps each tensor name to {"dtype": "F32", "shape": [B, T, V],
// "data_offsets": [begin, end]} (offsets relative to the start of the data, little-endian,
// row-major), plus an optional "__metadata__" of strings.
//
// We parse it ourselves: npm has no maintained reader of local safetensors files (the
// Hugging Face JS libraries parse headers of files on the Hub, over HTTP), and the format
// is eight bytes and a JSON.parse away. Every offset is checked against the file's size,
// so a header that lies is refused before any data is read.

import { InputError } from './errors.js';
import { printable } from './format.js';
import { ITEM_SIZE, elementCount, type OpenFile, type TensorInfo } from './files.js';

/** The format's own limit on the header, which also keeps a lying length from allocating. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Bounds checked before JSON.parse, which would otherwise spend gigabytes on a header of deep
 * nesting or millions of tiny entries: a header is an object of tensor entries, each an object
 * of a string and two short arrays (depth 3), and models hold thousands of tensors.
 */
const MAX_DEPTH = 8;
const MAX_TENSORS = 100_000;

/** safetensors dtype codes, as NumPy names. */
const DTYPES: Record<string, string> = {
  BOOL: 'bool', U8: 'uint8', I8: 'int8', U16: 'uint16', I16: 'int16', U32: 'uint32', I32: 'int32',
  U64: 'uint64', I64: 'int64', F16: 'float16', BF16: 'bfloat16', F32: 'float32', F64: 'float64',
  F8_E4M3: 'float8_e4m3', F8_E5M2: 'float8_e5m2',
};

/** Every tensor of a .safetensors file, by name, each checked to lie inside the file. */
export function readSafetensorsHeader(file: OpenFile): Map<string, TensorInfo> {
  const path = file.path;
  if (file.size < 8) throw new InputError(path, `is too short to be a .safetensors file (${file.size} bytes)`);
  const first = file.readUpTo(0, 8);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(file.size - 8)) {
    throw new InputError(
      path,
      `header length ${n} runs past the end of the file (${file.size} bytes): the header lies or the file is truncated`,
    );
  }
  const headerLength = Number(n);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new InputError(path, `has a ${headerLength}-byte header, over the format's limit of ${MAX_HEADER_BYTES}`);
  }
  const bytes = file.readUpTo(8, headerLength);
  checkShape(path, bytes);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InputError(path, `has a safetensors header that is not valid JSON (${printable((error as Error).message, 120)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new InputError(path, 'has a safetensors header that is not a JSON object');
  }

  const dataStart = 8 + headerLength;
  const dataBytes = file.size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${printable(name)}'`;
    const e = (entry ?? {}) as Record<string, unknown>;
    const { dtype: code, shape, data_offsets: offsets } = e;
    if (typeof code !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets)) {
      throw new InputError(path, `${where} lacks dtype, shape or data_offsets in the header`);
    }
    if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new InputError(path, `${where} has shape ${JSON.stringify(shape)}, which is not a list of sizes`);
    }
    const [begin, end] = offsets as unknown[];
    if (offsets.length !== 2 || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
      throw new InputError(path, `${where} has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with 0 <= begin <= end`);
    }
    const dtype = DTYPES[code] ?? `'${printable(code)}'`;
    const size = ITEM_SIZE[dtype];
    const byteLength = (end as number) - (begin as number);
    if (size !== undefined && byteLength !== elementCount(path, shape as number[]) * size) {
      throw new InputError(
        path,
        `${where} is [${shape.join(', ')}] ${dtype} (${elementCount(path, shape as number[]) * size} bytes) ` +
          `but its data_offsets span ${byteLength} bytes: the header does not match itself`,
      );
    }
    if ((end as number) > dataBytes) {
      throw new InputError(
        path,
        `is truncated: ${where} ends at byte ${end} of the data, but the file holds only ${dataBytes} bytes of data`,
      );
    }
    tensors.set(name, { file: path, name, dtype, shape: shape as number[], byteOffset: dataStart + (begin as number), byteLength });
  }
  checkContiguous(path, [...tensors.values()].map((t) => [t.byteOffset - dataStart, t.byteOffset - dataStart + t.byteLength, t.name!]), dataBytes);
  return tensors;
}

/**
 * The header's JSON, scanned before it is parsed: an object ('{' first), nested at most
 * MAX_DEPTH deep, with at most MAX_TENSORS entries.
 */
function checkShape(path: string, bytes: Uint8Array): void {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x7b /* { */) throw new InputError(path, 'has a safetensors header that is not a JSON object');
  let depth = 0, entries = 0, inString = false;
  for (; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c /* \\ */) i++;
      else if (b === 0x22 /* " */) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x7b || b === 0x5b /* [ */) {
      if (++depth > MAX_DEPTH) throw new InputError(path, `has a safetensors header nested deeper than ${MAX_DEPTH} levels`);
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
    } else if (b === 0x2c /* , */ && depth === 1 && ++entries >= MAX_TENSORS) {
      throw new InputError(path, `has a safetensors header of more than ${MAX_TENSORS} entries`);
    }
  }
}

/**
 * As the format's reference implementation requires: the tensors' data_offsets tile the data
 * section, from 0 to its end, without gaps or overlaps.
 */
function checkContiguous(path: string, spans: [begin: number, end: number, name: string][], dataBytes: number): void {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) {
      const what = begin < at ? 'overlaps the tensor before it' : `leaves a gap of ${begin - at} bytes before it`;
      throw new InputError(path, `tensor '${printable(name)}' has data_offsets [${begin}, ${end}], which ${what}: the tensors must be contiguous`);
    }
    at = end;
  }
  if (at !== dataBytes) {
    throw new InputError(path, `its tensors' data ends at byte ${at} of ${dataBytes}: the data section holds bytes no tensor describes`);
  }
}
