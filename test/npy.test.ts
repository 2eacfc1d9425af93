// The .npy reader of `xent score`: headers written by NumPy itself (test/fixtures, from
// make_npy.py) and by hand, every refusal, and float16 widening against NumPy's.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/cli/errors.js';
import { OpenFile, type TensorInfo } from '../src/cli/files.js';
import { readNpyHeader } from '../src/cli/npy.js';
import { FloatReader, IndexReader } from '../src/cli/widen.js';
import { npyBytes, writeNpy } from './fixtures/writers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xent-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function header(path: string): TensorInfo {
  const file = OpenFile.open(path);
  try {
    return readNpyHeader(file);
  } finally {
    file.close();
  }
}

function refusal(path: string): string {
  try {
    header(path);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  return expect.fail(`${path} was accepted`);
}

function readFloats(path: string): Float32Array {
  const file = OpenFile.open(path);
  try {
    const info = readNpyHeader(file);
    const out = new Float32Array(info.shape.reduce((a, b) => a * b, 1));
    new FloatReader(file, info).read(0, out);
    return out;
  } finally {
    file.close();
  }
}

describe('npy headers written by NumPy', () => {
  it('reads dtype, shape and data offset of a version 1.0 file', () => {
    const info = header(fixture('logits_f32.npy'));
    expect(info).toMatchObject({ dtype: 'float32', shape: [12, 11], byteOffset: 128, byteLength: 12 * 11 * 4 });
    expect(header(fixture('targets_i64.npy'))).toMatchObject({ dtype: 'int64', shape: [12] });
  });

  it('reads a version 2.0 file of float16 [B, T, V]', () => {
    const info = header(fixture('logits_f16_v2.npy'));
    expect(info).toMatchObject({ dtype: 'float16', shape: [3, 5, 11], byteLength: 3 * 5 * 11 * 2 });
    expect(info.byteOffset % 64).toBe(0);
  });

  it('refuses Fortran order and big-endian data, naming the fix', () => {
    expect(refusal(fixture('fortran_f32.npy'))).toMatch(/fortran_f32\.npy: is in Fortran .*np\.ascontiguousarray/);
    expect(refusal(fixture('bigendian_f32.npy'))).toMatch(/bigendian_f32\.npy: is big-endian \('>f4'\)/);
  });
});

describe('float16 widening', () => {
  it('gives NumPy\'s float32 for every 64th bit pattern and the specials', () => {
    const halves = readFloats(fixture('halves_f16.npy'));
    const numpy = readFloats(fixture('halves_f32.npy'));
    expect(halves.length).toBe(1030);
    for (let i = 0; i < numpy.length; i++) {
      if (Number.isNaN(numpy[i]!)) expect(halves[i], `pattern ${i}`).toBeNaN();
      else expect(Object.is(halves[i], numpy[i]), `pattern ${i}: got ${halves[i]}, NumPy ${numpy[i]}`).toBe(true);
    }
  });
});

describe('npy chunked reads', () => {
  it('reads any range of rows, and int64 targets as int32', () => {
    const values = Float32Array.from({ length: 60 }, (_, i) => i * 0.5 - 7);
    const path = writeNpy(join(dir, 'range.npy'), values, [12, 5]);
    const file = OpenFile.open(path);
    const out = new Float32Array(15);
    new FloatReader(file, readNpyHeader(file)).read(20, out);
    file.close();
    expect(Array.from(out)).toEqual(Array.from(values.subarray(20, 35)));

    const targets = BigInt64Array.from([3n, -100n, 2147483647n, -2147483648n, 0n]);
    const tfile = OpenFile.open(writeNpy(join(dir, 't64.npy'), targets, [5]));
    const got = new Int32Array(4);
    new IndexReader(tfile, readNpyHeader(tfile)).read(1, got);
    tfile.close();
    expect(Array.from(got)).toEqual([-100, 2147483647, -2147483648, 0]);
  });

  it('refuses an int64 target that does not fit in 32 bits, naming its index', () => {
    const tfile = OpenFile.open(writeNpy(join(dir, 'big64.npy'), BigInt64Array.from([1n, 2n, 4294967296n]), [3]));
    const reader = new IndexReader(tfile, readNpyHeader(tfile));
    expect(() => reader.read(0, new Int32Array(3))).toThrow(/big64\.npy: target\[2\] = 4294967296 does not fit in 32 bits/);
    tfile.close();
  });
});

describe('npy refusals', () => {
  const data = new Float32Array(12);

  it('a file cut short inside its data', () => {
    const path = writeNpy(join(dir, 'short.npy'), data, [4, 4]); // 16 values promised, 12 written
    expect(refusal(path)).toMatch(/short\.npy: is truncated: its header describes \[4, 4\] float32, 64 bytes of data, but only 48 bytes follow/);
  });

  it('a header length that runs past the end of the file', () => {
    const path = writeNpy(join(dir, 'lies.npy'), data, [3, 4], { headerLength: 60000 });
    expect(refusal(path)).toMatch(/lies\.npy: header length 60000 runs past the end of the file/);
  });

  it('more data than the header describes', () => {
    const path = writeNpy(join(dir, 'long.npy'), data, [2, 4]);
    expect(refusal(path)).toMatch(/long\.npy: .*48 bytes follow the header: the header does not match the file/);
  });

  it('a file that is not .npy, too short to be one, or of an unknown version', () => {
    expect(refusal(fixture('make_npy.py'))).toMatch(/make_npy\.py: is not a \.npy file/);
    const tiny = join(dir, 'tiny.npy');
    writeFileSync(tiny, new Uint8Array([0x93, 0x4e, 0x55, 0x4d]));
    expect(refusal(tiny)).toMatch(/tiny\.npy: is not a \.npy file/);
    const v9 = npyBytes(data, [12]);
    v9[6] = 9;
    writeFileSync(join(dir, 'v9.npy'), v9);
    expect(refusal(join(dir, 'v9.npy'))).toMatch(/v9\.npy: has \.npy format version 9\.0, expected 1\.0, 2\.0 or 3\.0/);
  });

  it('a header that is not a Python dict literal, or misses a key', () => {
    expect(refusal(writeNpy(join(dir, 'garbled.npy'), data, [12], { header: "{'descr': '<f4', 'shape': (12,) 'x'}" })))
      .toMatch(/garbled\.npy: has a malformed \.npy header: expected ',' or '}'/);
    expect(refusal(writeNpy(join(dir, 'nokey.npy'), data, [12], { header: "{'descr': '<f4', 'shape': (12,)}" })))
      .toMatch(/nokey\.npy: has a malformed \.npy header: no 'fortran_order' key/);
    expect(refusal(writeNpy(join(dir, 'fields.npy'), data, [12], { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (12,)}" })))
      .toMatch(/fields\.npy: has a structured dtype/);
  });

  it('names dtypes the way NumPy does', () => {
    const f64 = writeNpy(join(dir, 'f64.npy'), new Float64Array(4), [2, 2]);
    expect(header(f64).dtype).toBe('float64');
    const info = header(f64);
    const file = OpenFile.open(f64);
    expect(() => new FloatReader(file, info)).toThrow(/f64\.npy: logits are float64, expected one of float32, float16, bfloat16/);
    file.close();
  });
});
