import type { Logger } from 'pino';
import { isQerdsError, type Clock } from '../core/index.js';
import type { Store } from '../store/types.js';
import { backoffDelay } from './backoff.js';
import type { JobOutcome, JobRunner } from './types.js';

export interface OutboxJobRunnerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  /** Back-off of a job whose handler threw (attempt = the entry's attempts + 1). */
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * The worker wrapper bound to a store: runs the handler, then completes the outbox entry (done) or
 * reschedules it (retry). A handler that throws is a bug or an unforeseen failure: it is logged and
 * retried with back-off, never lost. If settling itself fails, the lease runs out and the job runs
 * again: handlers are idempotent.
 */
export function createOutboxJobRunner(options: OutboxJobRunnerOptions): JobRunner {
  const { store, clock, log } = options;
  return async (job, handler) => {
    let outcome: JobOutcome;
    try {
      outcome = await handler(job);
    } catch (error) {
      const code = isQerdsError(error) ? error.code : 'INTERNAL';
      const delayMs = backoffDelay(job.attempts + 1, options.retry);
      log.error({ err: error, jobId: job.id, stage: job.stage, messageId: job.messageId, attempts: job.attempts + 1, delayMs }, 'job handler threw; retrying');
      outcome = { status: 'retry', delayMs, error: code };
    }
    try {
      if (outcome.status === 'done') {
        await store.completeOutbox(job.id);
        log.debug({ jobId: job.id, stage: job.stage, messageId: job.messageId, attempts: job.attempts + 1 }, 'job done');
      } else if (outcome.status === 'dead') {
        await store.deadLetterOutbox(job.id, outcome.error, clock.now());
        log.error({ jobId: job.id, stage: job.stage, messageId: job.messageId, attempts: job.attempts + 1, error: outcome.error }, 'job gave up: kept as a dead letter (replay with `qerds dead-letters replay`)');
      } else {
        await store.retryOutbox(job.id, new Date(clock.now().getTime() + Math.max(0, outcome.delayMs)), outcome.error);
        log.debug({ jobId: job.id, stage: job.stage, messageId: job.messageId, delayMs: outcome.delayMs, error: outcome.error }, 'job rescheduled');
      }
    } catch (error) {
      log.error({ err: error, jobId: job.id, stage: job.stage, messageId: job.messageId }, 'could not settle job; it runs again when its lease expires');
    }
  };
}
