import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { evidenceThreads } from '../../src/access-point/evidence-pool-binding.js';

describe('performance.workerThreads', () => {
  it('auto: the cores less one, or QERDS_AUTO_WORKER_THREADS when it is a number; a number is taken as it is', () => {
    expect(evidenceThreads('auto', {})).toBe(Math.max(0, availableParallelism() - 1));
    expect(evidenceThreads('auto', { QERDS_AUTO_WORKER_THREADS: '0' })).toBe(0);
    expect(evidenceThreads('auto', { QERDS_AUTO_WORKER_THREADS: '3' })).toBe(3);
    // Not a count: ignored, as if unset.
    expect(evidenceThreads('auto', { QERDS_AUTO_WORKER_THREADS: 'many' })).toBe(
      Math.max(0, availableParallelism() - 1),
    );
    expect(evidenceThreads(2, { QERDS_AUTO_WORKER_THREADS: '0' })).toBe(2);
    expect(evidenceThreads(0, {})).toBe(0);
  });
});
