// Class-index targets checked where the kernels read them: each in [0, classes) or equal to
// ignoreIndex. Four targets per compare, against about 1 ns per target for the same loop in
// JavaScript, which large calls of few classes (65536 rows of 10) spend a tenth of their time in.

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
