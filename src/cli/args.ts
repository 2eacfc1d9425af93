// Command-line parsing with Node's util.parseArgs (built in, strict about unknown flags),
// plus the checks of numeric flag values that it leaves to us.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_THREADS } from '../tuning.js';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** parseArgs in strict mode, its complaints turned into UsageErrors. */
export function parse<O extends Options>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node's messages add advice about '--' that does not help here; keep the first sentence.
      const first = (error as Error).message.split('. ')[0]!.replace(/\.$/, '');
      throw new UsageError(first[0]!.toLowerCase() + first.slice(1));
    }
    throw error;
  }
}

/** An integer flag within [min, max], or `fallback` when absent. */
export function integerFlag(flag: string, text: string | undefined, fallback: number, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^[-+]?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    // The upper bound is said when it is a flag's own or the value is past it.
    const range = max !== 2 ** 31 - 1 || value > max ? `an integer in [${min}, ${max}]` : `an integer >= ${min}`;
    throw new UsageError(`${flag} must be ${range}, got '${text}'`);
  }
  return value;
}

/** --threads: 'auto' or a count >= 1; default 1 as in createEngine. */
export function threadsFlag(text: string | undefined): number | 'auto' {
  if (text === 'auto') return 'auto';
  return integerFlag('--threads', text, 1, 1, MAX_THREADS);
}
