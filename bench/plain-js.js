// The best plain-JavaScript cross-entropy (and binary cross-entropy) we could write: float32
// storage, Math.exp, no allocation in the loop. The baseline that says what WebAssembly SIMD buys
// over JavaScript.

/**
 * Three passes per row: max, exp-and-sum storing the terms, scale.
 * Mean cross-entropy of rows x classes logits against class indices; writes
 * d(loss)/d(logits) to grad when given.
 * @param {Float32Array} logits
 * @param {Int32Array} target
 * @param {number} classes
 * @param {Float32Array} [grad]
 */
export function plainCrossEntropy(logits, target, classes, grad) {
  const rows = target.length;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let j = base; j < base + classes; j++) if (logits[j] > max) max = logits[j];
    let sum = 0;
    if (grad) {
      for (let j = base; j < base + classes; j++) sum += grad[j] = Math.exp(logits[j] - max);
    } else {
      for (let j = base; j < base + classes; j++) sum += Math.exp(logits[j] - max);
    }
    const logSum = Math.log(sum);
    total += max - logits[base + target[r]] + logSum;
    if (grad) {
      const scale = 1 / (sum * rows);
      for (let j = base; j < base + classes; j++) grad[j] *= scale;
      grad[base + target[r]] -= 1 / rows;
    }
  }
  return total / rows;
}

/**
 * Mean binary cross-entropy with logits over all elements against targets in [0, 1], one pass:
 * max(x, 0) - x t + log(1 + exp(-|x|)); writes d(loss)/d(logits) = (sigmoid(x) - t) / n to grad
 * when given.
 * @param {Float32Array} logits
 * @param {Float32Array} target
 * @param {Float32Array} [grad]
 */
export function plainBinaryCrossEntropy(logits, target, grad) {
  const n = logits.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i], t = target[i];
    const e = Math.exp(-Math.abs(x));
    total += Math.max(x, 0) - x * t + Math.log1p(e);
    if (grad) grad[i] = ((x >= 0 ? 1 : e) / (1 + e) - t) / n;
  }
  return total / n;
}
