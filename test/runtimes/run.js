// Runs the default export of a module of this repository, named on the command line from its
// root (test/runtimes/suite.js, bench/runtimes.js), in a server-side runtime (Node, Deno, Bun),
// and prints its report, with the runtime's name, as one line of JSON for scripts/runtimes.js.

const { default: run } = await import(new URL(`../../${process.argv[2]}`, import.meta.url).href);
const report = await run();
report.runtime = globalThis.Deno ? `Deno ${Deno.version.deno}` : globalThis.Bun ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;
console.log(JSON.stringify(report));
// Workers of engines that a failed check left undisposed must not hold the process open.
process.exit(0);
