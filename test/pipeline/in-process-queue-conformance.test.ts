import { createInProcessQueue } from '../../src/pipeline/index.js';
import { describeQueueConformance } from './queue-conformance.js';

describeQueueConformance(
  'in-process',
  async ({ concurrency }) => {
    const queue = createInProcessQueue({ concurrency });
    return { queue, dispose: () => queue.close() };
  },
  { external: false },
);
