// The .safetensors reader of `xent score`: a file written by NumPy-only Python
// (test/fixtures/make_npy.py) and by hand, bfloat16 widening, and every refusal.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/cli/errors.js';
import { OpenFile, type TensorInfo } from '../src/cli/files.js';
import { readSafetensorsHeader } from '../src/cli/safetensors.js';
import { FloatReader } from '../src/cli/widen.js';
import { fromBfloat16, safetensorsBytes, toBfloat16, writeSafetensors } from './fixtures/writers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xent-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tensors(path: string): Map<string, TensorInfo> {
  const file = OpenFile.open(path);
  try {
    return readSafetensorsHeader(file);
  } finally {
    file.close();
  }
}

function refusal(path: string): string {
  try {
    tensors(path);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  return expect.fail(`${path} was accepted`);
}

function readAll(path: string, name: string): Float32Array {
  const file = OpenFile.open(path);
  try {
    const info = readSafetensorsHeader(file).get(name)!;
    const out = new Float32Array(info.shape.reduce((a, b) => a * b, 1));
    new FloatReader(file, info).read(0, out);
    return out;
  } finally {
    file.close();
  }
}

describe('safetensors headers', () => {
  it('lists every tensor of the Python-written fixture with dtype, shape and place', () => {
    const all = tensors(fixture('scores.safetensors'));
    expect([...all.keys()]).toEqual(['logits', 'logits_f16', 'logits_bf16', 'labels']);
    expect(all.get('logits')).toMatchObject({ dtype: 'float32', shape: [3, 5, 11], byteLength: 660 });
    expect(all.get('logits_f16')).toMatchObject({ dtype: 'float16', byteLength: 330 });
    expect(all.get('logits_bf16')).toMatchObject({ dtype: 'bfloat16', byteLength: 330 });
    expect(all.get('labels')).toMatchObject({ dtype: 'int64', shape: [3, 5], byteLength: 120 });
    // Tensors follow each other in the data section.
    expect(all.get('logits_f16')!.byteOffset).toBe(all.get('logits')!.byteOffset + 660);
  });

  it('float16 and float32 copies of the same values read the same', () => {
    const f32 = readAll(fixture('scores.safetensors'), 'logits');
    const f16 = readAll(fixture('scores.safetensors'), 'logits_f16');
    expect(Array.from(f16)).toEqual(Array.from(f32));
  });

  it('bfloat16 widens to the float32 with the same top 16 bits', () => {
    const values = Float32Array.from({ length: 40 }, (_, i) => (i - 20) * 1.7 ** (i % 9) * 1e-3);
    values[0] = -0;
    values[1] = Infinity;
    const halves = toBfloat16(values.map((v) => (Number.isFinite(v) ? v : 0)));
    halves[1] = 0x7f80; // +inf
    halves[2] = 0x0001; // the smallest subnormal, 2^-133
    const path = writeSafetensors(join(dir, 'bf16.safetensors'), [{ name: 'x', dtype: 'BF16', shape: [4, 10], data: halves }]);
    const got = readAll(path, 'x');
    const want = fromBfloat16(halves);
    expect(got[1]).toBe(Infinity);
    expect(got[2]).toBe(2 ** -133);
    for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i]), `element ${i}`).toBe(true);
    // and rounding to bfloat16 kept the values within its precision (8 bits)
    for (let i = 3; i < values.length; i++) expect(Math.abs(got[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -8);
  });
});

describe('safetensors refusals', () => {
  const t = [{ name: 'logits', dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }];

  it('a header length that runs past the end of the file', () => {
    const path = writeSafetensors(join(dir, 'lies.safetensors'), t, { headerLength: 1n << 40n });
    expect(refusal(path)).toMatch(/lies\.safetensors: header length 1099511627776 runs past the end of the file/);
  });

  it('data offsets beyond the data', () => {
    const bytes = safetensorsBytes([{ ...t[0]!, shape: [3, 3], data: new Float32Array(9) }]);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 12)); // the last 3 values lost
    expect(refusal(cut)).toMatch(/cut\.safetensors: is truncated: tensor 'logits' ends at byte 36 of the data, but the file holds only 24/);
  });

  it('a header whose offsets disagree with dtype and shape', () => {
    const path = writeSafetensors(join(dir, 'skew.safetensors'), t, { endSkew: -4 });
    expect(refusal(path)).toMatch(/skew\.safetensors: tensor 'logits' is \[2, 3\] float32 \(24 bytes\) but its data_offsets span 20 bytes/);
  });

  it('a header that is not JSON, or not an object', () => {
    expect(refusal(writeSafetensors(join(dir, 'json.safetensors'), t, { header: '{"logits": ' })))
      .toMatch(/json\.safetensors: has a safetensors header that is not valid JSON/);
    expect(refusal(writeSafetensors(join(dir, 'array.safetensors'), t, { header: '[1, 2]' })))
      .toMatch(/array\.safetensors: has a safetensors header that is not a JSON object/);
  });

  it('an entry without dtype, shape or offsets', () => {
    expect(refusal(writeSafetensors(join(dir, 'entry.safetensors'), t, { header: '{"logits": {"dtype": "F32"}}' })))
      .toMatch(/entry\.safetensors: tensor 'logits' lacks dtype, shape or data_offsets/);
  });

  it('a file shorter than the 8-byte header length', () => {
    const path = join(dir, 'tiny.safetensors');
    writeFileSync(path, new Uint8Array(5));
    expect(refusal(path)).toMatch(/tiny\.safetensors: is too short to be a \.safetensors file \(5 bytes\)/);
  });
});
