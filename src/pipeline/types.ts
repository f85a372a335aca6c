import type { OutboxEntry, PipelineStage } from '../store/types.js';

/**
 * The queue port. The store's outbox is the truth; a queue only says "go". The in-process adapter
 * (embedded default) and the BullMQ adapter (scale) implement it and pass one conformance suite.
 */
export type JobHandler = (job: OutboxEntry) => Promise<JobOutcome>;

/** What a handler reports; the pipeline completes or reschedules the outbox entry accordingly. */
export type JobOutcome = { readonly status: 'done' } | { readonly status: 'retry'; readonly delayMs: number; readonly error: string };

export interface Queue {
  /** Hand a leased outbox entry to the workers of its stage. */
  dispatch(job: OutboxEntry): Promise<void>;
  /** Register the handler of a stage; at most one per stage. */
  process(stage: PipelineStage, handler: JobHandler, options?: { concurrency?: number }): void;
  /** Resolves when every dispatched job has finished (for tests and graceful shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}
