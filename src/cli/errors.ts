// The two ways a command can refuse its input. Both end the process with exit code 2 and
// one line on stderr, never a stack trace; anything else that escapes is a bug in xent and
// is reported with its stack (exit code 1).

/** Exit code of every refusal: bad flags, missing or malformed files, shapes that disagree. */
export const EXIT_USAGE = 2;

/** The command line itself is wrong (unknown flag, missing argument): usage follows. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file, or a value in it, is not what the command needs. The message names the file. */
export class InputError extends Error {
  override name = 'InputError';

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}
