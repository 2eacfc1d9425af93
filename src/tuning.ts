// Every tunable in one place, with the measurement that chose it.

/**
 * Plain-array inputs are copied into engine memory this many bytes of rows at a time, so
 * that the kernel's passes over a chunk find it in cache right after the copy.
 * Chosen with `npm run bench` (see bench/RESULTS.md).
 */
export const CHUNK_BYTES = 1 << 20;

/** Engine memory at creation, before anything grows it. */
export const INITIAL_MEMORY_BYTES = 4 << 20;

/** API.md's default cap on linear memory. */
export const DEFAULT_MAX_MEMORY_BYTES = 256 << 20;
