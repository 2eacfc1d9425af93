// The PyTorch vectors of test/torch/vectors.json, with "NaN" / "Infinity" / "-Infinity" decoded.

import { readFileSync } from 'node:fs';
import type { LossOutputs } from './compare.js';

export interface TorchCase {
  op: string;
  name: string;
  rows: number;
  classes: number;
  targetKind?: 'sparse' | 'probs';
  inputs: Record<string, number[]>;
  options: Record<string, unknown>;
  expected: Record<string, number | number[]>;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function decode(value: unknown): unknown {
  if (typeof value === 'string' && value in NON_FINITE) return NON_FINITE[value];
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

const file = JSON.parse(readFileSync(new URL('../torch/vectors.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: unknown[];
};

export const TORCH_VERSION = file.torch;
export const TORCH_CASES = file.cases.map(decode) as TorchCase[];

export function torchCases(op: string, targetKind?: 'sparse' | 'probs'): TorchCase[] {
  return TORCH_CASES.filter((c) => c.op === op && (targetKind === undefined || c.targetKind === targetKind));
}

/** A loss case's expected loss, per-row losses and gradient, for expectLossOutputs. */
export function expectedOutputs(c: TorchCase): LossOutputs {
  return { loss: c.expected.loss as number, losses: c.expected.losses as number[], grad: c.expected.grad as number[] };
}
