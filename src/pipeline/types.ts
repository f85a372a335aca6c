import type { OutboxEntry, PipelineStage, StoreTransaction } from '../store/types.js';

/**
 * The queue port. The store's outbox is the truth; a queue only says "go". The in-process adapter
 * (embedded default) and the BullMQ adapter (scale) implement it and pass one conformance suite.
 */
export type JobHandler = (job: OutboxEntry, completion?: JobCompletion) => Promise<JobOutcome>;

/**
 * What the job runner hands a handler so that the step's outcome and the end of its job commit together: the
 * step's last transaction (evidence, state change, next outbox entries) also removes the job's own outbox entry,
 * one commit instead of two. Absent when no runner settles the job (a bare queue): the handler then commits its
 * outcome with Store.transaction and nothing more.
 */
export interface JobCompletion {
  /**
   * Store.transaction that, once `work` is done, also completes the job's outbox entry under the job's lease, in
   * the same transaction. A lease taken over meanwhile (the entry is another worker's now): PIPELINE_LEASE_LOST is
   * thrown inside the transaction, so nothing of `work` is committed, and the new owner runs the step again
   * (handlers are idempotent). Once such a transaction committed the job is settled: the handler's outcome must
   * then be `done` (the runner records nothing more), and a later call is a plain Store.transaction.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
}

/**
 * What a handler reports; the pipeline completes or reschedules the outbox entry accordingly. `dead`:
 * the stage gave up (retry budget spent) and nothing else will happen on its own; the entry is kept
 * as a dead letter for an operator to see and replay.
 */
export type JobOutcome =
  | { readonly status: 'done' }
  | { readonly status: 'retry'; readonly delayMs: number; readonly error: string }
  | { readonly status: 'dead'; readonly error: string };

/**
 * The worker wrapper: runs one job with its stage's handler and settles the outbox entry (complete or
 * retry). The outbox dispatcher installs one bound to its store; workers call it instead of the bare
 * handler. It must not throw.
 */
export type JobRunner = (job: OutboxEntry, handler: JobHandler) => Promise<void>;

export interface Queue {
  /**
   * Where dispatched jobs wait. `memory`: in this process, so the dispatcher bounds them by its
   * batchSize and releases a slot when the job is settled here. `broker`: in a shared broker (Redis)
   * from which any process's workers take them; the dispatcher hands them over and does not count
   * them, and the outbox lease (not the dispatcher's memory) is what re-dispatches a job the broker
   * lost. @defaultValue 'memory'
   */
  readonly buffer?: 'memory' | 'broker';
  /** Hand a leased outbox entry to the workers of its stage. */
  dispatch(job: OutboxEntry): Promise<void>;
  /** Register the handler of a stage; at most one per stage. */
  process(stage: PipelineStage, handler: JobHandler, options?: { concurrency?: number }): void;
  /**
   * Sets the wrapper every handler call goes through (see JobRunner). The outbox dispatcher sets it;
   * without one a job's outcome is not recorded anywhere.
   */
  setJobRunner(runner: JobRunner): void;
  /**
   * Runs `fn` every `everyMs` ms until close(): a periodic sweep (outbox re-dispatch, acceptance expiry,
   * archive renewal). Across every process sharing a broker the sweep named `name` runs once per interval,
   * not once per process (BullMQ: a job scheduler, one job per tick taken by one of the processes that
   * registered the name); in-process: a timer. Runs never overlap within a process; a sweep that throws
   * is logged and runs again at the next tick. At most one registration per name.
   */
  registerSweep(name: string, everyMs: number, fn: () => Promise<void>): void;
  /** Resolves when every dispatched job has finished (for tests and graceful shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}
