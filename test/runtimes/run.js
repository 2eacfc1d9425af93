// Runs test/runtimes/suite.js in a server-side runtime (Node, Deno, Bun) and prints its report
// as one line of JSON; scripts/test-runtimes.js judges it.

import { runSuite } from './suite.js';

const report = await runSuite();
report.runtime = globalThis.Deno ? `Deno ${Deno.version.deno}` : globalThis.Bun ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;
console.log(JSON.stringify(report));
// Workers of engines that a failed check left undisposed must not hold the process open.
process.exit(0);
