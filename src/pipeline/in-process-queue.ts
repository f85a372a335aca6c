import { QerdsError } from '../core/index.js';
import type { OutboxEntry, PipelineStage } from '../store/types.js';
import { checkSweep, startSweepTimer } from './sweep-timer.js';
import type { JobHandler, JobRunner, Queue } from './types.js';

export interface InProcessQueueOptions {
  /** Jobs of one stage run at once, unless process() sets its own. @defaultValue 4 */
  readonly concurrency?: number;
  /** Where a sweep that throws is reported. @defaultValue ignored (the sweep runs again at its next tick) */
  readonly onSweepError?: (name: string, error: unknown) => void;
}

interface Worker {
  readonly handler: JobHandler;
  readonly concurrency: number;
  readonly pending: OutboxEntry[];
  running: number;
}

/** Without a dispatcher nothing records outcomes: run the handler, keep nothing. */
const bareRunner: JobRunner = async (job, handler) => {
  await handler(job);
};

/**
 * The embedded queue: jobs run in this process, each stage with its own bounded concurrency, in the
 * order dispatched. Holds nothing durable: the outbox is the truth, a lost in-memory job is leased
 * again when its lease runs out.
 */
export function createInProcessQueue(options: InProcessQueueOptions = {}): Queue {
  const defaultConcurrency = positive(options.concurrency ?? 4, 'concurrency');
  const workers = new Map<PipelineStage, Worker>();
  let runner = bareRunner;
  let closed = false;
  let outstanding = 0;
  let idle: Array<() => void> = [];
  const sweeps = new Map<string, { stop(): Promise<void> }>();

  const pump = (worker: Worker) => {
    while (worker.running < worker.concurrency && worker.pending.length > 0) {
      const job = worker.pending.shift()!;
      worker.running += 1;
      // Start on a later tick: dispatch() returns before the handler runs, so the dispatcher's poll
      // is never re-entered from inside a handler.
      void Promise.resolve()
        .then(() => runner(job, worker.handler))
        .catch(() => undefined) // a runner must not throw; if one does, the job's lease expires and it runs again
        .finally(() => {
          worker.running -= 1;
          outstanding -= 1;
          pump(worker);
          if (outstanding === 0) {
            const waiting = idle;
            idle = [];
            for (const resolve of waiting) resolve();
          }
        });
    }
  };

  return {
    async dispatch(job) {
      if (closed) throw new QerdsError('PIPELINE_QUEUE_CLOSED', 'queue is closed');
      const worker = workers.get(job.stage);
      if (!worker)
        throw new QerdsError('PIPELINE_NO_HANDLER', `no handler for stage ${job.stage}`, {
          details: { stage: job.stage },
        });
      outstanding += 1;
      worker.pending.push(job);
      pump(worker);
    },

    process(stage, handler, processOptions = {}) {
      if (workers.has(stage))
        throw new QerdsError('PIPELINE_HANDLER_EXISTS', `stage ${stage} already has a handler`);
      const concurrency = positive(processOptions.concurrency ?? defaultConcurrency, 'concurrency');
      workers.set(stage, { handler, concurrency, pending: [], running: 0 });
    },

    setJobRunner(next) {
      runner = next;
    },

    registerSweep(name, everyMs, fn) {
      checkSweep(name, everyMs, new Set(sweeps.keys()));
      if (closed) throw new QerdsError('PIPELINE_QUEUE_CLOSED', 'queue is closed');
      sweeps.set(
        name,
        startSweepTimer(everyMs, fn, (error) => options.onSweepError?.(name, error)),
      );
    },

    drain() {
      return outstanding === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
    },

    async close() {
      closed = true;
      await Promise.all([...sweeps.values()].map((sweep) => sweep.stop()));
      await this.drain();
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new QerdsError('CONFIG_INVALID', `queue ${name} must be a positive integer, got ${value}`);
  return value;
}
