// The state files of `xent score --state` and `xent merge`: what was scored, as JSON. A state
// file is small (about a kilobyte); one that is larger, or not what `xent score` wrote, is
// refused with the reason, never half read.

import { writeFileSync } from 'node:fs';
import { XentError, type EvaluationState } from '../index.js';
import { InputError } from './errors.js';
import { OpenFile } from './files.js';

const FORMAT = 'xent-score-state';
const VERSION = 1;

/** Larger than any state xent writes by three orders of magnitude. */
const MAX_STATE_BYTES = 1 << 20;

export interface ScoreState {
  /** Rows read (counted or not) and classes per row. */
  rows: number;
  classes: number;
  evaluation: EvaluationState;
}

export function writeState(path: string, state: ScoreState): void {
  try {
    writeFileSync(path, `${JSON.stringify({ format: FORMAT, version: VERSION, ...state })}\n`);
  } catch (error) {
    throw new InputError(path, `cannot write the state: ${(error as Error).message}`);
  }
}

/** A state file's contents, checked (the evaluation state itself by mergeEvaluations). */
export function readState(path: string): ScoreState {
  const file = OpenFile.open(path);
  let text: string;
  try {
    if (file.size > MAX_STATE_BYTES) throw new InputError(path, `is ${file.size} bytes, too large for a state of xent score (at most ${MAX_STATE_BYTES})`);
    text = new TextDecoder().decode(file.readUpTo(0, file.size));
  } finally {
    file.close();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(path, 'is not JSON, so not a state written by xent score --state');
  }
  const s = value as Record<string, unknown> | null;
  if (s === null || typeof s !== 'object' || s.format !== FORMAT || s.version !== VERSION) {
    throw new InputError(path, `is not a state written by this version of xent score --state (format '${FORMAT}', version ${VERSION})`);
  }
  if (!Number.isSafeInteger(s.rows) || (s.rows as number) < 0 || !Number.isSafeInteger(s.classes) || (s.classes as number) < 1) {
    throw new InputError(path, 'has no valid rows and classes');
  }
  return s as unknown as ScoreState;
}

/** XentErrors about one state, named after its file. */
export function inFile<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof XentError) throw new InputError(path, error.message);
    throw error;
  }
}
