// Logit soft-capping (Gemma 2): v = cap * tanh(x / cap), stored once for the passes after it.

import { at, hmax } from '../math/lanes';
import { softcap, softcapScalar } from '../math/tanh';

/**
 * y[i] = cap * tanh(x[i] / cap) for i < n, n >= 1; returns max_i y[i]. y may alias x.
 * tanh is monotonic, but the max is taken of the stored values so that it is exactly
 * one of them (every exp(y[i] - max) <= 1 then holds to the bit).
 */
export function rowSoftcapMax(x: usize, y: usize, n: i32, cap: f32): f32 {
  const vcap = f32x4.splat(cap), vinvCap = f32x4.splat(1 / cap);
  let vm = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = softcap(v128.load(at(x, i)), vcap, vinvCap);
    v128.store(at(y, i), v);
    vm = f32x4.pmax(vm, v);
  }
  let m = hmax(vm);
  const invCap: f32 = 1 / cap;
  for (; i < n; i++) {
    const v = softcapScalar(load<f32>(at(x, i)), cap, invCap);
    store<f32>(at(y, i), v);
    m = max(m, v);
  }
  return m;
}

/** y[i] = cap * tanh(x[i] / cap) for i < n (the kernel behind tests of the tanh). */
export function softcapArray(x: usize, y: usize, n: i32, cap: f32): void {
  rowSoftcapMax(x, y, n, cap);
}
