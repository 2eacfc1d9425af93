// `xent score`: loss, perplexity, bits per token, accuracy and entropy of saved logits
// against saved class indices, streamed through the engine's evaluate in chunks of rows.
// Memory stays bounded by one chunk whatever the file size: the logits are read with
// positioned reads straight into an engine tensor (float16 and bfloat16 widened on the
// way), and each chunk goes into a streaming evaluator, whose exact sums make the report the
// same, to the bit, as scoring pieces apart and merging their states (--state, xent merge).

import {
  createEngine, summarizeEvaluation, type Engine, type EvaluateResult, type EvaluationState, type Tensor,
} from '../index.js';
import { writeState } from './state.js';
import { integerFlag, parse, threadsFlag } from './args.js';
import { InputError, UsageError } from './errors.js';
import { OpenFile, label, type TensorInfo } from './files.js';
import { num, percent, seconds, shape, table } from './format.js';
import { looksLikeNpy, readNpyHeader } from './npy.js';
import { progressBar } from './progress.js';
import { readSafetensorsHeader } from './safetensors.js';
import { FloatReader, IndexReader, LOGIT_DTYPES, TARGET_DTYPES } from './widen.js';

/**
 * Bytes of float32 logits per chunk: large enough that the per-call overhead vanishes
 * (one call on 16 MiB takes milliseconds), small enough to stay far below the engine's
 * default 256 MiB memory cap together with its per-row outputs.
 */
const CHUNK_BYTES = 16 << 20;

/** Inputs spanning more chunks than this get a progress bar (on a terminal). */
const PROGRESS_MIN_CHUNKS = 4;

export const SCORE_USAGE = `usage: xent score LOGITS [TARGETS] [options]

  LOGITS    .npy or .safetensors: float32, float16 (or bfloat16 in safetensors),
            shape [N, V] or [B, T, V]
  TARGETS   .npy or .safetensors: int32 or int64 class indices, shape [N] or [B, T];
            may be left out when LOGITS is a .safetensors file that holds them too

options:
  --logits-name NAME   tensor of the logits in a .safetensors file (default: logits)
  --target-name NAME   tensor of the targets in a .safetensors file (default: targets, labels)
  --ignore-index I     target value of rows to skip (default: -100)
  --top-k K            also report top-K accuracy
  --segments           also report each batch row of [B, T, V] logits
  --threads N|auto     engine threads (default: 1)
  --chunk-rows R       rows per read (default: about 16 MiB of logits)
  --state FILE         also write the mergeable state of what was scored to FILE
                       (combine pieces scored anywhere with 'xent merge')
  --json               print JSON instead of a table
  -h, --help           show this help`;

/** One tensor of a file, chosen by flag or by the usual names. */
function pickTensor(file: OpenFile, role: 'logits' | 'targets', flag: string, name: string | undefined, defaults: string[]): TensorInfo {
  const first = file.readUpTo(0, 9);
  if (looksLikeNpy(first)) {
    if (name !== undefined) throw new UsageError(`${flag} names a tensor in a .safetensors file, but ${file.path} is a .npy file`);
    return readNpyHeader(file);
  }
  if (!file.path.endsWith('.safetensors') && first[8] !== 0x7b /* { */) {
    throw new InputError(file.path, 'is neither a .npy nor a .safetensors file');
  }
  const tensors = readSafetensorsHeader(file);
  let chosen = name ?? defaults.find((n) => tensors.has(n));
  if (chosen === undefined) {
    // No usual name: the only tensor of a fitting dtype, if there is just one.
    const wanted: readonly string[] = role === 'logits' ? LOGIT_DTYPES : TARGET_DTYPES;
    const fitting = [...tensors.values()].filter((t) => wanted.includes(t.dtype));
    if (fitting.length === 1) chosen = fitting[0]!.name;
  }
  const info = chosen === undefined ? undefined : tensors.get(chosen);
  if (info === undefined) {
    const held = [...tensors.values()].map((t) => `${t.name} (${t.dtype} ${shape(t.shape)})`).join(', ') || 'no tensors';
    const names = chosen === undefined ? defaults.map((n) => `'${n}'`) : [`'${chosen}'`];
    const what = `no tensor named ${names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]}`;
    throw new InputError(file.path, `has ${what}; it holds ${held}; choose one with ${flag}`);
  }
  return info;
}

interface Layout {
  rows: number;
  classes: number;
  /** T of [B, T, V] logits, for per-batch-row reports. */
  rowsPerBatch?: number;
}

function checkShapes(logits: TensorInfo, targets: TensorInfo, bySegments: boolean): Layout {
  const dims = logits.shape;
  if (dims.length !== 2 && dims.length !== 3) {
    throw new InputError(label(logits), `logits have shape ${shape(dims)}, expected [N, V] or [B, T, V]`);
  }
  const classes = dims[dims.length - 1]!;
  if (classes < 1) throw new InputError(label(logits), `logits have shape ${shape(dims)}: no classes`);
  const lead = dims.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const t = targets.shape;
  const fits = (t.length === lead.length && t.every((d, i) => d === lead[i])) || (t.length === 1 && t[0] === rows);
  if (!fits) {
    throw new InputError(
      label(targets),
      `targets have shape ${shape(t)}, which does not match logits ${shape(dims)} in ${label(logits)} ` +
        `(expected ${shape(lead)}${lead.length > 1 ? ` or [${rows}]` : ''})`,
    );
  }
  if (bySegments && dims.length !== 3) {
    throw new InputError(label(logits), `has shape ${shape(dims)}, but --segments reports each batch row of [B, T, V] logits`);
  }
  return { rows, classes, ...(bySegments ? { rowsPerBatch: dims[1]! } : {}) };
}

/** Per batch row of [B, T, V] logits (--segments): float64 sums folded chunk by chunk. */
type BatchRows = Array<{ count: number; logprob: number; correct: number }>;

/** Folds a chunk's per-segment results; its first piece belongs to batch row `first`. */
function addSegments(batchRows: BatchRows, pieces: EvaluateResult['segments'], first: number): void {
  pieces?.forEach((piece, i) => {
    const s = (batchRows[first + i] ??= { count: 0, logprob: 0, correct: 0 });
    if (piece.count === 0) return;
    s.count += piece.count;
    s.logprob += piece.logprob;
    s.correct += Math.round(piece.accuracy * piece.count);
  });
}

/** Offsets [0, ..., n] of the batch rows that rows [r0, r0 + n) touch, each T rows long. */
function segmentOffsets(r0: number, n: number, rowsPerBatch: number): Int32Array {
  const offsets = [0];
  for (let next = (Math.floor(r0 / rowsPerBatch) + 1) * rowsPerBatch - r0; next < n; next += rowsPerBatch) offsets.push(next);
  offsets.push(n);
  return Int32Array.from(offsets);
}

function checkTargets(targets: Int32Array, first: number, classes: number, ignoreIndex: number, where: TensorInfo): void {
  for (let r = 0; r < targets.length; r++) {
    const t = targets[r]!;
    if ((t < 0 || t >= classes) && t !== ignoreIndex) {
      throw new InputError(
        label(where),
        `target[${first + r}] = ${t} is out of range [0, ${classes}) and is not the ignore index (${ignoreIndex})`,
      );
    }
  }
}

export async function score(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    'logits-name': { type: 'string' },
    'target-name': { type: 'string' },
    'ignore-index': { type: 'string' },
    'top-k': { type: 'string' },
    segments: { type: 'boolean' },
    threads: { type: 'string' },
    'chunk-rows': { type: 'string' },
    state: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SCORE_USAGE);
    return 0;
  }
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError(`expected LOGITS and TARGETS files, got ${positionals.length} file names`);
  }
  const ignoreIndex = integerFlag('--ignore-index', values['ignore-index'], -100);
  const topK = values['top-k'] === undefined ? undefined : integerFlag('--top-k', values['top-k'], 1, 1);
  const threads = threadsFlag(values.threads);
  const chunkRowsFlag = values['chunk-rows'] === undefined ? undefined : integerFlag('--chunk-rows', values['chunk-rows'], 1, 1);

  const files: OpenFile[] = [];
  try {
    const logitsFile = OpenFile.open(positionals[0]!);
    files.push(logitsFile);
    const targetsFile = positionals[1] === undefined ? logitsFile : OpenFile.open(positionals[1]);
    if (targetsFile !== logitsFile) files.push(targetsFile);
    const logitsInfo = pickTensor(logitsFile, 'logits', '--logits-name', values['logits-name'], ['logits']);
    if (targetsFile === logitsFile && logitsInfo.name === undefined) {
      throw new UsageError(`${logitsFile.path} is a .npy file, which holds one array: give the TARGETS file too`);
    }
    const targetInfo = pickTensor(targetsFile, 'targets', '--target-name', values['target-name'], ['targets', 'target', 'labels', 'label']);
    const floats = new FloatReader(logitsFile, logitsInfo);
    const indices = new IndexReader(targetsFile, targetInfo);
    const layout = checkShapes(logitsInfo, targetInfo, values.segments === true);
    if (topK !== undefined && topK > layout.classes) {
      throw new InputError(label(logitsInfo), `has ${layout.classes} classes, fewer than --top-k ${topK}`);
    }

    const engine = await createEngine({ threads });
    const { simd, threads: threadCount } = engine.features;
    let scored: Scored;
    const started = performance.now();
    try {
      scored = stream(engine, floats, indices, targetInfo, layout, { ignoreIndex, topK, chunkRows: chunkRowsFlag });
    } finally {
      engine.dispose();
    }
    const elapsed = (performance.now() - started) / 1000;
    if (values.state !== undefined) writeState(values.state, { rows: layout.rows, classes: layout.classes, evaluation: scored.state });
    const describeTensor = (t: TensorInfo) => ({ file: t.file, ...(t.name === undefined ? {} : { tensor: t.name }), dtype: t.dtype, shape: t.shape });
    const bytes = layout.rows * layout.classes * 4;
    const speed = bytes >= 1e7 ? `, ${num(bytes / 1e9 / Math.max(elapsed, 1e-9), 3)} GB/s of float32 logits` : '';
    report(scored.state, layout.rows, {
      json: values.json === true,
      inputs: { logits: describeTensor(logitsInfo), targets: describeTensor(targetInfo) },
      header: [
        ['logits', label(logitsInfo), `${logitsInfo.dtype} ${shape(logitsInfo.shape)}`],
        ['targets', label(targetInfo), `${targetInfo.dtype} ${shape(targetInfo.shape)}`],
      ],
      batchRows: scored.batchRows,
      footer: `${layout.rows} rows x ${layout.classes} classes scored in ${seconds(elapsed)}${speed} ` +
        `(simd ${simd}, ${threadCount} thread${threadCount === 1 ? '' : 's'})`,
    });
    return 0;
  } finally {
    for (const f of files) f.close();
  }
}

interface StreamOptions {
  ignoreIndex: number;
  topK: number | undefined;
  chunkRows: number | undefined;
}

/** What stream returns: the exact evaluation state, and the per batch row sums of --segments. */
interface Scored {
  state: EvaluationState;
  batchRows: BatchRows | undefined;
}

function stream(engine: Engine, floats: FloatReader, indices: IndexReader, targetInfo: TensorInfo, layout: Layout, options: StreamOptions): Scored {
  const { rows, classes, rowsPerBatch } = layout;
  const { ignoreIndex, topK } = options;
  const chunkRows = Math.min(Math.max(1, rows), options.chunkRows ?? Math.max(1, Math.floor(CHUNK_BYTES / (classes * 4))));
  const evaluator = engine.evaluator({ ignoreIndex, ...(topK === undefined ? {} : { topK }) });
  const batchRows: BatchRows | undefined = rowsPerBatch === undefined ? undefined : [];
  const targets = new Int32Array(chunkRows);
  const bar = rows > PROGRESS_MIN_CHUNKS * chunkRows
    ? progressBar(rows, 'scoring |{bar}| {percentage}% | {value}/{total} rows | {speed} MB/s | ETA {eta_formatted}', { speed: '-' })
    : undefined;
  const started = performance.now();
  let logits: Tensor | undefined;
  try {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      if (logits?.rows !== n) {
        logits?.free();
        logits = engine.tensor(n, classes);
      }
      floats.read(r0 * classes, logits.data);
      const t = targets.subarray(0, n);
      indices.read(r0, t);
      checkTargets(t, r0, classes, ignoreIndex, targetInfo);
      // The totals are the evaluator's exact sums: the same bits as any split of the rows
      // into pieces scored apart and merged (xent merge).
      evaluator.add(logits, t);
      if (rowsPerBatch !== undefined) {
        const segments = segmentOffsets(r0, n, rowsPerBatch);
        addSegments(batchRows!, engine.evaluate(logits, t, { ignoreIndex, segments }).segments, Math.floor(r0 / rowsPerBatch));
      }
      const mb = ((r0 + n) * classes * 4) / 1e6 / ((performance.now() - started) / 1000);
      bar?.update(r0 + n, { speed: mb.toFixed(0) });
    }
  } finally {
    logits?.free();
    bar?.stop();
  }
  return { state: evaluator.state(), batchRows };
}

interface ReportContext {
  json: boolean;
  /** What was scored: the inputs' descriptions for JSON, table lines above the metrics. */
  inputs: Record<string, unknown>;
  header: string[][];
  batchRows: BatchRows | undefined;
  footer: string;
}

/** The report of `xent score` and `xent merge`: a table, or JSON. */
export function report(state: EvaluationState, rows: number, ctx: ReportContext): void {
  const summary = summarizeEvaluation(state);
  const { count } = summary;
  const topK = state.topK === null ? undefined : { k: state.topK, accuracy: summary.topKAccuracy! };
  const { topKAccuracy: _, ...metrics } = summary;
  const segments = ctx.batchRows?.map((s, row) => ({
    row,
    loss: -s.logprob / s.count,
    perplexity: Math.exp(-s.logprob / s.count),
    accuracy: s.correct / s.count,
    count: s.count,
    logprob: s.logprob,
  }));

  if (ctx.json) {
    console.log(JSON.stringify({
      ...ctx.inputs,
      ...metrics,
      rows,
      ...(topK === undefined ? {} : { topK }),
      ...(segments === undefined ? {} : { segments }),
    }, null, 2));
    return;
  }

  const ignored = rows - count;
  console.log(table(ctx.header));
  console.log();
  const lines = [
    ['loss', num(summary.loss), 'nats per token'],
    ['perplexity', num(summary.perplexity), ''],
    ['bits per token', num(summary.bitsPerToken), ''],
    ['accuracy', percent(summary.accuracy), `${state.correct} of ${count}`],
    ...(topK === undefined ? [] : [[`top-${topK.k} accuracy`, percent(topK.accuracy), `${state.topKCorrect} of ${count}`]]),
    ['entropy', num(summary.entropy), 'nats per token'],
    ['count', String(count), ignored > 0 ? `${ignored} of ${rows} rows ignored` : 'rows'],
  ];
  console.log(table(lines, [false, true, false]));
  if (segments !== undefined) {
    console.log();
    const head = ['batch row', 'count', 'loss', 'perplexity', 'accuracy', 'log-prob'];
    const body = segments.map((s) => [String(s.row), String(s.count), num(s.loss), num(s.perplexity), percent(s.accuracy), num(s.logprob)]);
    console.log(table([head, ...body], [false, true, true, true, true, true]));
  }
  console.log(`\n${ctx.footer}`);
}
