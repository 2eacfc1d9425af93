// Plain-text tables for the terminal, and number formats shared by the commands.

/** Left-aligned columns separated by two spaces; numbers are right-aligned. */
export function table(rows: string[][], numeric: boolean[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

/**
 * Text that came from a file, safe to print: control characters escaped (no terminal
 * sequences), and cut to `max` characters with the length said.
 */
export function printable(text: string, max = 64): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}... (${text.length} characters)`;
}

/** Seven significant digits, plain when the magnitude allows. */
export function num(x: number, digits = 7): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-4 && magnitude < 1e9) {
    const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(magnitude)));
    return x.toFixed(Math.min(decimals, 20));
  }
  return x.toExponential(digits - 1);
}

export function percent(share: number): string {
  return Number.isFinite(share) ? `${(100 * share).toFixed(2)} %` : String(share);
}

export function seconds(s: number): string {
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}

export function shape(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}
