import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Files that must run alone: they measure time or CPU, or load the machine on purpose (the scale tests start
 * clusters of processes and kill them). Globs, so a new file under one of these places follows the rule.
 */
const alone = ['test/scale/**/*.test.ts'];

/**
 * Most test files wait (PostgreSQL, Redis, HTTP on loopback, openssl/xmlsec1 child processes), so more files
 * run at once than there are cores. Each file runs in its own process (forks) and must share nothing that
 * another file could touch at the same time: see test/README.md. QERDS_TEST_WORKERS overrides the number.
 */
const workers = Number(process.env.QERDS_TEST_WORKERS) || Math.max(2, 2 * availableParallelism());

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    // Generous: a busy 2-core CI machine runs several files at once. Tests wait for conditions, never for time.
    testTimeout: 60_000,
    // performance.workerThreads `auto` starts one evidence thread per access point, which under tsx loads and
    // compiles the product again (≈ 1.3 s of CPU each): it doubled the suite's time. The pool's own tests
    // (test/integration/evidence-pool.test.ts) ask for threads explicitly; child processes inherit this.
    env: { QERDS_AUTO_WORKER_THREADS: '0' },
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: workers,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: alone,
          // A worker process runs file after file with its module cache kept: loading the product's modules
          // again for each of ~200 files cost about a quarter of the suite's CPU. So a file must leave the process
          // as it found it (test/README.md): no env change, handler, timer or server outliving it.
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // One file at a time, after the parallel project (groupOrder 1: the parallel group, 0, runs first).
        test: { name: 'alone', include: alone, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
