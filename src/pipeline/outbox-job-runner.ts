import type { Logger } from 'pino';
import { isQerdsError, QerdsError, type Clock } from '../core/index.js';
import type { OutboxEntry, Store } from '../store/types.js';
import { backoffDelay } from './backoff.js';
import type { JobCompletion, JobOutcome, JobRunner } from './types.js';

export interface OutboxJobRunnerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * Back-off of a job whose handler threw (attempt = the entry's attempts + 1), and the attempts such a
   * job gets before it becomes a dead letter (with its last error). @defaultValue maxAttempts 25
   */
  readonly retry: { readonly baseMs: number; readonly maxMs: number; readonly maxAttempts?: number };
  /**
   * Lease length of the dispatcher, in ms: while a handler runs its lease is renewed every third of
   * it, so a slow job keeps its entry instead of a second worker running it. @defaultValue 30000
   */
  readonly leaseMs?: number;
}

/**
 * Attempts of a job whose handler keeps throwing, before it is a dead letter. Generous: a store or Redis
 * outage makes every handler throw too, and with the back-off capped (maxMs) 25 attempts outlast an outage
 * of many minutes, while a handler that always throws (a bug) still ends up in front of an operator.
 */
const defaultThrowAttempts = 25;

/**
 * The worker wrapper bound to a store: runs the handler, then completes the outbox entry (done),
 * reschedules it (retry) or keeps it as a dead letter (dead). A handler that throws is a bug or an
 * unforeseen failure: it is logged and retried with back-off, then dead-lettered once its attempt
 * budget is spent (an operator sees and replays it), never lost and never retried forever.
 *
 * A handler whose step writes something commits it through the JobCompletion it is handed: the entry is
 * completed in that transaction, and the runner records nothing after it (one commit per step, not two).
 *
 * Every settlement is compare-and-set on the entry's lease token: a worker whose lease was taken over
 * settles nothing, and a step committed through the completion under a lost lease rolls back whole
 * (PIPELINE_LEASE_LOST): the new owner runs the step again. If settling itself fails, the lease runs out and
 * the job runs again: handlers are idempotent.
 */
export function createOutboxJobRunner(options: OutboxJobRunnerOptions): JobRunner {
  const { store, clock, log } = options;
  const leaseMs = options.leaseMs ?? 30_000;
  const maxAttempts = options.retry.maxAttempts ?? defaultThrowAttempts;
  const complete = completionBatches(store);
  return async (job, handler) => {
    const token = job.leaseToken;
    const fields = { jobId: job.id, stage: job.stage, messageId: job.messageId };
    // A job that waited (in Redis) past its lease may have been leased again by now: the new owner runs it.
    // While half its lease is left, no one else can hold it (only an expired lease is handed out again) and
    // the first renewal lands in time: the usual case costs no store round trip.
    const fresh =
      job.leasedUntil !== undefined && job.leasedUntil.getTime() - clock.now().getTime() >= leaseMs / 2;
    if (token !== undefined && !fresh && !(await stillOwned(job, token))) {
      log.debug(fields, 'job skipped: its lease was taken over by a newer dispatch');
      return;
    }
    /** Set once a transaction of the step committed the entry's completion: the job is settled. */
    let completed = false;
    const completion: JobCompletion = {
      async transaction(work) {
        if (completed) return store.transaction(work);
        const result = await store.transaction(async (tx) => {
          const value = await work(tx);
          // Last, so that the entry's row lock (PostgreSQL) is held for the shortest time. Lost: roll back the step.
          if (!(await tx.completeOutbox(job.id, token)))
            throw new QerdsError(
              'PIPELINE_LEASE_LOST',
              `outbox entry ${job.id} (${job.stage}) is no longer this worker's: the step is not committed`,
            );
          return value;
        });
        completed = true;
        renewal?.stop();
        return result;
      },
    };
    const renewal = token === undefined ? undefined : keepLeased(job, token, () => completed);
    let outcome: JobOutcome;
    try {
      outcome = await handler(job, completion);
    } catch (error) {
      if (completed || isQerdsError(error, 'PIPELINE_LEASE_LOST')) {
        // Settled by the step's own commit, or the lease is another worker's: nothing to record here.
        if (completed) log.error({ err: error, ...fields }, 'job handler threw after its step committed');
        else log.warn(fields, 'job step not committed: its lease was taken over (the new owner runs it)');
        return;
      }
      const code = isQerdsError(error) ? error.code : 'INTERNAL';
      const attempts = job.attempts + 1;
      if (attempts >= maxAttempts) {
        const reason = `${code}: ${(error as Error)?.message ?? String(error)}`.slice(0, 1000);
        outcome = { status: 'dead', error: reason };
        log.error({ err: error, ...fields, attempts }, 'job handler threw and its attempt budget is spent');
      } else {
        const delayMs = backoffDelay(attempts, options.retry);
        log.error({ err: error, ...fields, attempts, delayMs }, 'job handler threw; retrying');
        outcome = { status: 'retry', delayMs, error: code };
      }
    } finally {
      renewal?.stop();
    }
    if (completed) {
      if (outcome.status !== 'done')
        log.error(
          { ...fields, outcome },
          'job completed in its step, yet its handler asked for more: ignored',
        );
      log.debug({ ...fields, attempts: job.attempts + 1 }, 'job done');
      return;
    }
    try {
      let settled: boolean;
      if (outcome.status === 'done') {
        settled = await complete(job.id, token);
        log.debug({ ...fields, attempts: job.attempts + 1 }, 'job done');
      } else if (outcome.status === 'dead') {
        settled = await store.deadLetterOutbox(job.id, outcome.error, clock.now(), token);
        log.error(
          { ...fields, attempts: job.attempts + 1, error: outcome.error },
          'job gave up: kept as a dead letter (replay with `qerds dead-letters replay`)',
        );
      } else {
        settled = await store.retryOutbox(
          job.id,
          new Date(clock.now().getTime() + Math.max(0, outcome.delayMs)),
          outcome.error,
          token,
        );
        log.debug({ ...fields, delayMs: outcome.delayMs, error: outcome.error }, 'job rescheduled');
      }
      if (!settled)
        log.warn(
          fields,
          'job outcome not recorded: its lease was taken over (the new owner settles it; handlers are idempotent)',
        );
    } catch (error) {
      log.error({ err: error, ...fields }, 'could not settle job; it runs again when its lease expires');
    }
  };

  async function stillOwned(job: OutboxEntry, token: string): Promise<boolean> {
    try {
      return await store.renewOutboxLease(job.id, token, leaseMs, clock.now());
    } catch (error) {
      // The store is unreachable: run anyway; settling will tell (and the lease brings the job back).
      log.warn({ err: error, jobId: job.id }, 'could not check the lease of a job; running it');
      return true;
    }
  }

  /**
   * Renews the lease every third of its length until stopped (a renewal that fails is tried again). `settled`: the
   * entry was completed meanwhile (a renewal already under way then finds it gone, which is no lost lease).
   */
  function keepLeased(job: OutboxEntry, token: string, settled: () => boolean): { stop(): void } {
    const timer = setInterval(
      () => {
        store.renewOutboxLease(job.id, token, leaseMs, clock.now()).then(
          (owned) => {
            if (!owned && !settled())
              log.warn(
                { jobId: job.id, stage: job.stage, messageId: job.messageId },
                'lease of a running job was lost',
              );
          },
          (error: unknown) => log.warn({ err: error, jobId: job.id }, 'lease renewal failed'),
        );
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}

/**
 * Completes the entries of jobs done outside a step transaction (a step that wrote nothing: notify, once C2 took
 * the evidence), those asked for before the pending promise jobs have all run together: one DELETE, so one commit (on
 * SQLite one fsync) for the notify jobs whose evidences went back in one AS4 exchange, instead of one each. Each
 * entry is still removed only under its own lease (Store.completeOutboxEntries); a job's completion waits for
 * its batch, and a failed batch fails each of its completions as a single one would.
 */
function completionBatches(store: Store): (id: number, leaseToken: string | undefined) => Promise<boolean> {
  type Waiting = {
    readonly id: number;
    readonly leaseToken?: string;
    readonly settle: (removed: ReadonlySet<number> | Error) => void;
  };
  let batch: Waiting[] | undefined;
  const flush = async (entries: readonly Waiting[]) => {
    let outcome: ReadonlySet<number> | Error;
    try {
      outcome =
        entries.length === 1
          ? (await store.completeOutbox(entries[0]!.id, entries[0]!.leaseToken))
            ? new Set([entries[0]!.id])
            : new Set<number>()
          : await store.completeOutboxEntries(entries);
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
    }
    for (const entry of entries) entry.settle(outcome);
  };
  return (id, leaseToken) =>
    new Promise<boolean>((resolve, reject) => {
      if (!batch) {
        const entries: Waiting[] = [];
        batch = entries;
        // After the promise jobs now due have run (all the jobs one exchange settled), before any timer or I/O.
        process.nextTick(() => {
          batch = undefined;
          void flush(entries);
        });
      }
      batch.push({
        id,
        ...(leaseToken === undefined ? {} : { leaseToken }),
        settle: (removed) => (removed instanceof Error ? reject(removed) : resolve(removed.has(id))),
      });
    });
}
