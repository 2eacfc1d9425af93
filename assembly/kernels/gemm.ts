// Matrix products of f32 row-major matrices, for the fused linear cross-entropy: the logits
// hidden @ head^T (gemmNT) and the two gradient products G @ head and G^T @ hidden
// (gemmAcc). Both keep a tile of outputs in registers for a whole inner dimension:
//
// - gemmNT, 4 rows x 2 columns: both operands are read along k, contiguously, four lanes at a
//   time, and each of the 8 dot products is summed across its lanes once, at the end. No
//   operand needs packing (XNNPACK packs the weights into k-major panels because its tiles
//   read them across rows).
// - gemmAcc, 4 rows x 8 columns, XNNPACK's "loadsplat" scheme: per step of k, one element of
//   each of a's 4 rows is splatted and multiplied into two vectors of b's row k.
//
// Each tile takes 8 accumulators; with the operands in flight that is about 12 of the 16 SIMD
// registers of x86-64, so V8 keeps them all in registers. In the relaxed build every multiply-add
// is one fused instruction (madd). Sums run along k in f32, in a fixed order that depends on
// the shapes alone.

import { at } from '../math/lanes';
import { madd } from '../math/exp';

/**
 * c[i ldc + j] = bias[j] + sum_p a[i k + p] b[j k + p], for i < m, j < n: a is m x k and
 * b is n x k, both row-major; bias = 0 means none.
 */
export function gemmNT(a: usize, b: usize, bias: usize, c: usize, m: i32, n: i32, k: i32, ldc: i32): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) ntRows(at(a, i * k), b, bias, at(c, i * ldc), n, k, ldc, 4);
  for (; i < m; i++) ntRows(at(a, i * k), b, bias, at(c, i * ldc), n, k, ldc, 1);
}

/** R (4 or 1, a constant) rows of gemmNT's output, every column. */
// @ts-ignore: decorator
@inline function ntRows(a: usize, b: usize, bias: usize, c: usize, n: i32, k: i32, ldc: i32, R: i32): void {
  let j = 0;
  for (; j + 2 <= n; j += 2) ntTile(a, at(b, j * k), bias, c, j, k, ldc, R, 2);
  if (j < n) ntTile(a, at(b, j * k), bias, c, j, k, ldc, R, 1);
}

/** The R x C (C = 2 or 1) tile of gemmNT's output at row 0 of a and c, column j. */
// @ts-ignore: decorator
@inline function ntTile(a: usize, b: usize, bias: usize, c: usize, j: i32, k: i32, ldc: i32, R: i32, C: i32): void {
  const zero = f32x4.splat(0);
  let s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
  const a1 = at(a, k), a2 = at(a, 2 * k), a3 = at(a, 3 * k), b1 = at(b, k);
  const kv = k & ~3;
  for (let p = 0; p < kv; p += 4) {
    const o = <usize>p << 2;
    const x0 = v128.load(b + o);
    const x1 = C > 1 ? v128.load(b1 + o) : zero;
    let y = v128.load(a + o);
    s00 = madd(y, x0, s00);
    if (C > 1) s01 = madd(y, x1, s01);
    if (R > 1) {
      y = v128.load(a1 + o);
      s10 = madd(y, x0, s10);
      if (C > 1) s11 = madd(y, x1, s11);
      y = v128.load(a2 + o);
      s20 = madd(y, x0, s20);
      if (C > 1) s21 = madd(y, x1, s21);
      y = v128.load(a3 + o);
      s30 = madd(y, x0, s30);
      if (C > 1) s31 = madd(y, x1, s31);
    }
  }
  const bias0: f32 = bias != 0 ? load<f32>(at(bias, j)) : 0;
  const bias1: f32 = bias != 0 && C > 1 ? load<f32>(at(bias, j + 1)) : 0;
  store<f32>(at(c, j), bias0 + dot(a, b, s00, kv, k));
  if (C > 1) store<f32>(at(c, j + 1), bias1 + dot(a, b1, s01, kv, k));
  if (R > 1) {
    store<f32>(at(c, ldc + j), bias0 + dot(a1, b, s10, kv, k));
    if (C > 1) store<f32>(at(c, ldc + j + 1), bias1 + dot(a1, b1, s11, kv, k));
    store<f32>(at(c, 2 * ldc + j), bias0 + dot(a2, b, s20, kv, k));
    if (C > 1) store<f32>(at(c, 2 * ldc + j + 1), bias1 + dot(a2, b1, s21, kv, k));
    store<f32>(at(c, 3 * ldc + j), bias0 + dot(a3, b, s30, kv, k));
    if (C > 1) store<f32>(at(c, 3 * ldc + j + 1), bias1 + dot(a3, b1, s31, kv, k));
  }
}

/** A dot product from its four lane sums over p < kv, plus the terms p in [kv, k). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, lanes: v128, kv: i32, k: i32): f32 {
  let s = (f32x4.extract_lane(lanes, 0) + f32x4.extract_lane(lanes, 1))
        + (f32x4.extract_lane(lanes, 2) + f32x4.extract_lane(lanes, 3));
  for (let p = kv; p < k; p++) s += load<f32>(at(a, p)) * load<f32>(at(b, p));
  return s;
}

/**
 * c[i ldc + j] += sum_p A(i, p) b[p ldb + j], for i < m, j < n, where A(i, p) is the f32 at
 * a + 4 (i aRow + p aK): a row-major A has aRow = its row length and aK = 1, a transposed
 * one aRow = 1 and aK = its row length. packed: scratch for k x n f32.
 *
 * b's columns are first packed in panels of 8, k-major (XNNPACK's weight packing), so that a
 * tile reads 32 contiguous bytes per step of k: read in place, rows of b a power of two apart
 * (4096 bytes and up) all fall in one set of the L1 cache and evict each other (measured at
 * dim 2048: 20-28 GFLOP/s in place, against 45 at dim 768).
 */
export function gemmAcc(
  a: usize, aRow: i32, aK: i32, b: usize, ldb: i32, packed: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32,
): void {
  const panels = n >> 3;
  for (let q = 0; q < panels; q++) {
    const to = packed + (<usize>(q * k) << 5), from = at(b, q << 3);
    for (let p = 0; p < k; p++) {
      const src = at(from, p * ldb), dst = to + (<usize>p << 5);
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
    }
  }
  // PANEL columns at a time, so that the k x PANEL block of b that every row reads stays in
  // cache while all m rows go by (the sums run along k alone: the bits are the same).
  for (let j = 0; j < n; j += PANEL) {
    const w = min(PANEL, n - j);
    const bj = at(b, j), pj = packed + (<usize>(j >> 3) * k << 5), cj = at(c, j);
    let i = 0;
    for (; i + 4 <= m; i += 4) accRows(at(a, i * aRow), aRow, aK, bj, ldb, pj, at(cj, i * ldc), ldc, w, k, 4);
    for (; i < m; i++) accRows(at(a, i * aRow), aRow, aK, bj, ldb, pj, at(cj, i * ldc), ldc, w, k, 1);
  }
}

// @ts-ignore: decorator
@inline const PANEL = 256;

/**
 * R (4 or 1) rows of gemmAcc's output over n columns: 8 at a time from the packed panels at
 * pb, then 4, then one, from b itself.
 */
// @ts-ignore: decorator
@inline function accRows(
  a: usize, aRow: i32, aK: i32, b: usize, ldb: i32, pb: usize, c: usize, ldc: i32, n: i32, k: i32, R: i32,
): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) accTile(a, aRow, aK, pb + (<usize>(j >> 3) * k << 5), 8, at(c, j), ldc, k, R, 2);
  for (; j + 4 <= n; j += 4) accTile(a, aRow, aK, at(b, j), ldb, at(c, j), ldc, k, R, 1);
  for (; j < n; j++) {
    for (let r = 0; r < R; r++) {
      const out = at(c, r * ldc + j);
      let s = load<f32>(out);
      for (let p = 0; p < k; p++) s += load<f32>(at(a, r * aRow + p * aK)) * load<f32>(at(b, p * ldb + j));
      store<f32>(out, s);
    }
  }
}

/** The R x (4 V) tile (V = 2 or 1 vectors) of gemmAcc's output at row 0 of a and c; b's rows ldb apart. */
// @ts-ignore: decorator
@inline function accTile(a: usize, aRow: i32, aK: i32, b: usize, ldb: i32, c: usize, ldc: i32, k: i32, R: i32, V: i32): void {
  const c1 = at(c, ldc), c2 = at(c, 2 * ldc), c3 = at(c, 3 * ldc);
  const zero = f32x4.splat(0);
  let s00 = v128.load(c), s01 = V > 1 ? v128.load(c, 16) : zero;
  let s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
  if (R > 1) {
    s10 = v128.load(c1); s20 = v128.load(c2); s30 = v128.load(c3);
    if (V > 1) { s11 = v128.load(c1, 16); s21 = v128.load(c2, 16); s31 = v128.load(c3, 16); }
  }
  const aStep = <usize>aK << 2, bStep = <usize>ldb << 2;
  const row = <usize>aRow << 2;
  let pa = a, pb = b;
  for (let p = 0; p < k; p++) {
    const x0 = v128.load(pb);
    const x1 = V > 1 ? v128.load(pb, 16) : zero;
    let y = v128.load32_splat(pa);
    s00 = madd(y, x0, s00);
    if (V > 1) s01 = madd(y, x1, s01);
    if (R > 1) {
      y = v128.load32_splat(pa + row);
      s10 = madd(y, x0, s10);
      if (V > 1) s11 = madd(y, x1, s11);
      y = v128.load32_splat(pa + 2 * row);
      s20 = madd(y, x0, s20);
      if (V > 1) s21 = madd(y, x1, s21);
      y = v128.load32_splat(pa + 3 * row);
      s30 = madd(y, x0, s30);
      if (V > 1) s31 = madd(y, x1, s31);
    }
    pa += aStep;
    pb += bStep;
  }
  v128.store(c, s00);
  if (V > 1) v128.store(c, s01, 16);
  if (R > 1) {
    v128.store(c1, s10); v128.store(c2, s20); v128.store(c3, s30);
    if (V > 1) { v128.store(c1, s11, 16); v128.store(c2, s21, 16); v128.store(c3, s31, 16); }
  }
}

/** out[j] += sum_i g[i ldg + j] for i < m, j < n: the bias's gradient, rows in order. */
export function columnSums(g: usize, ldg: i32, out: usize, m: i32, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    let s = v128.load(at(out, j));
    for (let i = 0; i < m; i++) s = f32x4.add(s, v128.load(at(g, i * ldg + j)));
    v128.store(at(out, j), s);
  }
  for (; j < n; j++) {
    let s = load<f32>(at(out, j));
    for (let i = 0; i < m; i++) s += load<f32>(at(g, i * ldg + j));
    store<f32>(at(out, j), s);
  }
}

/**
 * dst[i ldd + j] = src[i lds + j] for i < m, j < n: a block of columns of G copied out of the
 * block of logits, so that the gradient products read it from a few cache lines instead of
 * rows a whole vocabulary apart.
 */
export function copyBlock(src: usize, lds: i32, dst: usize, ldd: i32, m: i32, n: i32): void {
  for (let i = 0; i < m; i++) memory.copy(at(dst, i * ldd), at(src, i * lds), <usize>n << 2);
}

/**
 * For the benchmark: n rounds of 12 independent vector multiply-adds, no memory: the most this
 * core issues. 12 chains cover the latency of a multiply followed by an add, about 6 cycles at
 * 2 per cycle (measured on Node 20, AMD EPYC: 10 chains 40, 12 chains 47 GFLOP/s baseline).
 * Returns a sum of the chains so that none is optimised away.
 */
export function maddPeak(n: i32): f32 {
  const x = f32x4.splat(0.999), y = f32x4.splat(1e-3);
  let a0 = y, a1 = y, a2 = y, a3 = y, a4 = y, a5 = y, a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
  for (let i = 0; i < n; i++) {
    a0 = madd(a0, x, y); a1 = madd(a1, x, y); a2 = madd(a2, x, y); a3 = madd(a3, x, y); a4 = madd(a4, x, y); a5 = madd(a5, x, y);
    a6 = madd(a6, x, y); a7 = madd(a7, x, y); a8 = madd(a8, x, y); a9 = madd(a9, x, y); a10 = madd(a10, x, y); a11 = madd(a11, x, y);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}
