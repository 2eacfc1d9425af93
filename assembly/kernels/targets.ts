// Targets checked in wasm, four to a compare, where a JavaScript loop costs about 1 ns per
// value here: class indices (crossEntropy; large calls of few classes, 65536 rows of 10, spent
// a tenth of their time on them) and probabilities (binaryCrossEntropy and sigmoidFocalLoss,
// one per logit).

import { at } from '../math/lanes';

/**
 * The number of the `rows` targets other than ignoreIndex, when each of them is in
 * [0, classes); else -1 - r for the first row r whose target is neither.
 */
export function countClassTargets(target: usize, rows: i32, classes: i32, ignoreIndex: i32): i32 {
  const vclasses = i32x4.splat(classes), vignore = i32x4.splat(ignoreIndex);
  // Lanes of -1 (true) and 0: subtracting a mask counts its true lanes.
  let ignored = i32x4.splat(0);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const t = v128.load(at(target, r));
    const skip = i32x4.eq(t, vignore);
    if (!v128.all_true<i32>(v128.or(i32x4.lt_u(t, vclasses), skip))) break;
    ignored = i32x4.sub(ignored, skip);
  }
  let count = r - (i32x4.extract_lane(ignored, 0) + i32x4.extract_lane(ignored, 1)
                 + i32x4.extract_lane(ignored, 2) + i32x4.extract_lane(ignored, 3));
  for (; r < rows; r++) {
    const t = load<i32>(at(target, r));
    if (t == ignoreIndex) continue;
    if (<u32>t >= <u32>classes) return -1 - r;
    count++;
  }
  return count;
}

/** The index of the first of the n values of x outside [0, 1] (NaN included), or -1. */
export function firstOutsideUnit(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = at(x, i);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    // ge and le are false for NaN: a NaN fails the check as a value outside does.
    const inside = v128.and(
      v128.and(v128.and(f32x4.ge(a, zero), f32x4.le(a, one)), v128.and(f32x4.ge(b, zero), f32x4.le(b, one))),
      v128.and(v128.and(f32x4.ge(c, zero), f32x4.le(c, one)), v128.and(f32x4.ge(d, zero), f32x4.le(d, one))),
    );
    if (!v128.all_true<i32>(inside)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (!(v >= 0 && v <= 1)) return i;
  }
  return -1;
}
