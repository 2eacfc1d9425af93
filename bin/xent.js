#!/usr/bin/env node
// The `xent` command. Its code is TypeScript in src/cli, compiled to dist/cli by `npm run build`.

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli/main.js')) {
    console.error('xent: dist/cli/main.js is missing; run `npm run build` first');
    process.exit(2);
  }
  throw error;
}
process.exitCode = await cli.main(process.argv.slice(2));
