import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createInProcessQueue,
  createOutboxDispatcher,
  createOutboxJobRunner,
  type JobHandler,
  type OutboxDispatcher,
  type Queue,
} from '../../src/pipeline/index.js';
import { createSqliteStore, type OutboxEntry, type Store } from '../../src/store/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const farFuture = () => new Date(Date.now() + 365 * 24 * 3600 * 1000);

describe('outbox dispatcher + in-process queue on a real SQLite store', () => {
  let dir: string;
  let store: Store;
  const dispatchers: OutboxDispatcher[] = [];
  const messageId = 'msg-1';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-pipeline-'));
    store = createSqliteStore({ file: join(dir, 'qerds.sqlite'), blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.transaction((tx) =>
      tx.insertMessage({
        id: messageId,
        ebmsMessageId: 'ebms-1@test',
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0188', value: '1' },
        recipient: { scheme: '0188', value: '2' },
        parts: [],
        submittedAt: new Date(),
      }),
    );
  });

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function dispatcher(
    queue: Queue,
    options: {
      pollIntervalMs?: number;
      idlePollMaxMs?: number;
      store?: Store;
      leaseMs?: number;
      batchSize?: number;
      retry?: { baseMs: number; maxMs: number; maxAttempts?: number };
    } = {},
  ) {
    // options.store, when given, is a wrapper of the same store that watches its calls.
    const d = createOutboxDispatcher({ store, queue, pollIntervalMs: 20, ...options });
    dispatchers.push(d);
    return d;
  }

  /** Whatever is left in the outbox (leases it: only for the end of a test). */
  const remaining = () => store.leaseOutbox(1000, 1, farFuture());
  /** Live outbox entries (dead letters apart), without leasing them. */
  const live = async () => Object.values((await store.stats()).outboxByStage).reduce((a, b) => a + b, 0);
  /**
   * The barrier for "X never happens again": the outbox holds no live entry (nothing can be leased any
   * more), then the dispatchers stop, which waits for every job they dispatched to settle. Whatever ran,
   * ran before this returns; nothing runs after it.
   */
  const settledAndStopped = async (...stopping: OutboxDispatcher[]) => {
    await vi.waitFor(async () => expect(await live()).toBe(0), { timeout: 30_000, interval: 10 });
    for (const d of stopping) await d.stop();
  };

  it('runs every job of a committed transaction exactly once, even with two dispatchers on one store', async () => {
    const runs = new Map<number, number>();
    const record: JobHandler = async (job) => {
      runs.set(job.data.n as number, (runs.get(job.data.n as number) ?? 0) + 1);
      await sleep(2);
      return { status: 'done' };
    };
    await store.transaction(async (tx) => {
      const stages = ['relay', 'deliver', 'notify'] as const;
      for (let n = 0; n < 30; n++) await tx.enqueue(stages[n % 3]!, messageId, { n });
    });
    const both: OutboxDispatcher[] = [];
    for (let i = 0; i < 2; i++) {
      const queue = createInProcessQueue({ concurrency: 3 });
      for (const stage of ['relay', 'deliver', 'notify'] as const) queue.process(stage, record);
      const d = dispatcher(queue, { batchSize: 5 });
      d.start();
      both.push(d);
    }
    await vi.waitFor(() => expect(runs.size).toBe(30), { timeout: 30_000, interval: 10 });
    // Would a second run sneak in? Every entry completed and both dispatchers drained: no run can come later.
    await settledAndStopped(...both);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(await remaining()).toEqual([]);
  });

  it('never runs jobs of a rolled-back transaction', async () => {
    const ran: string[] = [];
    const queue = createInProcessQueue();
    queue.process('relay', async (job) => {
      ran.push(String(job.data.tag));
      return { status: 'done' };
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.enqueue('relay', messageId, { tag: 'rolled-back' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await store.transaction((tx) => tx.enqueue('relay', messageId, { tag: 'committed' }));
    expect(await live()).toBe(1); // the rolled-back entry was never written
    const d = dispatcher(queue);
    d.start();
    await vi.waitFor(() => expect(ran).toContain('committed'), { timeout: 30_000, interval: 10 });
    await settledAndStopped(d);
    expect(ran).toEqual(['committed']);
  });

  it('retries a throwing handler after back-off, then completes it', async () => {
    const calls: Array<{ at: number; job: OutboxEntry }> = [];
    const queue = createInProcessQueue();
    queue.process('deliver', async (job) => {
      calls.push({ at: Date.now(), job });
      if (calls.length === 1) throw new Error('transient');
      return { status: 'done' };
    });
    await store.transaction((tx) => tx.enqueue('deliver', messageId));
    const d = dispatcher(queue, { retry: { baseMs: 120, maxMs: 120 } });
    d.start();
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 30_000, interval: 5 });
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(55); // equal jitter: at least half of 120 ms
    expect(calls.map((c) => c.job.attempts)).toEqual([0, 1]);
    expect(calls[1]!.job.id).toBe(calls[0]!.job.id);
    await settledAndStopped(d); // completed: no third call can come
    expect(calls).toHaveLength(2);
    expect(await remaining()).toEqual([]);
  });

  it('a handler that keeps throwing becomes a dead letter with its last error after its attempt budget, not retried forever', async () => {
    const calls: number[] = [];
    const queue = createInProcessQueue();
    queue.process('deliver', async (job) => {
      calls.push(job.attempts);
      throw new Error(`broken on attempt ${job.attempts + 1}`);
    });
    await store.transaction((tx) => tx.enqueue('deliver', messageId));
    const d = dispatcher(queue, { retry: { baseMs: 10, maxMs: 10, maxAttempts: 3 } });
    d.start();
    await vi.waitFor(async () => expect(await store.listDeadLetters()).toHaveLength(1), {
      timeout: 30_000,
      interval: 10,
    });
    // Would a fourth attempt come? The entry is no longer live, and a full poll pass with every job it
    // dispatched settled runs nothing.
    expect(await live()).toBe(0);
    await d.sweep();
    await queue.drain();
    expect(calls).toEqual([0, 1, 2]);
    const [dead] = await store.listDeadLetters();
    expect(dead).toMatchObject({
      stage: 'deliver',
      messageId,
      attempts: 3,
      lastError: 'INTERNAL: broken on attempt 3',
    });
    expect(await remaining()).toEqual([]);
    // The admin replay makes it live again, with a fresh budget.
    expect(await store.replayDeadLetter(dead!.id, new Date())).toBe(true);
    await vi.waitFor(() => expect(calls).toHaveLength(6), { timeout: 30_000, interval: 10 });
  });

  it('reschedules a job whose handler asks for a retry, after the delay it asked for', async () => {
    const calls: number[] = [];
    const queue = createInProcessQueue();
    queue.process('relay', async () => {
      calls.push(Date.now());
      return calls.length < 3 ? { status: 'retry', delayMs: 60, error: 'AS4_PEER_DOWN' } : { status: 'done' };
    });
    await store.transaction((tx) => tx.enqueue('relay', messageId));
    dispatcher(queue).start();
    await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 3000, interval: 5 });
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(55);
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(55);
    expect(await remaining()).toEqual([]);
  });

  it('runs a job again once the lease of a crashed dispatcher expires', async () => {
    await store.transaction((tx) => tx.enqueue('notify', messageId, { evidenceId: 'ev-9' }));
    // The "crashed" dispatcher: it leased the entry and died before completing it.
    const leasedAt = Date.now();
    expect(await store.leaseOutbox(10, 300, new Date(leasedAt))).toHaveLength(1);
    const runs: number[] = [];
    const queue = createInProcessQueue();
    queue.process('notify', async (job) => {
      expect(job.data).toEqual({ evidenceId: 'ev-9' });
      runs.push(Date.now());
      return { status: 'done' };
    });
    dispatcher(queue, { leaseMs: 300 }).start();
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 3000, interval: 5 });
    expect(runs[0]! - leasedAt).toBeGreaterThanOrEqual(300);
    expect(await remaining()).toEqual([]);
  });

  it('a job that waited past its lease and was leased again does nothing when it finally runs; the new owner runs and settles it', async () => {
    await store.transaction((tx) => tx.enqueue('relay', messageId));
    const t0 = Date.now();
    const [stale] = await store.leaseOutbox(10, 100, new Date(t0));
    const [owner] = await store.leaseOutbox(10, 100, new Date(t0 + 100));
    expect(owner!.id).toBe(stale!.id);
    const runner = createOutboxJobRunner({
      store,
      clock: { now: () => new Date(t0 + 150) },
      log: pino({ level: 'silent' }),
      retry: { baseMs: 10, maxMs: 10 },
      leaseMs: 100,
    });
    const ran: string[] = [];
    const handler: JobHandler = async (job) => {
      ran.push(job.leaseToken!);
      return { status: 'done' };
    };
    await runner(stale!, handler);
    expect(ran).toEqual([]);
    await runner(owner!, handler);
    expect(ran).toEqual([owner!.leaseToken]);
    expect(await remaining()).toEqual([]);
  });

  it('retries a job whose stage has no handler instead of losing it', async () => {
    const queue = createInProcessQueue();
    queue.process('relay', async () => ({ status: 'done' }));
    await store.transaction((tx) => tx.enqueue('deliver', messageId));
    // The store as the dispatcher sees it, with each retry it records.
    const retried: number[] = [];
    const watched: Store = {
      ...store,
      retryOutbox: (...args) => (retried.push(args[0]), store.retryOutbox(...args)),
    };
    const d = dispatcher(queue, { store: watched, retry: { baseMs: 10_000, maxMs: 10_000 } });
    d.start();
    await vi.waitFor(() => expect(retried).toHaveLength(1), { timeout: 30_000, interval: 5 });
    await d.stop();
    const [entry, ...rest] = await remaining();
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ stage: 'deliver', attempts: 1 });
  });

  it('poke() makes a job run at once instead of at the next poll', async () => {
    const runs: number[] = [];
    const queue = createInProcessQueue();
    queue.process('relay', async () => {
      runs.push(Date.now());
      return { status: 'done' };
    });
    // The first poll (at start) must have come and gone before the commit, or it would find the job itself.
    let polled = 0;
    const watched: Store = {
      ...store,
      leaseOutbox: async (...args) => {
        const leased = await store.leaseOutbox(...args);
        polled += 1;
        return leased;
      },
    };
    // The next poll by timer is an hour away: a run within the test's time comes from the poke.
    const d = dispatcher(queue, { store: watched, pollIntervalMs: 3_600_000 });
    d.start();
    await vi.waitFor(() => expect(polled).toBe(1), { timeout: 30_000, interval: 5 });
    await store.transaction((tx) => tx.enqueue('relay', messageId));
    d.poke();
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 30_000, interval: 5 });
  });

  it('idle polls back off to idlePollMaxMs; a job found by polling brings the short interval back', async () => {
    // The dispatcher's timers on a fake clock (the store and the queue run on promises only): the pauses
    // measured are the pauses it chose, whatever the load on the machine.
    // The store's WAL syncs are file I/O, which fake time does not advance: this store syncs on a promise alone.
    await store.close();
    store = createSqliteStore({
      file: join(dir, 'qerds.sqlite'),
      blobDir: join(dir, 'blobs'),
      syncWal: async () => {},
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      // The real store, with the (fake) time of each lease (poll) recorded.
      const polls: number[] = [];
      const watched: Store = {
        ...store,
        leaseOutbox: (...args) => (polls.push(performance.now()), store.leaseOutbox(...args)),
      };
      const runs: number[] = [];
      const queue = createInProcessQueue();
      queue.process('relay', async () => {
        runs.push(performance.now());
        return { status: 'done' };
      });
      dispatcher(queue, { store: watched, pollIntervalMs: 20, idlePollMaxMs: 160 }).start();
      await vi.advanceTimersByTimeAsync(1200);
      const gaps = polls.slice(1).map((t, i) => t - polls[i]!);
      // Each empty poll doubles the pause from 20 ms (the first, at start, too) up to 160: without back-off
      // every gap would be 20 ms (60 polls, not 9).
      expect(gaps).toEqual([40, 80, 160, 160, 160, 160, 160, 160]);
      // Work due with no poke (as from another process) is found by the next idle poll.
      await store.transaction((tx) => tx.enqueue('relay', messageId));
      const found = polls.length;
      await vi.advanceTimersByTimeAsync(160);
      expect(runs).toHaveLength(1);
      expect(polls.length).toBeGreaterThan(found);
      // After work the pauses start again from pollIntervalMs: the poll that found the job (160 ms after the
      // last idle one) and the job's end poke at once; that poke's empty poll doubles 20 to 40, then 80…
      await vi.advanceTimersByTimeAsync(200);
      const after = polls.slice(found).map((t, i) => t - polls[found + i - 1]!);
      expect(after[0]).toBe(160);
      expect(after.slice(2, 4)).toEqual([40, 80]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop() waits for the jobs in flight and takes no new ones', async () => {
    const events: string[] = [];
    const queue = createInProcessQueue();
    queue.process('relay', async (job) => {
      events.push(`start ${job.data.n}`);
      await sleep(200);
      events.push(`end ${job.data.n}`);
      return { status: 'done' };
    });
    await store.transaction((tx) => tx.enqueue('relay', messageId, { n: 1 }));
    const d = dispatcher(queue);
    d.start();
    await vi.waitFor(() => expect(events).toEqual(['start 1']), { timeout: 2000, interval: 5 });
    await d.stop();
    expect(events).toEqual(['start 1', 'end 1']);
    await store.transaction((tx) => tx.enqueue('relay', messageId, { n: 2 }));
    d.poke();
    await d.sweep(); // what a poll would do: nothing, when stopped
    await queue.drain();
    expect(events).toEqual(['start 1', 'end 1']);
    const left = await remaining();
    expect(left.map((e) => e.data.n)).toEqual([2]); // job 1 was completed before stop() returned
  });
});
