// Every tunable in one place, with the measurement that chose it.

/**
 * Plain-array inputs are copied into engine memory this many bytes of rows at a time, so
 * that the kernel's passes over a chunk find it in cache right after the copy.
 * Chosen with `npm run bench` (see bench/RESULTS.md).
 */
export const CHUNK_BYTES = 1 << 20;

/** Engine memory at creation, before anything grows it. */
export const INITIAL_MEMORY_BYTES = 4 << 20;

/** docs/API.md's default cap on linear memory. */
export const DEFAULT_MAX_MEMORY_BYTES = 256 << 20;

/**
 * Calls with fewer logit elements than this stay on the calling thread: below it, posting
 * and waiting for a job costs more than the second thread saves. Chosen with `npm run bench`.
 */
export const THREAD_MIN_ELEMENTS = 1 << 16;

/** A worker that has not finished a job by then is taken for dead and the call throws. */
export const WORKER_DEADLINE_MS = 10_000;
export const WORKER_DEADLINE_NS_PER_ELEMENT = 100;

/**
 * A thread waiting for a job, or for a worker to finish one, watches for it this long
 * before sleeping in Atomics.wait, whose wake-up takes tens of microseconds: a job's round
 * trip measured 20-28 us (median) sleeping, 1.2-2.2 us spinning (Node 20, this machine). Short,
 * because a spinning thread takes a core from one that works when the machine is busy: with
 * another process on one of two cores, crossEntropy on 2 threads ran at 0.39-0.57x one
 * thread's speed spinning 0.5 ms, and at 0.77-1.02x spinning 0.05 ms; idle, both gave
 * 1.2-1.6x (interleaved in one process, 4096 x 1000 to 65536 x 10, 2026-12-03).
 */
export const SPIN_MS = 0.05;

/** threads: 'auto' uses the machine's cores, at most this many. */
export const MAX_AUTO_THREADS = 8;

/**
 * The most threads createEngine starts: each worker costs its own V8 isolate (about 8 MB and a
 * few milliseconds to start), and beyond a machine's cores more threads only wait.
 */
export const MAX_THREADS = 64;

/**
 * Threads share a call's rows in blocks of about this many elements, claimed as each thread
 * comes free: small enough that a thread held up (a busy machine, the calling thread's copies)
 * leaves little for the others to wait on, large enough that a claim (an atomic add and a
 * kernel call, well under a microsecond) is lost in the block's work (tens of microseconds).
 */
export const THREAD_BLOCK_ELEMENTS = 1 << 14;

/**
 * linearCrossEntropy computes the logits of this many bytes of rows at a time (whole rows of
 * classes, between LINEAR_MIN_BLOCK_ROWS and LINEAR_MAX_BLOCK_ROWS rows), so that each row's
 * loss and gradient come from one block: its memory beyond inputs and outputs stays about this
 * size, or 16 rows of classes where those are larger (16 MiB at V = 262144). Every block reads
 * the whole head, widening a 16-bit one: with 4-row blocks at V = 262144, a bf16 head's
 * forward ran at 19.5 GFLOP/s against 28.6 with 16 rows (f32 head: 34.6 and 33.8).
 */
export const LINEAR_BLOCK_BYTES = 4 << 20;
export const LINEAR_MIN_BLOCK_ROWS = 16;
export const LINEAR_MAX_BLOCK_ROWS = 64;

/**
 * linearCrossEntropy's products read the head this many bytes of classes at a time, a piece
 * that stays in the L2 cache while every row of a block uses it.
 */
export const LINEAR_HEAD_CHUNK_BYTES = 256 << 10;

/**
 * A block of linearCrossEntropy with fewer multiply-adds than this (rows x classes x dim) stays
 * on the calling thread: each of its steps is a job round trip (a few microseconds) per worker.
 */
export const LINEAR_THREAD_MIN_WORK = 1 << 22;
