import { pino, type Logger } from 'pino';
import { isQerdsError, systemClock, type Clock } from '../core/index.js';
import type { Store } from '../store/types.js';
import { backoffDelay } from './backoff.js';
import { createOutboxJobRunner } from './outbox-job-runner.js';
import type { Queue } from './types.js';

export interface OutboxDispatcherOptions {
  readonly store: Store;
  readonly queue: Queue;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Pause between polls of the outbox, in ms. @defaultValue 200 */
  readonly pollIntervalMs?: number;
  /**
   * Longest pause between polls while the outbox has nothing due, in ms: each empty poll doubles the
   * pause from `pollIntervalMs` up to this; a poll that finds work, or a poke (a commit in this process
   * that enqueued work), goes back to `pollIntervalMs`. Every process of a cluster polls, so idle polling
   * at the short interval was most of an idle cluster's CPU and database work. @defaultValue pollIntervalMs
   * (no back-off)
   */
  readonly idlePollMaxMs?: number;
  /**
   * How long a leased entry stays hidden from other dispatchers, in ms. Longer than a job runs; a
   * crashed dispatcher's jobs run again after it. @defaultValue 30000
   */
  readonly leaseMs?: number;
  /** Most jobs this dispatcher has in flight (leased and not yet settled). @defaultValue 32 */
  readonly batchSize?: number;
  /**
   * Back-off of a job whose handler threw, in ms, and the attempts before such a job becomes a dead
   * letter. @defaultValue { baseMs: 1000, maxMs: 60000, maxAttempts: 25 }
   */
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number; readonly maxAttempts?: number };
  /** @defaultValue a silent pino logger */
  readonly log?: Logger;
}

export interface OutboxDispatcher {
  /** Starts polling. */
  start(): void;
  /** Stops polling and waits for the jobs in flight to finish (graceful shutdown). */
  stop(): Promise<void>;
  /** Polls now (after a commit that enqueued work), instead of at the next interval. */
  poke(): void;
  /**
   * One pass over the due outbox (what the poll does), resolved when it is done: the body of the
   * cluster-wide `outbox` sweep (Queue.registerSweep), which re-dispatches what a lost process or a flushed
   * Redis dropped even where this process's own poll is slow. Nothing when stopped.
   */
  sweep(): Promise<void>;
}

/**
 * Moves due outbox entries to the queue: leases a batch, dispatches each entry, and (through the
 * runner it installs on the queue) completes or reschedules it when its handler is done. The outbox
 * is the truth: whatever is lost in memory is leased again once its lease runs out.
 */
export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const { store, queue } = options;
  const clock = options.clock ?? systemClock;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const idlePollMaxMs = Math.max(pollIntervalMs, options.idlePollMaxMs ?? pollIntervalMs);
  /** The pause before the next poll: pollIntervalMs, doubled by each poll that found nothing due. */
  let nextPollMs = pollIntervalMs;
  const leaseMs = options.leaseMs ?? 30_000;
  const batchSize = options.batchSize ?? 32;
  const retry = Object.freeze({
    baseMs: options.retry?.baseMs ?? 1000,
    maxMs: options.retry?.maxMs ?? 60_000,
    maxAttempts: options.retry?.maxAttempts ?? 25,
  });
  const log = options.log ?? pino({ level: 'silent' });

  /** Ids dispatched by this dispatcher and not yet settled. */
  const inFlight = new Set<number>();
  const settle = createOutboxJobRunner({ store, clock, log, retry, leaseMs });
  queue.setJobRunner(async (job, handler) => {
    try {
      await settle(job, handler);
    } finally {
      // Capacity freed: there may be more due work. Only a job this dispatcher counted frees any; with a
      // broker queue (a job dispatched by some process, run here) nothing was counted, and work the job's
      // own commit enqueued is poked by the stage, so a poll here per job would find nothing new.
      if (inFlight.delete(job.id)) poke();
    }
  });

  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let again = false;

  async function pollOnce(): Promise<void> {
    const capacity = batchSize - inFlight.size;
    if (capacity <= 0) return;
    let entries;
    try {
      entries = await store.leaseOutbox(capacity, leaseMs, clock.now());
    } catch (error) {
      log.error({ err: error }, 'outbox lease failed');
      return;
    }
    for (const entry of entries) {
      // Still running here: its lease ran out, not its work. Running it twice at once helps no one.
      if (inFlight.has(entry.id)) continue;
      // A broker queue takes the job out of this process: its slot is free once handed over (another
      // process settles it); a second dispatch of the same lease is deduplicated by the broker.
      const counted = queue.buffer !== 'broker';
      if (counted) inFlight.add(entry.id);
      try {
        await queue.dispatch(entry);
      } catch (error) {
        inFlight.delete(entry.id);
        const delayMs = backoffDelay(entry.attempts + 1, retry);
        log.error(
          { err: error, jobId: entry.id, stage: entry.stage, messageId: entry.messageId, delayMs },
          'job could not be dispatched; retrying',
        );
        const code = isQerdsError(error) ? error.code : 'INTERNAL';
        await store
          .retryOutbox(entry.id, new Date(clock.now().getTime() + delayMs), code, entry.leaseToken)
          .catch((e: unknown) => log.error({ err: e }, 'outbox retry failed'));
      }
    }
    // A full batch: more may be due right now.
    if (entries.length === capacity) again = true;
    nextPollMs = entries.length > 0 ? pollIntervalMs : Math.min(nextPollMs * 2, idlePollMaxMs);
  }

  function schedule(delayMs: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
    timer.unref();
  }

  function tick(): void {
    timer = undefined;
    if (!running) return;
    if (polling) {
      again = true;
      return;
    }
    polling = (async () => {
      do {
        again = false;
        await pollOnce();
      } while (again && running);
    })().finally(() => {
      polling = undefined;
      if (running) schedule(nextPollMs);
    });
  }

  function poke(): void {
    if (!running) return;
    nextPollMs = pollIntervalMs;
    if (polling) again = true;
    else schedule(0);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await polling;
      await queue.drain();
    },
    poke,
    async sweep() {
      if (!running) return;
      if (polling) again = true;
      else tick(); // sets `polling` at once
      await polling;
    },
  };
}
