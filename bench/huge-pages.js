// Large fresh arrays on Linux: glibc's malloc asks the kernel for transparent huge pages only
// when its hugetlb tunable says so, and it reads its tunables when the process starts. Without
// it, a fresh 16 MB Float32Array (binaryCrossEntropy's `losses`) filled once cost 0.4 ns per
// element in some processes on the benchmark's machine and 11 in others: a cost of the machine's
// page faults, drawn per process, that would decide the loss family's ratios.
// So the benchmark runs itself again with the tunable set (README, Performance, suggests it
// for any Node process on Linux that makes large result arrays), unless it is set already.
// Imported first by bench/run.js, so that nothing else has run yet.

import { spawnSync } from 'node:child_process';

const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

const tunables = process.env.GLIBC_TUNABLES ?? '';
if (process.platform === 'linux' && !tunables.includes('glibc.malloc.hugetlb')) {
  const env = { ...process.env, GLIBC_TUNABLES: tunables === '' ? HUGE_PAGES_TUNABLE : `${tunables}:${HUGE_PAGES_TUNABLE}` };
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(child.status ?? 1);
}
