// exp over an array: the accuracy test of the exp polynomial, and the floor that the
// benchmark compares the fused kernels against (one exp per element, nothing else).

import { at } from '../math/lanes';
import { expAny, expAnyScalar, expMinus, expMinusScalar } from '../math/exp';

/** y[i] = exp(x[i]) for i < n, any x. y may alias x. */
export function vexp(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), expAny(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), expAnyScalar(load<f32>(at(x, i))));
}

/** y[i] = exp(x[i]) for x[i] <= 0, flushed to 0 below -87.34 (the softmax flavour). */
export function vexpMinus(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), expMinus(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), expMinusScalar(load<f32>(at(x, i))));
}
