// Progress bars on stderr, drawn by cli-progress (a well-kept library; it handles terminal
// width, redraw rate and ETA). Only on a terminal: piped or redirected output stays clean.

import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/** A bar over `total` units, or undefined when stderr is not a terminal. */
export function progressBar(total: number, format: string, payload: Record<string, string | number> = {}): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 10, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, payload);
  return {
    update: (value, more) => bar.update(value, more),
    stop: () => bar.stop(),
  };
}
