// Shapes shared by the tests and the benchmarks: one table, so that what is timed is what
// is checked. rows x classes of logits.

/** The benchmark shapes: issue #4's LM vocabularies and small-V classifier, and one row longer than any (#13). */
export const BENCH_SHAPES = [
  { rows: 8, classes: 128256, label: 'Llama 3 vocab' },
  { rows: 64, classes: 32000, label: 'Llama 2 vocab' },
  { rows: 256, classes: 50257, label: 'GPT-2 vocab' },
  { rows: 4096, classes: 1000, label: 'ImageNet classes' },
  { rows: 65536, classes: 10, label: 'small V' },
  { rows: 1, classes: 262144, label: 'one long row' },
];

/**
 * Row lengths around the kernels' unroll (16) and vector width (4): below, equal, above and
 * multiples, plus one class and real vocabulary sizes.
 */
export const TEST_CLASSES = [1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 32, 33, 64, 100, 1000, 1023, 1025, 32000, 128256];
