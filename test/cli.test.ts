// `xent score` and the command line, run as a child process (`node bin/xent.js ...`, after
// `npm run build`) on files written into a temp dir and on the NumPy-written fixtures. Its
// numbers are checked against the float64 reference and against NumPy (fixtures/expected.json);
// every bad input must end with exit code 2 and one line on stderr, without a stack.

import { spawnSync } from 'node:child_process';
import {
  existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reference from '../src/reference/index.js';
import { TOLERANCE, expectLoss } from './support/compare.js';
import { makeLogits, makeTargets } from './support/data.js';
import { ROOT, xent } from './support/cli.js';
import { fromBfloat16, npyBytes, toBfloat16, writeNpy, writeSafetensors } from './fixtures/writers.js';

const fixture = (name: string) => join(ROOT, 'test', 'fixtures', name);
const dir = mkdtempSync(join(tmpdir(), 'xent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
});


interface Metrics {
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  accuracy: number;
  entropy: number;
  count: number;
  topK?: { k: number; accuracy: number };
  segments?: Array<{ loss: number; accuracy: number; count: number }>;
}

function score(args: string[]): Metrics & { rows: number } {
  const r = xent(['score', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * What `xent score` should print, from the float64 reference: crossEntropy for the losses
 * and count, logSoftmax for entropy, argmax and top-k (ties to the lower index).
 */
function expected(logits: Float32Array, targets: Int32Array, classes: number, options: { ignoreIndex?: number; topK?: number; rowsPerSegment?: number } = {}): Metrics {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const ce = reference.crossEntropy(logits, targets, { classes, ignoreIndex });
  const logp = reference.logSoftmax(logits, { classes });
  const rows = targets.length;
  let correct = 0, entropy = 0, hits = 0;
  const segs: Array<{ nll: number; correct: number; count: number }> = [];
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const row = Array.from(logp.subarray(r * classes, (r + 1) * classes));
    const order = row.map((_, j) => j).sort((a, b) => row[b]! - row[a]! || a - b);
    const hit = order[0] === t;
    if (hit) correct += 1;
    if (options.topK !== undefined && order.slice(0, options.topK).includes(t)) hits += 1;
    entropy -= row.reduce((s, v) => s + Math.exp(v) * v, 0);
    if (options.rowsPerSegment !== undefined) {
      const s = (segs[Math.floor(r / options.rowsPerSegment)] ??= { nll: 0, correct: 0, count: 0 });
      s.nll += ce.losses[r]!;
      s.correct += hit ? 1 : 0;
      s.count += 1;
    }
  }
  const n = ce.count;
  return {
    loss: ce.loss,
    perplexity: Math.exp(ce.loss),
    bitsPerToken: ce.loss / Math.LN2,
    accuracy: correct / n,
    entropy: entropy / n,
    count: n,
    ...(options.topK === undefined ? {} : { topK: { k: options.topK, accuracy: hits / n } }),
    ...(options.rowsPerSegment === undefined ? {} : { segments: segs.map((s) => ({ loss: s.nll / s.count, accuracy: s.correct / s.count, count: s.count })) }),
  };
}

function expectMetrics(got: Metrics, want: Metrics, label: string): void {
  for (const key of ['loss', 'perplexity', 'bitsPerToken', 'entropy'] as const) expectLoss(got[key], want[key], { label: `${label}: ${key}` });
  expect(got.accuracy, `${label}: accuracy`).toBe(want.accuracy);
  expect(got.count, `${label}: count`).toBe(want.count);
  if (want.topK !== undefined) expect(got.topK, `${label}: topK`).toEqual(want.topK);
  if (want.segments !== undefined) {
    expect(got.segments?.length, `${label}: segments`).toBe(want.segments.length);
    want.segments.forEach((s, i) => {
      expectLoss(got.segments![i]!.loss, s.loss, { label: `${label}: segment ${i} loss` });
      expect(got.segments![i]!.accuracy, `${label}: segment ${i} accuracy`).toBe(s.accuracy);
      expect(got.segments![i]!.count, `${label}: segment ${i} count`).toBe(s.count);
    });
  }
}

describe('xent score against the float64 reference', () => {
  const N = 37, V = 29;
  const logits = makeLogits(N, V, 'normal', 11);
  logits.fill(93, 5 * V, 6 * V - 3); // a row where a naive exp overflows, with a tie for the max
  const targets = makeTargets(N, V, 12, 0.15);
  const logitsPath = writeNpy(join(dir, 'logits.npy'), logits, [N, V]);
  const targetsPath = writeNpy(join(dir, 'targets.npy'), targets, [N]);

  it('float32 [N, V] .npy with int32 targets and ignored rows, top-5', () => {
    const got = score([logitsPath, targetsPath, '--top-k', '5']);
    expectMetrics(got, expected(logits, targets, V, { topK: 5 }), 'f32 [37, 29]');
    expect(got.rows).toBe(N);
    expect(got.count).toBeLessThan(N);
  });

  it('gives the same numbers, to the last bit, whatever the chunk size', () => {
    const whole = score([logitsPath, targetsPath, '--top-k', '2']);
    for (const rows of ['1', '8', '36']) {
      const chunked = score([logitsPath, targetsPath, '--top-k', '2', '--chunk-rows', rows]);
      expect(chunked, `--chunk-rows ${rows}`).toEqual(whole);
    }
  });

  it('int64 targets and a chosen --ignore-index', () => {
    const t64 = BigInt64Array.from(targets, (t) => BigInt(t === -100 ? 3 : t));
    const path = writeNpy(join(dir, 'targets64.npy'), t64, [N]);
    const t32 = Int32Array.from(t64, Number);
    expectMetrics(score([logitsPath, path, '--ignore-index', '3']), expected(logits, t32, V, { ignoreIndex: 3 }), 'ignore 3');
  });

  it('[B, T, V] logits with [B, T] targets, per batch row with --segments, across chunk edges', () => {
    const B = 4, T = 7, C = 13;
    const x = makeLogits(B * T, C, 'normal', 21);
    const t = makeTargets(B * T, C, 22, 0.2);
    const lp = writeNpy(join(dir, 'btv.npy'), x, [B, T, C]);
    const tp = writeNpy(join(dir, 'bt.npy'), t, [B, T]);
    const want = expected(x, t, C, { rowsPerSegment: T });
    for (const rows of ['3', '7', '100']) {
      expectMetrics(score([lp, tp, '--segments', '--chunk-rows', rows]), want, `[4, 7, 13] --chunk-rows ${rows}`);
    }
    // flat [N] targets for [B, T, V] logits are accepted too
    const { segments: _, ...overall } = want;
    expectMetrics(score([lp, writeNpy(join(dir, 'flat.npy'), t, [B * T])]), overall, 'flat targets');
  });

  it('one .safetensors file with float32, float16 and bfloat16 logits and int64 labels', () => {
    const B = 2, T = 6, C = 17;
    const x = makeLogits(B * T, C, 'normal', 31);
    const bf = toBfloat16(x);
    const t = makeTargets(B * T, C, 32);
    const path = writeSafetensors(join(dir, 'out.safetensors'), [
      { name: 'logits', dtype: 'F32', shape: [B, T, C], data: x },
      { name: 'lm_bf16', dtype: 'BF16', shape: [B, T, C], data: bf },
      { name: 'labels', dtype: 'I64', shape: [B, T], data: BigInt64Array.from(t, BigInt) },
      { name: 'ids', dtype: 'I32', shape: [B, T], data: t },
    ]);
    expectMetrics(score([path]), expected(x, t, C), 'safetensors F32, default names');
    expectMetrics(score([path, '--logits-name', 'lm_bf16', '--target-name', 'ids']), expected(fromBfloat16(bf), t, C), 'safetensors BF16');
    // targets from another file
    const tp = writeNpy(join(dir, 'ids.npy'), t, [B, T]);
    expectMetrics(score([path, tp]), expected(x, t, C), 'safetensors logits, npy targets');
  });

  it('prints a table whose numbers are the reference\'s', () => {
    const r = xent(['score', logitsPath, targetsPath]);
    expect(r.status).toBe(0);
    const want = expected(logits, targets, V);
    const value = (name: string) => Number(new RegExp(`^${name}\\s+([-0-9.e+]+)`, 'm').exec(r.stdout)?.[1]);
    expect(Math.abs(value('loss') - want.loss)).toBeLessThan(1e-5 * want.loss);
    expect(Math.abs(value('perplexity') - want.perplexity)).toBeLessThan(1e-5 * want.perplexity);
    expect(Math.abs(value('bits per token') - want.bitsPerToken)).toBeLessThan(1e-5 * want.bitsPerToken);
    expect(Math.abs(value('entropy') - want.entropy)).toBeLessThan(1e-5 * want.entropy);
    expect(value('count')).toBe(want.count);
    expect(r.stdout).toContain(`${(100 * want.accuracy).toFixed(2)} %`);
  });
});

describe('xent score against NumPy (test/fixtures, written by make_npy.py)', () => {
  const numpy = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Record<string, Metrics>;
  // NumPy computes in float64 from the same stored values; allow the engine's float32 error.
  const close = (got: Metrics, want: Metrics, label: string) => {
    for (const key of ['loss', 'perplexity', 'bitsPerToken', 'entropy'] as const) {
      expectLoss(got[key], want[key], { label: `${label}: ${key}` }, TOLERANCE.loss);
    }
    expect(got.accuracy, `${label}: accuracy`).toBe(want.accuracy);
    expect(got.count, `${label}: count`).toBe(want.count);
  };

  it('float32 .npy with int64 targets, one ignored, top-3', () => {
    const got = score([fixture('logits_f32.npy'), fixture('targets_i64.npy'), '--top-k', '3']);
    close(got, numpy['logits_f32.npy']!, 'logits_f32.npy');
    expect(got.topK).toEqual(numpy['logits_f32.npy']!.topK);
  });

  it('float16 .npy (format 2.0) [B, T, V] with int32 targets, per batch row', () => {
    const got = score([fixture('logits_f16_v2.npy'), fixture('targets_i32.npy'), '--segments', '--chunk-rows', '4']);
    const want = numpy['logits_f16_v2.npy']!;
    close(got, want, 'logits_f16_v2.npy');
    want.segments!.forEach((s, i) => expectLoss(got.segments![i]!.loss, s.loss, { label: `segment ${i}` }));
  });

  it('.safetensors F32, F16 and BF16', () => {
    const path = fixture('scores.safetensors');
    close(score([path]), numpy['scores.safetensors']!, 'F32');
    close(score([path, '--logits-name', 'logits_f16']), numpy['scores.safetensors']!, 'F16');
    close(score([path, '--logits-name', 'logits_bf16']), numpy['scores.safetensors:logits_bf16']!, 'BF16');
  });
});

describe('xent score streams files larger than its memory', () => {
  it('scores 512 MiB of logits with a peak resident memory far below the file size', () => {
    // A sparse file: a real .npy header, then 512 MiB of zeros that take no disk space.
    const rows = 131072, V = 1024;
    const path = join(dir, 'huge.npy');
    const head = npyBytes(new Float32Array(0), [rows, V]);
    writeFileSync(path, head);
    truncateSync(path, head.length + rows * V * 4);
    const targets = writeNpy(join(dir, 'huge-targets.npy'), Int32Array.from({ length: rows }, (_, r) => (r * 7) % V), [rows]);
    const r = spawnSync(process.execPath, ['--import', fixture('report-rss.mjs'), join(ROOT, 'bin', 'xent.js'), 'score', path, targets, '--json'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Metrics;
    // Every row is uniform: loss and entropy ln V; argmax is class 0 (ties go to the lowest index).
    expectLoss(got.loss, Math.log(V), { label: 'huge: loss' });
    expectLoss(got.entropy, Math.log(V), { label: 'huge: entropy' });
    expect(got.count).toBe(rows);
    expect(got.accuracy).toBe(rows / V / rows);
    const peakKiB = Number(/maxRSS (\d+)/.exec(r.stderr)?.[1]);
    expect(peakKiB * 1024, 'peak resident memory').toBeLessThan(200 * 2 ** 20);
  });
});

describe('xent score refuses bad input with one line and exit code 2', () => {
  const good = writeNpy(join(dir, 'good.npy'), makeLogits(6, 5, 'normal', 41), [6, 5]);
  const goodTargets = writeNpy(join(dir, 'good-targets.npy'), Int32Array.from([0, 1, 2, 3, 4, 0]), [6]);

  function refused(args: string[], pattern: RegExp): void {
    const r = xent(['score', ...args]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(lines[0]).toMatch(/^xent score: /);
    expect(lines[0]).toMatch(pattern);
  }

  it('a missing file', () => {
    refused([join(dir, 'nope.npy'), goodTargets], /nope\.npy: no such file$/);
    refused([good, join(dir, 'no-targets.npy')], /no-targets\.npy: no such file$/);
  });

  it('a truncated file', () => {
    const bytes = npyBytes(makeLogits(6, 5, 'normal', 42), [6, 5]);
    writeFileSync(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 7));
    refused([join(dir, 'cut.npy'), goodTargets], /cut\.npy: is truncated: its header describes \[6, 5\] float32, 120 bytes of data, but only 113 bytes follow the header/);
  });

  it('a header that lies about its size', () => {
    refused([writeNpy(join(dir, 'lying.npy'), new Float32Array(30), [6, 5], { headerLength: 4000 }), goodTargets], /lying\.npy: header length 4000 runs past the end of the file/);
    const st = writeSafetensors(join(dir, 'lying.safetensors'), [{ name: 'logits', dtype: 'F32', shape: [6, 5], data: new Float32Array(30) }], { headerLength: 123456789n });
    refused([st, goodTargets], /lying\.safetensors: header length 123456789 runs past the end of the file/);
  });

  it('a wrong dtype', () => {
    refused([writeNpy(join(dir, 'f64.npy'), new Float64Array(30), [6, 5]), goodTargets], /f64\.npy: logits are float64, expected one of float32, float16, bfloat16/);
    refused([good, writeNpy(join(dir, 'ft.npy'), new Float32Array(6), [6])], /ft\.npy: targets are float32, expected class indices as int32 or int64/);
  });

  it('mismatched shapes', () => {
    refused([good, writeNpy(join(dir, 't7.npy'), new Int32Array(7), [7])], /t7\.npy: targets have shape \[7\], which does not match logits \[6, 5\] in .*good\.npy/);
    const btv = writeNpy(join(dir, 'btv2.npy'), new Float32Array(2 * 3 * 5), [2, 3, 5]);
    refused([btv, writeNpy(join(dir, 't32.npy'), new Int32Array(6), [3, 2])], /t32\.npy: targets have shape \[3, 2\], which does not match logits \[2, 3, 5\].*expected \[2, 3\] or \[6\]/);
    refused([writeNpy(join(dir, 'vec.npy'), new Float32Array(6), [6]), goodTargets], /vec\.npy: logits have shape \[6\], expected \[N, V\] or \[B, T, V\]/);
    refused([good, goodTargets, '--segments'], /good\.npy: has shape \[6, 5\], but --segments reports each batch row of \[B, T, V\] logits/);
  });

  it('targets out of range or too wide', () => {
    refused([good, writeNpy(join(dir, 'oor.npy'), Int32Array.from([0, 1, 2, 5, 4, 0]), [6])], /oor\.npy: target\[3\] = 5 is out of range \[0, 5\) and is not the ignore index \(-100\)/);
    refused([good, writeNpy(join(dir, 'wide.npy'), BigInt64Array.from([0n, 1n, 2n, 3n, -(2n ** 40n), 0n]), [6])], /wide\.npy: target\[4\] = -1099511627776 does not fit in 32 bits/);
  });

  it('files of another format, or a tensor name that is not there', () => {
    refused([fixture('make_npy.py'), goodTargets], /make_npy\.py: is neither a \.npy nor a \.safetensors file/);
    refused([fixture('scores.safetensors'), '--logits-name', 'nope'], /scores\.safetensors: has no tensor named 'nope'; it holds logits \(float32 \[3, 5, 11\]\), .*; choose one with --logits-name/);
    const twoInts = writeSafetensors(join(dir, 'two-ints.safetensors'), [
      { name: 'logits', dtype: 'F32', shape: [6, 5], data: new Float32Array(30) },
      { name: 'a', dtype: 'I32', shape: [6], data: new Int32Array(6) },
      { name: 'b', dtype: 'I64', shape: [6], data: new BigInt64Array(6) },
    ]);
    refused([twoInts], /two-ints\.safetensors: has no tensor named 'targets', 'target', 'labels' or 'label'; it holds logits \(float32 \[6, 5\]\), a \(int32 \[6\]\), b \(int64 \[6\]\); choose one with --target-name$/);
  });
});

describe('xent command line', () => {
  it('unknown flags and missing arguments print the usage, exit 2', () => {
    for (const args of [['score', 'a.npy', 'b.npy', '--bogus'], ['score'], ['score', 'a', 'b', 'c'], ['score', 'a.npy', 'b.npy', '--top-k', 'many']]) {
      const r = xent(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^xent score: .*\n\nusage: xent score LOGITS \[TARGETS\]/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(xent(['score', 'a.npy', 'b.npy', '--bogus']).stderr).toMatch(/^xent score: unknown option '--bogus'\n/);
    const none = xent([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^usage: xent <command>/);
    const unknown = xent(['fly']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^xent: unknown command 'fly'/);
  });

  it('--help for the command and each subcommand, exit 0', () => {
    expect(xent(['--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: xent <command>/) });
    expect(xent(['score', '--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/--ignore-index/) });
    expect(xent(['demo', '--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/--steps/) });
  });
});
