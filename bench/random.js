// The seeded generator of the benchmark and the tests (test/support/data.ts): mulberry32,
// whose whole state is one 32-bit integer updated with integer operations, so it never leaves
// the integers (a linear congruential step in doubles does, past 2^53, and then cycles early).

/**
 * Uniform numbers in [0, 1) from a seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
