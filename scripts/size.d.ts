// Types of scripts/size.js, for the tests that use it.
export function importGraph(entry?: string): string[];
export function sizes(files: string[]): Array<{ file: string; raw: number; gzip: number }>;
