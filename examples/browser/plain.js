// The contender: cross-entropy forward + backward as one would write it in plain JavaScript,
// over Float32Arrays, with the usual max shift. Mean reduction over rows, like xent's default.

/**
 * Writes d(mean loss)/d(logits) into `grad` and returns the mean loss.
 * logits and grad: rows * classes; target: one class index per row.
 */
export function plainCrossEntropy(logits, target, classes, grad) {
  const rows = target.length;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let m = -Infinity;
    for (let j = 0; j < classes; j++) if (logits[o + j] > m) m = logits[o + j];
    let s = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp(logits[o + j] - m);
      grad[o + j] = e;
      s += e;
    }
    total += m + Math.log(s) - logits[o + target[r]];
    // softmax / rows, minus 1 / rows at the target
    const scale = 1 / (s * rows);
    for (let j = 0; j < classes; j++) grad[o + j] *= scale;
    grad[o + target[r]] -= 1 / rows;
  }
  return total / rows;
}
