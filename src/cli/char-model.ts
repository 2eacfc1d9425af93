// The demo's language model, in plain TypeScript: a character-level MLP in the manner of
// Bengio et al. (2003). Each of the previous `context` characters is looked up in an
// embedding table, the embeddings are concatenated, go through one tanh hidden layer, and a
// linear layer gives one logit per character of the vocabulary:
//
//   x = [E[c1], ..., E[cK]]          (K * D)
//   h = tanh(x W1 + b1)              (H)
//   logits = h W2 + b2               (V)
//
// The loss and its gradient d(loss)/d(logits) come from xent; everything before the logits
// is back-propagated here by hand, and Adam updates the parameters.

export interface ModelSize {
  vocab: number;
  context: number;
  embed: number;
  hidden: number;
}

export class CharMlp {
  readonly size: ModelSize;
  /** All parameters in one array, so that the optimizer sees a single vector. */
  readonly params: Float32Array;
  readonly grads: Float32Array;
  private readonly E: Float32Array;
  private readonly W1: Float32Array;
  private readonly b1: Float32Array;
  private readonly W2: Float32Array;
  private readonly b2: Float32Array;
  // Views of `grads` in the same layout.
  private readonly dE: Float32Array;
  private readonly dW1: Float32Array;
  private readonly db1: Float32Array;
  private readonly dW2: Float32Array;
  private readonly db2: Float32Array;
  // What the backward pass needs from the last forward pass.
  private contexts: Int32Array = new Int32Array(0);
  private x = new Float32Array(0);
  private h = new Float32Array(0);

  constructor(size: ModelSize, random: () => number) {
    this.size = size;
    const { vocab: V, context: K, embed: D, hidden: H } = size;
    const lengths = [V * D, K * D * H, H, H * V, V];
    const total = lengths.reduce((a, b) => a + b, 0);
    this.params = new Float32Array(total);
    this.grads = new Float32Array(total);
    const views = (array: Float32Array) => {
      let at = 0;
      return lengths.map((n) => array.subarray(at, (at += n)));
    };
    [this.E, this.W1, this.b1, this.W2, this.b2] = views(this.params) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    [this.dE, this.dW1, this.db1, this.dW2, this.db2] = views(this.grads) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    // Unit-variance embeddings; weights scaled by 1/sqrt(fan-in) so activations start near unit size.
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    for (let i = 0; i < this.E.length; i++) this.E[i] = gauss();
    for (let i = 0; i < this.W1.length; i++) this.W1[i] = gauss() / Math.sqrt(K * D);
    for (let i = 0; i < this.W2.length; i++) this.W2[i] = gauss() / Math.sqrt(H);
  }

  get parameterCount(): number {
    return this.params.length;
  }

  /** Logits of `rows` examples, each given by its K context characters in `contexts`. */
  forward(contexts: Int32Array, rows: number, logits: Float32Array): void {
    const { vocab: V, context: K, embed: D, hidden: H } = this.size;
    const In = K * D;
    if (this.x.length < rows * In) {
      this.x = new Float32Array(rows * In);
      this.h = new Float32Array(rows * H);
    }
    this.contexts = contexts;
    const { x, h, E, W1, b1, W2, b2 } = this;
    for (let r = 0; r < rows; r++) {
      // x = the K embeddings side by side
      for (let k = 0; k < K; k++) x.set(E.subarray(contexts[r * K + k]! * D, (contexts[r * K + k]! + 1) * D), r * In + k * D);
      // h = tanh(x W1 + b1)
      const hr = h.subarray(r * H, (r + 1) * H);
      hr.set(b1);
      for (let i = 0; i < In; i++) {
        const xi = x[r * In + i]!;
        const w = i * H;
        for (let j = 0; j < H; j++) hr[j]! += xi * W1[w + j]!;
      }
      for (let j = 0; j < H; j++) hr[j] = Math.tanh(hr[j]!);
      // logits = h W2 + b2
      const lr = logits.subarray(r * V, (r + 1) * V);
      lr.set(b2);
      for (let j = 0; j < H; j++) {
        const hj = hr[j]!;
        const w = j * V;
        for (let c = 0; c < V; c++) lr[c]! += hj * W2[w + c]!;
      }
    }
  }

  /** Gradients of every parameter, given d(loss)/d(logits) of the last forward pass. */
  backward(dLogits: Float32Array, rows: number): void {
    const { vocab: V, context: K, embed: D, hidden: H } = this.size;
    const In = K * D;
    const { x, h, W1, W2, dE, dW1, db1, dW2, db2, contexts } = this;
    this.grads.fill(0);
    const dh = new Float64Array(H);
    const dx = new Float64Array(In);
    for (let r = 0; r < rows; r++) {
      const g = dLogits.subarray(r * V, (r + 1) * V);
      // logits = h W2 + b2:  dW2 += h^T g,  db2 += g,  dh = g W2^T
      for (let c = 0; c < V; c++) db2[c]! += g[c]!;
      for (let j = 0; j < H; j++) {
        const hj = h[r * H + j]!;
        const w = j * V;
        let s = 0;
        for (let c = 0; c < V; c++) {
          dW2[w + c]! += hj * g[c]!;
          s += g[c]! * W2[w + c]!;
        }
        // through tanh: d(pre-activation) = dh (1 - h^2)
        dh[j] = s * (1 - hj * hj);
      }
      // h = tanh(x W1 + b1):  dW1 += x^T dh,  db1 += dh,  dx = dh W1^T
      for (let j = 0; j < H; j++) db1[j]! += dh[j]!;
      for (let i = 0; i < In; i++) {
        const xi = x[r * In + i]!;
        const w = i * H;
        let s = 0;
        for (let j = 0; j < H; j++) {
          dW1[w + j]! += xi * dh[j]!;
          s += dh[j]! * W1[w + j]!;
        }
        dx[i] = s;
      }
      // x = [E[c1], ..., E[cK]]: each embedding row collects its slice of dx
      for (let k = 0; k < K; k++) {
        const e = contexts[r * K + k]! * D;
        for (let d = 0; d < D; d++) dE[e + d]! += dx[k * D + d]!;
      }
    }
  }
}

/** Adam (Kingma and Ba, 2015) over one parameter vector. */
export class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(size: number, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    this.t += 1;
    const { m, v, beta1, beta2, eps } = this;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      params[i]! -= (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
  }
}
