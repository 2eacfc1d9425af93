// The header of NumPy's .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0):
//
//   \x93NUMPY  major minor  header_len (u16 LE in 1.x, u32 LE in 2.x/3.x)  header  data
//
// where the header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (4, 1000), }
// padded with spaces and a newline so that the data starts on a 64-byte boundary.
//
// We parse it ourselves because the maintained JS readers (npyjs) load the whole file into
// one ArrayBuffer and read the dict with regular expressions, while `xent score` needs the
// header alone, the data offset and a precise refusal for every malformed case, so that it
// can stream files larger than memory.

import { InputError } from './errors.js';
import { printable } from './format.js';
import { ITEM_SIZE, elementCount, type OpenFile, type TensorInfo } from './files.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The longest header read. NumPy itself refuses headers over 10,000 bytes unless told
 * otherwise (max_header_size); a header is a dict of three keys, so 1 MiB is generous, and
 * bounds what a lying header can make us allocate and decode.
 */
const MAX_HEADER_BYTES = 1 << 20;

/** True when the file starts with the .npy magic string. */
export function looksLikeNpy(first: Uint8Array): boolean {
  return MAGIC.every((b, i) => first[i] === b);
}

/** Reads and checks the header of a .npy file: dtype, shape, where the data is. */
export function readNpyHeader(file: OpenFile): TensorInfo {
  const path = file.path;
  const start = file.readUpTo(0, 12);
  if (start.length < 10 || !looksLikeNpy(start)) {
    throw new InputError(path, `is not a .npy file (it does not start with \\x93NUMPY)`);
  }
  const major = start[6]!;
  const view = new DataView(start.buffer, start.byteOffset, start.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (start.length < 12) throw new InputError(path, 'is truncated inside its .npy preamble');
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw new InputError(path, `has .npy format version ${major}.${start[7]}, expected 1.0, 2.0 or 3.0`);
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new InputError(path, `has a ${headerLength}-byte .npy header, over the ${MAX_HEADER_BYTES} bytes read (NumPy writes about a hundred)`);
  }
  if (headerStart + headerLength > file.size) {
    throw new InputError(
      path,
      `header length ${headerLength} runs past the end of the file (${file.size} bytes): the header lies or the file is truncated`,
    );
  }
  const bytes = file.readUpTo(headerStart, headerLength);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes);
  const header = parseHeaderDict(path, text);

  const dtype = npyDtype(path, header.descr);
  const shape = header.shape;
  const dataOffset = headerStart + headerLength;
  if (header.fortranOrder && shape.filter((d) => d > 1).length > 1) {
    throw new InputError(path, 'is in Fortran (column-major) order; save a C-ordered array (np.ascontiguousarray)');
  }
  const size = ITEM_SIZE[dtype];
  const byteLength = size === undefined ? file.size - dataOffset : elementCount(path, shape) * size;
  const present = file.size - dataOffset;
  if (size !== undefined && present !== byteLength) {
    const promised = `its header describes [${shape.join(', ')}] ${dtype}, ${byteLength} bytes of data`;
    throw new InputError(
      path,
      present < byteLength
        ? `is truncated: ${promised}, but only ${present} bytes follow the header`
        : `${promised}, but ${present} bytes follow the header: the header does not match the file`,
    );
  }
  return { file: path, dtype, shape, byteOffset: dataOffset, byteLength };
}

/** NumPy's dtype name for a descr string like '<f4'; big-endian data is refused. */
function npyDtype(path: string, descr: unknown): string {
  if (typeof descr !== 'string') {
    throw new InputError(path, 'has a structured dtype (a list of fields); expected a plain numeric array');
  }
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (m === null) throw new InputError(path, `has dtype '${printable(descr)}', which is not a numeric dtype`);
  const [, order, kind, digits] = m as unknown as [string, string, string, string];
  const bytes = Number(digits || '0');
  const names: Record<string, string> = { f: 'float', i: 'int', u: 'uint', c: 'complex' };
  const name = kind === 'b' && bytes === 1 ? 'bool' : names[kind] !== undefined ? `${names[kind]}${bytes * 8}` : `'${descr}'`;
  if (order === '>' && bytes > 1) {
    throw new InputError(path, `is big-endian ('${descr}'); save it little-endian, e.g. arr.astype('<${kind}${digits}')`);
  }
  return name;
}

interface NpyHeader {
  descr: unknown;
  fortranOrder: boolean;
  shape: number[];
}

/** The header dict: the three keys NumPy writes, each checked. */
function parseHeaderDict(path: string, text: string): NpyHeader {
  let dict: unknown;
  try {
    dict = new LiteralParser(text).document();
  } catch (error) {
    throw new InputError(path, `has a malformed .npy header: ${(error as Error).message}`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new InputError(path, 'has a malformed .npy header: it is not a dict');
  }
  const d = dict as Record<string, unknown>;
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in d)) throw new InputError(path, `has a malformed .npy header: no '${key}' key`);
  }
  const shape = d['shape'];
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new InputError(path, `has a malformed .npy header: shape is not a tuple of sizes`);
  }
  if (typeof d['fortran_order'] !== 'boolean') {
    throw new InputError(path, `has a malformed .npy header: fortran_order is not True or False`);
  }
  return { descr: d['descr'], fortranOrder: d['fortran_order'], shape: shape as number[] };
}

/**
 * The subset of Python literals that .npy headers use: dicts, tuples, lists, strings,
 * integers, True, False, None. Tuples and lists become arrays.
 */
class LiteralParser {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): unknown {
    const value = this.value();
    this.space();
    if (this.i !== this.s.length) this.fail('unexpected text after the dict');
    return value;
  }

  private value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '(') return this.sequence(')');
    if (c === '[') return this.sequence(']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|None|-?\d+L?)/.exec(this.s.slice(this.i))?.[0];
    if (word === undefined) this.fail(`unexpected ${c === undefined ? 'end' : `'${c}'`}`);
    this.i += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    return Number(word.replace('L', ''));
  }

  private dict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i += 1;
    for (;;) {
      this.space();
      if (this.eat('}')) return out;
      const key = this.value();
      if (typeof key !== 'string') this.fail('a dict key is not a string');
      this.space();
      if (!this.eat(':')) this.fail(`expected ':' after '${key}'`);
      out[key] = this.value();
      this.space();
      if (this.eat('}')) return out;
      if (!this.eat(',')) this.fail("expected ',' or '}'");
    }
  }

  private sequence(close: string): unknown[] {
    const out: unknown[] = [];
    this.i += 1;
    for (;;) {
      this.space();
      if (this.eat(close)) return out;
      out.push(this.value());
      this.space();
      if (this.eat(close)) return out;
      if (!this.eat(',')) this.fail(`expected ',' or '${close}'`);
    }
  }

  private string(): string {
    const quote = this.s[this.i]!;
    const end = this.s.indexOf(quote, this.i + 1);
    if (end < 0) this.fail('unterminated string');
    const text = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    return text;
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i += 1;
  }

  private eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i += 1;
    return true;
  }

  private fail(problem: string): never {
    throw new Error(`${problem} at character ${this.i}`);
  }
}
