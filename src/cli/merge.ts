// `xent merge`: the report of everything that the states of `xent score --state` scored, as if
// it had been scored at once: the evaluation states' sums are exact, so merging in any order
// gives the same bits.

import { mergeEvaluations } from '../index.js';
import { parse } from './args.js';
import { InputError, UsageError } from './errors.js';
import { report } from './score.js';
import { inFile, readState } from './state.js';

export const MERGE_USAGE = `usage: xent merge STATE... [options]

  STATE     state files written by 'xent score ... --state FILE', in any order

options:
  --json               print JSON instead of a table
  -h, --help           show this help`;

export async function merge(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(MERGE_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('expected one or more STATE files');
  const states = positionals.map((path) => ({ path, ...readState(path) }));
  const classes = states[0]!.classes;
  for (const s of states) {
    if (s.classes !== classes) throw new InputError(s.path, `scored ${s.classes} classes, but ${states[0]!.path} scored ${classes}`);
    inFile(s.path, () => mergeEvaluations([s.evaluation]));
  }
  const topK = states[0]!.evaluation.topK;
  for (const s of states) {
    if (s.evaluation.topK !== topK) throw new InputError(s.path, `was scored with --top-k ${s.evaluation.topK ?? 'unset'}, ${states[0]!.path} with ${topK ?? 'unset'}`);
  }
  const merged = mergeEvaluations(states.map((s) => s.evaluation));
  const rows = states.reduce((sum, s) => sum + s.rows, 0);
  report(merged, rows, {
    json: values.json === true,
    inputs: { states: positionals },
    header: states.map((s) => ['state', s.path, `${s.rows} rows x ${s.classes} classes`]),
    batchRows: undefined,
    footer: `${states.length} state${states.length === 1 ? '' : 's'} merged: ${rows} rows x ${classes} classes`,
  });
  return 0;
}
