// How far memory lets two threads go. Each worker copies an array of its own (a read and a
// write per element, as a gradient computed in place has) over and over; the bytes per second
// of two workers copying at once, over one worker's alone, bound the 2-thread speed-up of any
// call that streams N x V arrays through memory rather than computing on them in cache.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (!isMainThread && workerData?.copyFloats !== undefined) {
  const source = new Float32Array(workerData.copyFloats).fill(1);
  const target = new Float32Array(workerData.copyFloats);
  parentPort.on('message', (copies) => {
    const started = performance.now();
    for (let c = 0; c < copies; c++) target.set(source);
    parentPort.postMessage(performance.now() - started);
  });
}

/**
 * The median over `rounds` of (bytes per ms of two workers copying `floats` floats `copies`
 * times each, at once) / (one worker's alone), the two timed in alternation.
 */
export async function copySpeedUp(floats, copies, rounds) {
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { copyFloats: floats } }));
  const copy = (worker) => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(copies);
  });
  try {
    await Promise.all(workers.map(copy)); // warm-up: pages touched, code compiled
    const ratios = [];
    for (let r = 0; r < rounds; r++) {
      const alone = await copy(workers[0]);
      const together = Math.max(...(await Promise.all(workers.map(copy))));
      ratios.push((2 * alone) / together);
    }
    ratios.sort((a, b) => a - b);
    return ratios[rounds >> 1];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
