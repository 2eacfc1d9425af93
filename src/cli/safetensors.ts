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
import { ITEM_SIZE, elementCount, type OpenFile, type TensorInfo } from './files.js';

/** The format's own limit on the header, which also keeps a lying length from allocating. */
const MAX_HEADER_BYTES = 100_000_000;

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
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.readUpTo(8, headerLength)));
  } catch (error) {
    throw new InputError(path, `has a safetensors header that is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new InputError(path, 'has a safetensors header that is not a JSON object');
  }

  const dataStart = 8 + headerLength;
  const dataBytes = file.size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${name}'`;
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
    const dtype = DTYPES[code] ?? `'${code}'`;
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
  return tensors;
}
