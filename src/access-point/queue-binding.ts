import type { Logger } from 'pino';
import type { QerdsConfig } from '../config/index.js';
import { QerdsError } from '../core/index.js';
import {
  acceptanceExpiryStage,
  createBullmqQueue,
  createInProcessQueue,
  deliverStage,
  mailDeliveryStage,
  evidenceWebhookStage,
  mailEvidenceStage,
  notifyStage,
  relayStage,
  type BullmqQueue,
  type JobHandler,
  type PipelineContext,
  type Queue,
} from '../pipeline/index.js';
import { pipelineStages, type PipelineStage } from '../store/index.js';

/** The `queue` section of the configuration. */
type QueueSettings = QerdsConfig['queue'];

/** Which pipeline stages this process runs workers for: all (default), none (API only), or a list. */
export type WorkerSelection = boolean | readonly PipelineStage[];

/** The queue named by `queue.kind`; bullmq also gets a readiness probe. */
export function createConfiguredQueue(
  settings: QueueSettings,
  log: Logger,
): { queue: Queue; ping?: () => Promise<void> } {
  switch (settings.kind) {
    case 'in-process':
      return { queue: createInProcessQueue({ concurrency: settings.concurrency }) };
    case 'bullmq': {
      const queue: BullmqQueue = createBullmqQueue({
        connection: { url: settings.redisUrl },
        prefix: settings.prefix,
        concurrency: settings.concurrency,
        limiter: settings.rateLimit,
        stalledIntervalMs: settings.stalledIntervalMs,
        lockDurationMs: settings.lockDurationMs,
        ...(settings.stages ? { stages: settings.stages } : {}),
        log,
      });
      return { queue, ping: () => queue.ping() };
    }
  }
}

/** The stages a selection names, refusing what cannot work (an embedded queue with no workers). */
export function selectedStages(settings: QueueSettings, workers: WorkerSelection): readonly PipelineStage[] {
  const stages = workers === true ? pipelineStages : workers === false ? [] : workers;
  for (const stage of stages) {
    if (!pipelineStages.includes(stage))
      throw new QerdsError(
        'CONFIG_INVALID',
        `unknown pipeline stage "${stage}" (have ${pipelineStages.join(', ')})`,
      );
  }
  if (settings.kind === 'in-process' && stages.length < pipelineStages.length) {
    // The embedded queue runs jobs only in this process: a stage without workers here would never run.
    throw new QerdsError(
      'CONFIG_INVALID',
      `queue.kind in-process runs every stage in this process; running only [${stages.join(', ')}] needs queue.kind bullmq`,
    );
  }
  return stages;
}

/** Stages whose jobs mostly wait, and so run more at once by default than queue.concurrency (see the config's queue.stages). */
const CONCURRENCY_AT_LEAST: Partial<Record<PipelineStage, number>> = { notify: 32 };

/** Jobs of `stage` run at once per process: queue.stages.<stage>.concurrency, else queue.concurrency (raised for waiting stages). */
export function stageConcurrency(settings: QueueSettings, stage: PipelineStage): number {
  const own = settings.stages?.[stage as keyof NonNullable<QueueSettings['stages']>]?.concurrency;
  return own ?? Math.max(settings.concurrency, CONCURRENCY_AT_LEAST[stage] ?? 0);
}

/** Registers the stage handlers of `stages` on the queue, each with its concurrency (stageConcurrency). */
export function registerWorkers(
  queue: Queue,
  context: PipelineContext,
  stages: readonly PipelineStage[],
  wrap: (stage: PipelineStage, handler: JobHandler) => JobHandler = (_s, h) => h,
  concurrencyOf?: (stage: PipelineStage) => number,
): void {
  const handlers: Record<PipelineStage, (ctx: PipelineContext) => JobHandler> = {
    relay: relayStage,
    deliver: deliverStage,
    notify: notifyStage,
    'mail-delivery': mailDeliveryStage,
    'mail-evidence': mailEvidenceStage,
    'evidence-webhook': evidenceWebhookStage,
    'acceptance-expiry': acceptanceExpiryStage,
  };
  for (const stage of stages) {
    const make = handlers[stage];
    // A stage handler is a cheap closure: made per job around a child logger, every line a stage
    // writes about the job names its message, stage and outbox entry (one grep follows a message).
    const handler: JobHandler = (job, completion) =>
      make({
        ...context,
        log: context.log.child({ messageId: job.messageId, stage, jobId: job.id }),
        ...(completion ? { completion } : {}),
      })(job, completion);
    queue.process(stage, wrap(stage, handler), concurrencyOf ? { concurrency: concurrencyOf(stage) } : {});
  }
}
