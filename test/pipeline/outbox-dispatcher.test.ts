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
    for (let i = 0; i < 2; i++) {
      const queue = createInProcessQueue({ concurrency: 3 });
      for (const stage of ['relay', 'deliver', 'notify'] as const) queue.process(stage, record);
      dispatcher(queue, { batchSize: 5 }).start();
    }
    await vi.waitFor(() => expect(runs.size).toBe(30), { timeout: 5000, interval: 10 });
    await sleep(150); // would a second run sneak in?
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
    dispatcher(queue).start();
    await vi.waitFor(() => expect(ran).toContain('committed'), { timeout: 3000, interval: 10 });
    await sleep(100);
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
    dispatcher(queue, { retry: { baseMs: 120, maxMs: 120 } }).start();
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 3000, interval: 5 });
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(55); // equal jitter: at least half of 120 ms
    expect(calls.map((c) => c.job.attempts)).toEqual([0, 1]);
    expect(calls[1]!.job.id).toBe(calls[0]!.job.id);
    await sleep(50);
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
    dispatcher(queue, { retry: { baseMs: 10, maxMs: 10, maxAttempts: 3 } }).start();
    await vi.waitFor(async () => expect(await store.listDeadLetters()).toHaveLength(1), {
      timeout: 3000,
      interval: 10,
    });
    await sleep(100); // would a fourth attempt come?
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
    await vi.waitFor(() => expect(calls).toHaveLength(6), { timeout: 3000, interval: 10 });
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
    const d = dispatcher(queue, { retry: { baseMs: 10_000, maxMs: 10_000 } });
    d.start();
    await sleep(100);
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
    const d = dispatcher(queue, { pollIntervalMs: 60_000 });
    d.start();
    await sleep(50); // the first poll has come and gone
    await store.transaction((tx) => tx.enqueue('relay', messageId));
    const committedAt = Date.now();
    d.poke();
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 2000, interval: 5 });
    expect(runs[0]! - committedAt).toBeLessThan(1000);
  });

  it('idle polls back off to idlePollMaxMs; a job found by polling brings the short interval back', async () => {
    // The real store, with the time of each lease (poll) recorded.
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
    await sleep(1200);
    const gaps = polls.slice(1).map((t, i) => t - polls[i]!);
    // Doubling from 20 ms: 20, 40, 80, 160, 160… A timer never fires early, so no gap is shorter than its pause;
    // without back-off every gap would be about 20 ms (and there would be about 60 polls, not at most 12).
    expect(polls.length).toBeLessThanOrEqual(12);
    expect(gaps.slice(3).every((gap) => gap >= 155)).toBe(true);
    // Work due with no poke (as from another process) is found by the next idle poll, within about 160 ms.
    await store.transaction((tx) => tx.enqueue('relay', messageId));
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 5000, interval: 5 });
    const found = polls.length;
    await vi.waitFor(() => expect(polls.length).toBeGreaterThanOrEqual(found + 2), {
      timeout: 5000,
      interval: 5,
    });
    // After work (found by a poll; the job's end pokes too), the pause is pollIntervalMs again (then 40, 80…), not 160.
    expect(polls[found]! - polls[found - 1]!).toBeLessThan(155);
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
    await sleep(100);
    expect(events).toEqual(['start 1', 'end 1']);
    const left = await remaining();
    expect(left.map((e) => e.data.n)).toEqual([2]); // job 1 was completed before stop() returned
  });
});
