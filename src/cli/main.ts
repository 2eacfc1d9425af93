// The `xent` command line: dispatches to a subcommand and turns refusals into one line on
// stderr and exit code 2. bin/xent.js calls main() with the arguments after `xent`.

import { readFileSync } from 'node:fs';
import { XentError } from '../index.js';
import { DEMO_USAGE, demo } from './demo.js';
import { EXIT_USAGE, InputError, UsageError } from './errors.js';
import { MERGE_USAGE, merge } from './merge.js';
import { SCORE_MODEL_USAGE, scoreModel } from './score-model.js';
import { SCORE_USAGE, score } from './score.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; usage: string }> = {
  score: { run: score, usage: SCORE_USAGE },
  'score-model': { run: scoreModel, usage: SCORE_MODEL_USAGE },
  merge: { run: merge, usage: MERGE_USAGE },
  demo: { run: demo, usage: DEMO_USAGE },
};

export const USAGE = `usage: xent <command> [options]

commands:
  score LOGITS [TARGETS]   loss, perplexity, accuracy of saved logits (.npy, .safetensors)
  score-model MODEL.onnx TEXT
                           run a character-level language model (ONNX) over a text and score it
  merge STATE...           the report of pieces scored apart with score --state
  demo                     train a small character-level language model with xent

'xent <command> --help' describes a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    console.error(USAGE);
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    console.log(version());
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`xent: unknown command '${name}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`xent ${name}: ${error.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof InputError || error instanceof XentError) {
      console.error(`xent ${name}: ${oneLine(error.message)}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
