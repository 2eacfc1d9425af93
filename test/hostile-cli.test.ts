// The command line against hostile files: headers that would take gigabytes or crash Node,
// pipes that never end, tensors that alias each other, names that drive the terminal. Each is
// refused with one line naming the file and exit code 2, in bounded time and memory.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xent } from './support/cli.js';
import { makeLogits, makeTargets } from './support/data.js';
import { writeNpy } from './fixtures/writers.js';

const dir = mkdtempSync(join(tmpdir(), 'xent-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const targets = writeNpy(join(dir, 'targets.npy'), makeTargets(2, 3, 1), [2]);

/** exit 2 and one line on stderr matching `message`. */
function refused(args: string[], message: RegExp): string {
  const r = xent(args);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.length).toBeLessThan(600);
  return r.stderr;
}

/** A .npy file whose header claims `length` bytes (format 2.0, a u32 length), followed by `body`. */
function npyWithHeader(name: string, length: number, body: Uint8Array): string {
  const head = new Uint8Array(12);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(head.buffer).setUint32(8, length, true);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([head, body]));
  return path;
}

function safetensors(name: string, header: string, data = new Uint8Array(0)): string {
  const text = Buffer.from(header);
  const out = Buffer.alloc(8 + text.length + data.length);
  out.writeBigUInt64LE(BigInt(text.length));
  text.copy(out, 8);
  out.set(data, 8 + text.length);
  const path = join(dir, name);
  writeFileSync(path, out);
  return path;
}

describe('xent score refuses hostile files', () => {
  it('a .npy header longer than 1 MiB (2.0 and 3.0 alike), before reading it', () => {
    for (const [length, body] of [[600 << 20, new Uint8Array(16)], [(1 << 20) + 64, new Uint8Array((1 << 20) + 64).fill(0x20)]] as const) {
      refused(['score', npyWithHeader(`long-${length}.npy`, length, body), targets], /byte \.npy header, over the 1048576 bytes read/);
    }
  });

  it('a safetensors header nested too deep, with too many entries, or not an object', () => {
    refused(['score', safetensors('deep.safetensors', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`)], /nested deeper than 8 levels/);
    const many = `{${Array.from({ length: 100_001 }, (_, i) => `"t${i}":{}`).join(',')}}`;
    refused(['score', safetensors('many.safetensors', many)], /more than 100000 entries/);
    refused(['score', safetensors('array.safetensors', '[1, 2, 3]'), targets], /not a JSON object/);
  });

  it('tensors whose data_offsets overlap, leave a gap, or leave bytes unclaimed', () => {
    const logits = makeLogits(2, 3, 'normal', 1);
    const labels = new Int32Array([0, 1]);
    const data = Buffer.concat([Buffer.from(logits.buffer), Buffer.from(labels.buffer)]);
    const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
    const header = (l: number[], t: number[]) => JSON.stringify({ logits: entry('F32', [2, 3], l), labels: entry('I32', [2], t) });
    // The labels alias the last 8 bytes of the logits.
    refused(['score', safetensors('overlap.safetensors', header([0, 24], [16, 24]), data.subarray(0, 24))], /overlaps the tensor before it/);
    refused(['score', safetensors('gap.safetensors', header([0, 24], [28, 36]), Buffer.concat([data, Buffer.alloc(4)]))], /gap of 4 bytes/);
    refused(['score', safetensors('tail.safetensors', header([0, 24], [24, 32]), Buffer.concat([data, Buffer.alloc(8)]))], /holds bytes no tensor describes/);
    const fine = safetensors('fine.safetensors', header([0, 24], [24, 32]), data);
    expect(xent(['score', fine]).status).toBe(0);
  });

  it('a FIFO with no writer, at once and with the reason', () => {
    const fifo = join(dir, 'pipe.npy');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    refused(['score', fifo, targets], /is a pipe \(FIFO or process substitution\), not a regular file/);
    expect(Date.now() - started).toBeLessThan(10_000);
    refused(['score', '/dev/zero', targets], /is a device, not a regular file/);
  });

  it('control characters from a file are escaped, and long names cut', () => {
    const evil = '\u001b[2J\u001b]0;title\u0007';
    const stderr = refused(['score', safetensors('evil.safetensors', JSON.stringify({ [evil + 'x'.repeat(5000)]: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }), new Uint8Array(8))], /data_offsets span 8 bytes/);
    expect(stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(stderr).toMatch(/\\x1b\[2J/);
    const descr = `{'descr': '${evil}', 'fortran_order': False, 'shape': (2, 3), }`;
    const body = Buffer.from(descr.padEnd(116, ' ') + '\n');
    const npy = npyWithHeader('evil.npy', body.length, body);
    const line = refused(['score', npy, targets], /which is not a numeric dtype/);
    expect(line).not.toMatch(/\u001b/);
  });

  it('thread counts above the maximum, and flags past their bounds, say the bound', () => {
    // Usage errors: the reason on the first line, the usage after it.
    for (const [flag, value, bound] of [['--threads', '1024', '[1, 64]'], ['--ignore-index', '2147483648', '[-2147483648, 2147483647]'], ['--chunk-rows', '2147483648', '[1, 2147483647]']]) {
      const r = xent(['score', targets, targets, flag!, value!]);
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toContain(`${flag} must be an integer in ${bound}, got '${value}'`);
    }
  });
});

