// `xent score-model`: runs a character-level causal language model (ONNX, through
// onnxruntime-node) over a text and scores it: the text is cut into windows of T characters,
// B windows go through the model at a time, and each output ort.Tensor [B, T, V] goes as it is
// into the engine's streaming evaluator with `shift: true` (position t is scored against the
// character at t + 1 of its window). The report is `xent score`'s.
//
// onnxruntime-node is an optional peer dependency: imported only here, when the command runs.

import type * as Ort from 'onnxruntime-node';
import { createEngine, type Engine, type EvaluationState, type Evaluator } from '../index.js';
import { integerFlag, parse, threadsFlag } from './args.js';
import { InputError, UsageError } from './errors.js';
import { OpenFile } from './files.js';
import { num, printable, seconds, shape } from './format.js';
import { progressBar } from './progress.js';
import { report } from './score.js';
import { writeState } from './state.js';

export const SCORE_MODEL_USAGE = `usage: xent score-model MODEL.onnx TEXT [options]

  MODEL.onnx  a character-level causal language model: one input, int64 token ids [B, T];
              one output (or one named 'logits'), float32 or float16 logits [B, T, V]
  TEXT        a UTF-8 text file; every character must be in the model's vocabulary

The vocabulary comes from MODEL.json beside the model (as scripts/make-model.py writes it):
{ "vocabulary": "<the V characters, in id order>", "context": <longest T the model takes> }.
The text is cut into consecutive windows of T characters (the last one shorter); each
character after the first of its window is scored given the ones before it.

options:
  --vocab FILE         the JSON with the vocabulary (default: MODEL.json)
  --window T           characters per window (default: the model's context)
  --batch B            windows per run of the model (default: 16)
  --top-k K            also report top-K accuracy
  --threads N|auto     engine threads (default: 1)
  --state FILE         also write the mergeable state of what was scored to FILE
  --json               print JSON instead of a table
  -h, --help           show this help`;

const DEFAULT_BATCH = 16;

/** A vocabulary file larger than this is not one of ours (a character model's is a few KB). */
const MAX_VOCAB_BYTES = 1 << 20;

interface Vocabulary {
  file: string;
  /** The characters, id order. */
  chars: string[];
  context: number;
}

export async function scoreModel(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    vocab: { type: 'string' },
    window: { type: 'string' },
    batch: { type: 'string' },
    'top-k': { type: 'string' },
    threads: { type: 'string' },
    state: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SCORE_MODEL_USAGE);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`expected MODEL.onnx and TEXT, got ${positionals.length} file names`);
  const [modelPath, textPath] = positionals as [string, string];
  const vocab = readVocabulary(values.vocab ?? modelPath.replace(/(\.onnx)?$/, '.json'));
  const window = integerFlag('--window', values.window, vocab.context, 2, vocab.context);
  const batch = integerFlag('--batch', values.batch, DEFAULT_BATCH, 1, 4096);
  const topK = values['top-k'] === undefined ? undefined : integerFlag('--top-k', values['top-k'], 1, 1, vocab.chars.length);
  const threads = threadsFlag(values.threads);
  const ids = encode(textPath, vocab);

  const ort = await loadOrt(modelPath);
  const model = await openModel(ort, modelPath, vocab);
  const engine = await createEngine({ threads });
  const { simd, threads: threadCount } = engine.features;
  const started = performance.now();
  let state: EvaluationState;
  try {
    state = await run(ort, model, engine, ids, { window, batch, topK, classes: vocab.chars.length });
  } finally {
    engine.dispose();
    await model.session.release();
  }
  const elapsed = (performance.now() - started) / 1000;
  if (values.state !== undefined) writeState(values.state, { rows: ids.length, classes: vocab.chars.length, evaluation: state });
  const windows = Math.ceil(ids.length / window);
  report(state, ids.length, {
    json: values.json === true,
    inputs: { model: modelPath, vocabulary: vocab.file, text: textPath, characters: ids.length, window, windows },
    header: [
      ['model', modelPath, `${model.input} -> ${model.output}, V = ${vocab.chars.length} (${vocab.file})`],
      ['text', textPath, `${ids.length} characters in ${windows} windows of ${window}`],
    ],
    batchRows: undefined,
    footer: `${ids.length} characters run through the model and scored in ${seconds(elapsed)}, ` +
      `${num(ids.length / Math.max(elapsed, 1e-9), 3)} characters/s (simd ${simd}, ${threadCount} thread${threadCount === 1 ? '' : 's'})`,
  });
  return 0;
}

function readVocabulary(path: string): Vocabulary {
  const file = OpenFile.open(path);
  let json: unknown;
  try {
    if (file.size > MAX_VOCAB_BYTES) throw new InputError(path, `is ${file.size} bytes, too large for a vocabulary file (at most ${MAX_VOCAB_BYTES})`);
    json = JSON.parse(new TextDecoder().decode(file.readUpTo(0, file.size)));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, `is not JSON (${(error as Error).message}); expected the model's { "vocabulary": ..., "context": ... }`);
  } finally {
    file.close();
  }
  const { vocabulary, context } = (json ?? {}) as { vocabulary?: unknown; context?: unknown };
  const chars = typeof vocabulary === 'string' ? [...vocabulary] : [];
  if (chars.length === 0 || new Set(chars).size !== chars.length) {
    throw new InputError(path, 'needs "vocabulary": a non-empty string of distinct characters, in the order of the model\'s ids');
  }
  if (typeof context !== 'number' || !Number.isSafeInteger(context) || context < 2) {
    throw new InputError(path, `needs "context": the longest sequence the model takes, an integer >= 2; got ${printable(JSON.stringify(context) ?? 'nothing')}`);
  }
  return { file: path, chars, context };
}

/** The text's characters as ids; one outside the vocabulary is refused with its position. */
function encode(path: string, vocab: Vocabulary): Int32Array {
  const file = OpenFile.open(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.readUpTo(0, file.size));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, 'is not UTF-8 text');
  } finally {
    file.close();
  }
  const index = new Map(vocab.chars.map((c, i) => [c, i]));
  const chars = [...text];
  if (chars.length < 2) throw new InputError(path, `has ${chars.length} characters; scoring needs at least 2`);
  const ids = new Int32Array(chars.length);
  for (let i = 0; i < chars.length; i++) {
    const id = index.get(chars[i]!);
    if (id === undefined) {
      const c = chars[i]!;
      throw new InputError(
        path,
        `character ${printable(JSON.stringify(c))} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at character ${i} ` +
          `is not in the model's vocabulary of ${vocab.chars.length} characters (${vocab.file})`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

type OrtModule = typeof Ort;

async function loadOrt(modelPath: string): Promise<OrtModule> {
  try {
    // A variable specifier keeps bundlers and tsc from resolving the optional peer dependency.
    const name = 'onnxruntime-node';
    return (await import(name)) as OrtModule;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    throw new InputError(
      modelPath,
      missing ? 'running an ONNX model needs onnxruntime-node, which is not installed: npm install onnxruntime-node'
        : `onnxruntime-node did not load: ${firstLine(error)}`,
    );
  }
}

interface Model {
  session: Ort.InferenceSession;
  input: string;
  output: string;
  path: string;
}

async function openModel(ort: OrtModule, path: string, vocab: Vocabulary): Promise<Model> {
  // The file is checked by OpenFile first, so that a missing one gets the same words as elsewhere.
  OpenFile.open(path).close();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path);
  } catch (error) {
    throw new InputError(path, `does not load as an ONNX model: ${firstLine(error)}`);
  }
  const expected = `expected one int64 input [B, T] and float logits [B, T, ${vocab.chars.length}]`;
  if (session.inputNames.length !== 1) {
    throw new InputError(path, `has inputs ${session.inputNames.join(', ')}; ${expected}`);
  }
  const output = session.outputNames.length === 1 ? session.outputNames[0]! : session.outputNames.find((n) => n === 'logits');
  if (output === undefined) throw new InputError(path, `has outputs ${session.outputNames.join(', ')} and none named 'logits'; ${expected}`);
  const input = session.inputNames[0]!;
  // The declared types, where the runtime reports them; the shapes are checked on the first run.
  const inputMeta = session.inputMetadata?.find((m) => m.name === input);
  if (inputMeta?.isTensor && inputMeta.type !== 'int64') {
    throw new InputError(path, `input '${input}' is ${inputMeta.type} ${shape(inputMeta.shape as number[])}; ${expected}`);
  }
  return { session, input, output, path };
}

interface RunOptions {
  window: number;
  batch: number;
  topK: number | undefined;
  classes: number;
}

async function run(ort: OrtModule, model: Model, engine: Engine, ids: Int32Array, options: RunOptions): Promise<EvaluationState> {
  const { window, batch, classes } = options;
  const evaluator = engine.evaluator(options.topK === undefined ? {} : { topK: options.topK });
  const bar = progressBar(ids.length, 'scoring |{bar}| {percentage}% | {value}/{total} characters | ETA {eta_formatted}');
  try {
    // Full windows B at a time, then the shorter last window alone: every run is [B, T].
    const full = Math.floor(ids.length / window);
    for (let w = 0; w < full; w += batch) {
      const b = Math.min(batch, full - w);
      await runBatch(ort, model, evaluator, ids.subarray(w * window, (w + b) * window), b, window, classes);
      bar?.update((w + b) * window);
    }
    const rest = ids.length - full * window;
    if (rest > 0) await runBatch(ort, model, evaluator, ids.subarray(full * window), 1, rest, classes);
    bar?.update(ids.length);
  } finally {
    bar?.stop();
  }
  return evaluator.state();
}

async function runBatch(
  ort: OrtModule, model: Model, evaluator: Evaluator,
  ids: Int32Array, b: number, t: number, classes: number,
): Promise<void> {
  const input = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [b, t]);
  let logits: Ort.Tensor | undefined;
  try {
    logits = (await model.session.run({ [model.input]: input }))[model.output] as Ort.Tensor | undefined;
  } catch (error) {
    throw new InputError(model.path, `failed on input ids [${b}, ${t}]: ${firstLine(error)}`);
  }
  const dims = logits?.dims ?? [];
  const fits = dims.length === 3 && dims[0] === b && dims[1] === t && dims[2] === classes;
  if (logits === undefined || !fits || (logits.type !== 'float32' && logits.type !== 'float16')) {
    throw new InputError(
      model.path,
      `output '${model.output}' is ${logits?.type ?? 'not a tensor'} ${shape(dims)} for input ids [${b}, ${t}]; ` +
        `expected float32 or float16 logits [${b}, ${t}, ${classes}]`,
    );
  }
  // The ort.Tensor as it is: xent reads its data, dims and type (tensor-like logits).
  evaluator.add(logits, ids, { shift: true });
  logits.dispose();
}

function firstLine(error: unknown): string {
  return printable(String((error as Error)?.message ?? error).split('\n')[0]!, 200);
}
