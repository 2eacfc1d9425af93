// The float64 totals of per-row and per-element results. Summed on the calling thread rather
// than in the row kernels, whose rows may run on several worker threads and in chunks of any
// size: the order here is fixed by the index alone, so every split gives the same bits. The
// runner sums per-element losses in wasm, in this order (assembly/kernels/sum.ts).

/**
 * sum_i values[i] in float64: value i goes to partial sum i mod 8, and the eight combine as
 * ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)). One chain of dependent additions would wait out
 * the add's latency at every element (measured: 3.6 ns per element with one chain, under 1
 * with four, Node 20).
 */
export function sumOf(values: Float32Array): number {
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
  const n = values.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    l0 += values[i]!;
    l1 += values[i + 1]!;
    l2 += values[i + 2]!;
    l3 += values[i + 3]!;
    l4 += values[i + 4]!;
    l5 += values[i + 5]!;
    l6 += values[i + 6]!;
    l7 += values[i + 7]!;
  }
  // The last n mod 8 values, from a multiple of 8: lanes 0, 1, ... in turn.
  const rest = n - i;
  if (rest > 0) l0 += values[i]!;
  if (rest > 1) l1 += values[i + 1]!;
  if (rest > 2) l2 += values[i + 2]!;
  if (rest > 3) l3 += values[i + 3]!;
  if (rest > 4) l4 += values[i + 4]!;
  if (rest > 5) l5 += values[i + 5]!;
  if (rest > 6) l6 += values[i + 6]!;
  return ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
}
