// The streaming evaluator: evaluate's totals kept across any number of batches, as a state
// that is a plain object (JSON and postMessage keep it whole) and merges with others. The sums
// are exact (exact-sum.ts) and the counts integers, so for the same rows the result has the
// same bits whatever the split into batches, engines, threads, processes or machines, and
// whatever the order of merging; and the same bits as evaluate on all the rows at once.

import { XentError } from '../errors.js';
import { ExactSum, isExactSumState } from '../exact-sum.js';
import { DEFAULT_IGNORE_INDEX, checkOptionKeys, describe, integerOption } from '../options.js';
import type { EvaluationResult, EvaluationState, EvaluatorOptions, EvaluatorAddOptions } from '../types.js';
import { RowTotals, scoreRows, summaryOf } from './evaluate.js';
import { fromTensorLike, type EngineContext, type Logits, type TensorLike } from './logits.js';

/** What a state says it is: states of another format or version are refused, never misread. */
const FORMAT = 'xent-evaluation';
const VERSION = 1;

export const EVALUATOR_OPTIONS = ['ignoreIndex', 'topK'] as const;
export const EVALUATOR_ADD_OPTIONS = ['classes', 'dtype', 'sequenceLength', 'shift', 'attentionMask'] as const;

export class Evaluator {
  readonly #call: <T>(operation: (ctx: EngineContext) => T) => T;
  readonly #ignoreIndex: number;
  readonly #topK: number | undefined;
  readonly #totals = new RowTotals();

  /** @internal use engine.evaluator */
  constructor(call: <T>(operation: (ctx: EngineContext) => T) => T, options: EvaluatorOptions = {}) {
    checkOptionKeys('evaluator', options, EVALUATOR_OPTIONS);
    this.#call = call;
    this.#ignoreIndex = integerOption('evaluator', 'ignoreIndex', options.ignoreIndex, DEFAULT_IGNORE_INDEX);
    const k = options.topK;
    if (k !== undefined && (typeof k !== 'number' || !Number.isInteger(k) || k < 1)) {
      throw new XentError('BAD_OPTION', `evaluator: topK must be an integer >= 1, got ${describe(k)}`);
    }
    this.#topK = k;
  }

  /** Rows scored so far (not ignored, shifted away or masked). */
  get count(): number {
    return this.#totals.count;
  }

  /** Scores a batch of any size; see evaluate for logits, target and the sequence options. */
  add(logits: Logits | Uint16Array | TensorLike, target: Int32Array | number[], options: EvaluatorAddOptions = {}): this {
    checkOptionKeys('evaluator.add', options, EVALUATOR_ADD_OPTIONS);
    const [x, o] = fromTensorLike('evaluator.add', logits, options, { halves: true, sequences: true });
    const scored = this.#call((ctx) => scoreRows('evaluator.add', ctx, x, target, {
      ...o, ignoreIndex: this.#ignoreIndex, topK: this.#topK,
    }));
    this.#totals.add(scored);
    return this;
  }

  /** Adds the rows of another evaluator's state (same topK). */
  merge(state: EvaluationState): this {
    const other = readState('evaluator.merge', state);
    if (other.topK !== (this.#topK ?? null)) {
      throw new XentError('BAD_OPTION', `evaluator.merge: the state was made with topK ${other.topK ?? 'unset'}, this evaluator has topK ${this.#topK ?? 'unset'}`);
    }
    addState(this.#totals, other);
    return this;
  }

  result(): EvaluationResult {
    return summarizeEvaluation(this.state());
  }

  state(): EvaluationState {
    const t = this.#totals;
    return {
      format: FORMAT, version: VERSION, topK: this.#topK ?? null,
      count: t.count, correct: t.correct, topKCorrect: t.topKCorrect,
      nll: t.nll.state(), entropy: t.entropy.state(),
    };
  }
}

/** The states' rows as one state, in any order (no engine needed). */
export function mergeEvaluations(states: EvaluationState[]): EvaluationState {
  if (!Array.isArray(states) || states.length === 0) {
    throw new XentError('BAD_OPTION', `mergeEvaluations: expected a non-empty array of evaluation states, got ${describe(states)}`);
  }
  const parts = states.map((s, i) => readState(`mergeEvaluations: states[${i}]`, s));
  const topK = parts[0]!.topK;
  const totals = new RowTotals();
  parts.forEach((p, i) => {
    if (p.topK !== topK) {
      throw new XentError('BAD_OPTION', `mergeEvaluations: states[${i}] has topK ${p.topK ?? 'unset'}, states[0] has ${topK ?? 'unset'}`);
    }
    addState(totals, p);
  });
  return {
    format: FORMAT, version: VERSION, topK,
    count: totals.count, correct: totals.correct, topKCorrect: totals.topKCorrect,
    nll: totals.nll.state(), entropy: totals.entropy.state(),
  };
}

/** What evaluator.result() returns, from a state (no engine needed). */
export function summarizeEvaluation(state: EvaluationState): EvaluationResult {
  const s = readState('summarizeEvaluation', state);
  const nll = new ExactSum(), entropy = new ExactSum();
  nll.merge(s.nll);
  entropy.merge(s.entropy);
  const summary: EvaluationResult = summaryOf({ count: s.count, correct: s.correct, nll: nll.value(), entropy: entropy.value() });
  if (s.topK !== null) summary.topKAccuracy = s.topKCorrect / s.count;
  return summary;
}

function addState(totals: RowTotals, state: EvaluationState): void {
  totals.count += state.count;
  totals.correct += state.correct;
  totals.topKCorrect += state.topKCorrect;
  totals.nll.merge(state.nll);
  totals.entropy.merge(state.entropy);
}

/** A state checked field by field: a corrupted or foreign one is an error, never a wrong number. */
function readState(where: string, value: unknown): EvaluationState {
  const bad = (why: string): never => {
    throw new XentError('BAD_OPTION', `${where}: not an evaluation state of this version of xent (${why})`);
  };
  if (value === null || typeof value !== 'object') return bad(`got ${describe(value)}`);
  const s = value as Record<string, unknown>;
  if (s.format !== FORMAT) return bad(`format is ${describe(s.format)}, expected '${FORMAT}'`);
  if (s.version !== VERSION) return bad(`version is ${describe(s.version)}, expected ${VERSION}`);
  if (s.topK !== null && !(Number.isInteger(s.topK) && (s.topK as number) >= 1)) return bad(`topK is ${describe(s.topK)}`);
  for (const key of ['count', 'correct', 'topKCorrect'] as const) {
    if (!Number.isSafeInteger(s[key]) || (s[key] as number) < 0) return bad(`${key} is ${describe(s[key])}`);
  }
  if ((s.correct as number) > (s.count as number) || (s.topKCorrect as number) > (s.count as number)) return bad('more correct rows than rows');
  if (!isExactSumState(s.nll)) return bad('nll is not an exact sum');
  if (!isExactSumState(s.entropy)) return bad('entropy is not an exact sum');
  return value as EvaluationState;
}

