// A minimal app that imports xent the way an application does. `vite build` sees the literal
// `new URL('../build/xent….wasm', import.meta.url)` expressions in xent's loader, emits each
// build as a hashed asset and rewrites the URLs; at run time the engine streams the one it needs.

import { createEngine } from 'xent';
import * as reference from 'xent/reference';

const result = document.querySelector<HTMLElement>('#result')!;

try {
  const engine = await createEngine();
  const classes = 4;
  const logits = new Float32Array([2, -1, 0.5, 0.25, -0.5, 1.5, 3, 0, 1, 1, 1, 1]);
  const target = new Int32Array([0, 2, 3]);
  const got = engine.crossEntropy(logits, target, { classes, grad: true, labelSmoothing: 0.1 });
  const want = reference.crossEntropy(logits, target, { classes, grad: true, labelSmoothing: 0.1 });
  // Two threads where the page is cross-origin isolated (the server sends COOP/COEP): the worker
  // script is bundled by Vite as its own asset. They give one thread's bits.
  const threaded = await createEngine({ threads: 2 });
  const got2 = threaded.crossEntropy(logits, target, { classes, grad: true, labelSmoothing: 0.1 });
  document.querySelector('#features')!.textContent = `SIMD: ${engine.features.simd}, threads: ${threaded.features.threads}`;
  result.textContent = JSON.stringify(
    {
      features: engine.features,
      threadedFeatures: threaded.features,
      threadedSame: got2.loss === got.loss && got2.grad!.every((g, i) => Object.is(g, got.grad![i])),
      loss: got.loss,
      losses: Array.from(got.losses),
      grad: Array.from(got.grad!),
      referenceLoss: want.loss,
      softmax: Array.from(engine.softmax(logits, { classes })),
    },
    null,
    2,
  );
  result.dataset.status = 'ok';
} catch (error) {
  result.textContent = String((error as Error).stack ?? error);
  result.dataset.status = 'error';
}
