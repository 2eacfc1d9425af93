// The float64 total of per-element losses, in the order src/ops/sum.ts's sumOf fixes: value i of
// the whole array goes to lane i mod 8, each lane adds in index order, and the lanes combine as
// ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)). The lanes stay in memory between calls, so an
// array summed chunk by chunk, as the runner copies it out, gets the bits of one sumOf over it
// (a JavaScript loop took 0.6-0.8 ns per value here; this takes a fraction, on data in cache).

import { at } from '../math/lanes';

/**
 * Adds values[0 .. n), which are elements first .. first + n of the whole array, to the eight
 * f64 lanes at `lanes`, and returns the lanes' total.
 */
export function sumLanes(values: usize, n: i32, first: i32, lanes: usize): f64 {
  let i = 0;
  for (; i < n && ((first + i) & 7) != 0; i++) addToLane(lanes, first + i, load<f32>(at(values, i)));
  let a = v128.load(lanes), b = v128.load(lanes, 16), c = v128.load(lanes, 32), d = v128.load(lanes, 48);
  for (; i + 8 <= n; i += 8) {
    const low = v128.load(at(values, i)), high = v128.load(at(values, i), 16);
    a = f64x2.add(a, f64x2.promote_low_f32x4(low));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(low, low, 2, 3, 2, 3)));
    c = f64x2.add(c, f64x2.promote_low_f32x4(high));
    d = f64x2.add(d, f64x2.promote_low_f32x4(v128.shuffle<f32>(high, high, 2, 3, 2, 3)));
  }
  v128.store(lanes, a);
  v128.store(lanes, b, 16);
  v128.store(lanes, c, 32);
  v128.store(lanes, d, 48);
  for (; i < n; i++) addToLane(lanes, first + i, load<f32>(at(values, i)));
  return ((load<f64>(lanes) + load<f64>(lanes, 8)) + (load<f64>(lanes, 16) + load<f64>(lanes, 24)))
    + ((load<f64>(lanes, 32) + load<f64>(lanes, 40)) + (load<f64>(lanes, 48) + load<f64>(lanes, 56)));
}

// @ts-ignore: decorator
@inline function addToLane(lanes: usize, index: i32, value: f32): void {
  const p = lanes + (<usize>(index & 7) << 3);
  store<f64>(p, load<f64>(p) + <f64>value);
}
