// The public option and result types of docs/API.md. Results are generic in their array type:
// the engine returns Float32Array, the float64 reference Float64Array.

import type { ExactSumState } from './exact-sum.js';
import type { Reduction } from './options.js';

export type { Reduction };

export interface ClassesOption {
  /** Values per row; needed for a flat array, checked against a tensor's columns. */
  classes?: number;
}

export interface DtypeOption {
  /** 'f16' / 'bf16': the logits are a Uint16Array of half-precision bits. Default 'f32'. */
  dtype?: 'f32' | 'f16' | 'bf16';
}

export interface GradOptions {
  /** false (default), true (a new array), 'inplace' (over the logits) or an array to fill. */
  grad?: boolean | 'inplace' | Float32Array;
  /** Multiplies the gradient; default 1. */
  gradScale?: number;
}

/**
 * What a result holds for sure, given the options it was asked with: `grad` when a gradient
 * was requested (true, 'inplace' or an array); nothing more when that is not known.
 */
export type GradOf<O> = O extends { grad: true | 'inplace' | Float32Array } ? { grad: Float32Array } : unknown;

export interface SoftmaxOptions<Out = Float32Array> extends ClassesOption, DtypeOption {
  temperature?: number;
  out?: Out;
}

/** What crossEntropy and linearCrossEntropy ask of the loss itself. */
export interface CrossEntropyLossOptions {
  reduction?: Reduction;
  ignoreIndex?: number;
  /** Class weights, length classes. */
  weight?: Float32Array;
  labelSmoothing?: number;
  zLoss?: number;
  softcap?: number;
}

export interface CrossEntropyOptions extends ClassesOption, GradOptions, DtypeOption, CrossEntropyLossOptions {}

export interface CrossEntropyResult<A = Float32Array> {
  /** The reduced loss, z-loss included. */
  loss: number;
  /** Per row: PyTorch's reduction='none' loss plus the row's z-loss; 0 for ignored rows. */
  losses: A;
  /** Per row log-sum-exp of the (soft-capped) logits; 0 for ignored rows. */
  lse: A;
  /** The z-loss part of `loss`. */
  zLoss: number;
  /** Rows not ignored. */
  count: number;
  grad?: Float32Array | A;
}

export const CROSS_ENTROPY_OPTIONS = [
  'classes', 'reduction', 'ignoreIndex', 'weight', 'labelSmoothing', 'zLoss', 'softcap', 'grad', 'gradScale', 'dtype',
] as const;

/** binaryCrossEntropy: torch.nn.functional.binary_cross_entropy_with_logits. */
export interface BinaryCrossEntropyOptions<W = Float32Array> extends ClassesOption, GradOptions {
  /** 'mean' (default, over all elements) or 'sum'. */
  reduction?: Reduction;
  /** Per element: the logits' length. */
  weight?: W;
  /** Weight of the positive term: one number, or one per class (length classes; needs classes). */
  posWeight?: number | W;
}

/** sigmoidFocalLoss: torchvision.ops.sigmoid_focal_loss. */
export interface SigmoidFocalLossOptions extends ClassesOption, GradOptions {
  /** Weight of the positives, in [0, 1]; negative disables the weighting. Default 0.25. */
  alpha?: number;
  /** Focusing exponent, >= 0. Default 2. */
  gamma?: number;
  /** 'mean' (default, over all elements) or 'sum'. */
  reduction?: Reduction;
}

export type KlReduction = 'batchmean' | 'sum';

/** klDivergence: KL(softmax(teacher / T) || softmax(student / T)) per row. */
export interface KlDivergenceOptions extends ClassesOption, GradOptions {
  /** Default 1; no T^2 factor is applied. */
  temperature?: number;
  /** 'batchmean' (default: sum / rows) or 'sum'. */
  reduction?: KlReduction;
}

/** What binaryCrossEntropy, sigmoidFocalLoss and klDivergence return. */
export interface LossResult<A = Float32Array> {
  /** The reduced loss. */
  loss: number;
  /** Unreduced, as PyTorch's reduction='none': per element, or per row for klDivergence. */
  losses: A;
  grad?: Float32Array | A;
}

export type BinaryCrossEntropyResult<A = Float32Array> = LossResult<A>;
export type SigmoidFocalLossResult<A = Float32Array> = LossResult<A>;
export type KlDivergenceResult<A = Float32Array> = LossResult<A>;

/** Causal language models: the rows are B sequences of T positions. */
export interface SequenceOptions {
  /** T; taken from the dims of [B, T, V] tensor-likes. Default: all rows are one sequence. */
  sequenceLength?: number;
  /** Row (b, t) is scored against target (b, t + 1), which holds the input ids; the last position of each sequence is not. */
  shift?: boolean;
  /** [B, T] of 0 and 1: a target position whose mask is 0 is not scored. */
  attentionMask?: Int32Array | Uint8Array | BigInt64Array | number[];
}

export interface EvaluateOptions extends ClassesOption, DtypeOption, SequenceOptions {
  /** Rows whose target is this are not counted. Default -100. */
  ignoreIndex?: number;
  /** Also return the k most likely classes of every row; an integer in [1, classes]. */
  topK?: number;
  /** Row offsets [0, s1, ..., rows], non-decreasing (a repeated offset is an empty segment). */
  segments?: Int32Array | number[];
}

export interface EvaluateSegment {
  /** Mean negative log-likelihood over the segment's counted rows (NaN when there are none). */
  loss: number;
  perplexity: number;
  accuracy: number;
  count: number;
  /** Sum of the counted rows' target log-probabilities (0 when there are none). */
  logprob: number;
}

export interface EvaluateResult<A = Float32Array> {
  /** Mean negative log-likelihood over counted rows, nats (NaN when no row counts). */
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  /** Share of counted rows whose argmax is the target. */
  accuracy: number;
  /** Mean predictive entropy over counted rows, nats. */
  entropy: number;
  count: number;
  /** Per row; ignored rows have nll 0 and their entropy and argmax like any other row. */
  rows: { nll: A; entropy: A; argmax: Int32Array };
  /** rows * k, most likely first (ties: lowest index). */
  topK?: { k: number; indices: Int32Array; logprobs: A };
  segments?: EvaluateSegment[];
}

/** evaluate's `topK` and `segments` results, present for sure when they were asked for. */
export type EvaluateExtrasOf<O> = (O extends { topK: number } ? { topK: NonNullable<EvaluateResult['topK']> } : unknown) &
  (O extends { segments: Int32Array | number[] } ? { segments: EvaluateSegment[] } : unknown);

export const BINARY_CROSS_ENTROPY_OPTIONS = ['classes', 'reduction', 'weight', 'posWeight', 'grad', 'gradScale'] as const;
export const SIGMOID_FOCAL_LOSS_OPTIONS = ['classes', 'alpha', 'gamma', 'reduction', 'grad', 'gradScale'] as const;
export const KL_DIVERGENCE_OPTIONS = ['classes', 'temperature', 'reduction', 'grad', 'gradScale'] as const;
export const EVALUATE_OPTIONS = [
  'classes', 'dtype', 'ignoreIndex', 'topK', 'segments', 'sequenceLength', 'shift', 'attentionMask',
] as const;

/** logProbs: the log-probabilities of k given classes per row. */
export interface LogProbsOptions extends ClassesOption, DtypeOption {
  /** An id equal to this pads a ragged list; its log-prob is -Infinity. Default -100. */
  ignoreIndex?: number;
}

export interface LogProbsResult<A = Float32Array> {
  /** rows * k: log softmax(logits[r])[ids[r * k + j]]. */
  logprobs: A;
  /** Per row log-sum-exp of the logits. */
  lse: A;
}

export const LOG_PROBS_OPTIONS = ['classes', 'dtype', 'ignoreIndex'] as const;

/** Where a shard sits: classes [offset, offset + classes) of totalClasses. */
export interface ShardPlacement extends ClassesOption, DtypeOption {
  offset: number;
  totalClasses: number;
  /** Default -100. */
  ignoreIndex?: number;
  labelSmoothing?: number;
  /** cap tanh(x / cap) before the softmax; default off. */
  softcap?: number;
}

export interface CrossEntropyShardOptions extends ShardPlacement {
  /** This shard's slice of the class weights: `classes` values. */
  weight?: Float32Array;
}

/**
 * One shard's per-row partial results: a plain, structured-clonable object. Per row r (zeros
 * for ignored rows), with v the shard's (soft-capped) logits and w its class weights (ones
 * when absent): max[r] = m = max_c v[c], sumExp[r] = sum_c exp(v[c] - m), targetLogit[r] and
 * targetWeight[r] = v[t] and w[t] when the target t is in this shard (else 0), and, with label
 * smoothing, gap[r] = sum_c w[c] (m - v[c]).
 */
export interface CrossEntropyShardPart<A = Float32Array> {
  offset: number;
  classes: number;
  totalClasses: number;
  rows: number;
  ignoreIndex: number;
  /** 0: no soft-capping. */
  softcap: number;
  /** Whether class weights were given. */
  weighted: boolean;
  /** Sum of this shard's class weights (classes when there are none). */
  weightSum: number;
  /** The class-index targets, in [0, totalClasses) or ignoreIndex. */
  target: Int32Array;
  max: A;
  sumExp: Float64Array;
  targetLogit: A;
  targetWeight: A;
  /** Only when labelSmoothing > 0. */
  gap?: Float64Array;
}

export interface MergeCrossEntropyShardsOptions {
  reduction?: Reduction;
  /** Must be the parts' own. Default -100. */
  ignoreIndex?: number;
  /** > 0 needs parts computed with label smoothing. */
  labelSmoothing?: number;
  zLoss?: number;
}

/** crossEntropy's result for the whole logits, in float64, and the 'mean' divisor. */
export interface MergedCrossEntropy extends CrossEntropyResult<Float64Array> {
  /** Sum of the counted rows' target weights (count without class weights). */
  denominator: number;
}

export interface CrossEntropyShardGradOptions extends ShardPlacement, GradOptions {
  /** Per row log-sum-exp over all classes (the merge's lse; a Float32Array loses digits). */
  lse: Float32Array | Float64Array;
  denominator: number;
  count: number;
  reduction?: Reduction;
  /** The whole class-weight vector (totalClasses values): a row's scale needs its target's weight. */
  weight?: Float32Array;
  zLoss?: number;
}

export const CROSS_ENTROPY_SHARD_OPTIONS = [
  'classes', 'dtype', 'offset', 'totalClasses', 'ignoreIndex', 'labelSmoothing', 'weight', 'softcap',
] as const;
export const MERGE_CROSS_ENTROPY_SHARDS_OPTIONS = ['reduction', 'ignoreIndex', 'labelSmoothing', 'zLoss'] as const;
export const CROSS_ENTROPY_SHARD_GRAD_OPTIONS = [
  ...CROSS_ENTROPY_SHARD_OPTIONS, 'lse', 'denominator', 'count', 'reduction', 'zLoss', 'grad', 'gradScale',
] as const;

/** engine.evaluator's options. */
export interface EvaluatorOptions {
  /** Rows whose target is this are not counted. Default -100. */
  ignoreIndex?: number;
  /** Also count the rows whose target is among the k most likely classes (topKAccuracy). */
  topK?: number;
}

/** evaluator.add's options: evaluate's, but for ignoreIndex and topK, which are the evaluator's. */
export interface EvaluatorAddOptions extends ClassesOption, DtypeOption, SequenceOptions {}

/** What an evaluator (or a merged state) reports: evaluate's summary, over every row added. */
export interface EvaluationResult {
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  accuracy: number;
  /** Share of counted rows whose target is among the top k; only with topK. */
  topKAccuracy?: number;
  entropy: number;
  count: number;
}

/**
 * An evaluator's rows, summed exactly: a plain object that JSON.stringify / JSON.parse and
 * postMessage keep whole. Merge with mergeEvaluations or evaluator.merge.
 */
export interface EvaluationState {
  format: 'xent-evaluation';
  version: 1;
  topK: number | null;
  count: number;
  correct: number;
  topKCorrect: number;
  nll: ExactSumState;
  entropy: ExactSumState;
}

/** The gradients linearCrossEntropy computes: each true (a new array) or an array to fill. */
export interface LinearGradRequest<A = Float32Array> {
  /** d loss / d hidden, rows * dim. */
  hidden?: true | A;
  /** d loss / d head, classes * dim; omitted for a frozen head, which then costs nothing. */
  head?: true | A;
  /** d loss / d bias, classes. */
  bias?: true | A;
  /** Add into the given arrays instead of overwriting them (micro-batches). Default false. */
  accumulate?: boolean;
}

/** linearCrossEntropy: crossEntropy on the logits hidden @ head^T + bias, never materialised. */
export interface LinearCrossEntropyOptions<A = Float32Array> extends CrossEntropyLossOptions {
  /** The head's rows (V); dim = head.length / classes, rows = hidden.length / dim. */
  classes: number;
  bias?: Float32Array;
  /** 'f16' / 'bf16': the head is a Uint16Array of half-precision bits. Default 'f32'. */
  headDtype?: 'f32' | 'f16' | 'bf16';
  /** Also return each row's most likely class (the argmax of its logits). */
  argmax?: boolean;
  /** Omitted: forward only (scoring). */
  grad?: LinearGradRequest<A>;
  /** Multiplies the gradients; default 1. */
  gradScale?: number;
}

export interface LinearCrossEntropyResult<A = Float32Array> extends Omit<CrossEntropyResult<A>, 'grad'> {
  /** Each row's most likely class, with `argmax: true` (ties to the lowest index, NaN first). */
  argmax?: Int32Array;
  /** The gradients asked for in `grad`. */
  grad?: { hidden?: Float32Array | A; head?: Float32Array | A; bias?: Float32Array | A };
}

export const LINEAR_CROSS_ENTROPY_OPTIONS = [
  'classes', 'bias', 'headDtype', 'reduction', 'ignoreIndex', 'weight', 'labelSmoothing', 'zLoss', 'softcap',
  'argmax', 'grad', 'gradScale',
] as const;
