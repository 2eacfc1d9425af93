// exp over an array: the accuracy test of the exp polynomial, and the floor that the
// benchmark compares the fused kernels against (one exp per element, nothing else).

import { at } from '../math/lanes';
import { K, expAny, expAnyScalar, expMinusScalar, expMinusWith, vconst } from '../math/exp';

/** y[i] = exp(x[i]) for i < n, any x. y may alias x. */
export function vexp(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), expAny(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), expAnyScalar(load<f32>(at(x, i))));
}

/** y[i] = exp(x[i]) for x[i] <= 0, flushed to 0 below -87.34 (the softmax flavour). */
export function vexpMinus(x: usize, y: usize, n: i32): void {
  // The constants in registers, as in the fused kernels (see expMinusWith).
  const log2e = vconst(K.LOG2E), bias = vconst(K.MAGIC_BIAS), hi = vconst(K.MINUS_LN2_HI), lo = vconst(K.MINUS_LN2_LO);
  const c5 = vconst(K.C5), c4 = vconst(K.C4), c3 = vconst(K.C3), c2 = vconst(K.C2), c1 = vconst(K.C1);
  const cutoff = vconst(K.DENORM_CUTOFF);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(y, i), expMinusWith(v128.load(at(x, i)), log2e, bias, hi, lo, c5, c4, c3, c2, c1, cutoff));
  }
  for (; i < n; i++) store<f32>(at(y, i), expMinusScalar(load<f32>(at(x, i))));
}
