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
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: workers,
    projects: [
      {
        extends: true,
        test: { name: 'parallel', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: alone },
      },
      {
        extends: true,
        // One file at a time, after the parallel project (vitest runs a single-worker project's files last).
        test: { name: 'alone', include: alone, maxWorkers: 1 },
      },
    ],
  },
});
