import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/index.js';
import { createOutboxJobRunner, type JobHandler } from '../../src/pipeline/index.js';
import { createSqliteStore, type OutboxEntry, type Store } from '../../src/store/index.js';

/**
 * One commit per job step: a handler commits its step through the JobCompletion the runner hands it, and that
 * transaction also completes the job's outbox entry under its lease. These tests hold the runner to it: the step
 * and the completion commit together or not at all, a step under a lost lease commits nothing, and nothing is
 * settled twice.
 */
describe('job runner: a step and its job complete in one transaction', () => {
  let dir: string;
  let store: Store;
  const messageId = 'msg-1';
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(t0 + ms);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-step-'));
    store = createSqliteStore({
      file: join(dir, 'qerds.sqlite'),
      blobDir: join(dir, 'blobs'),
      clock: { now: () => at(0) },
    });
    await store.migrate();
    await store.transaction(async (tx) => {
      await tx.insertMessage({
        id: messageId,
        ebmsMessageId: 'ebms-1@test',
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0188', value: '1' },
        recipient: { scheme: '0188', value: '2' },
        parts: [],
        submittedAt: at(0),
      });
      await tx.enqueue('relay', messageId);
    });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A runner at `now`, on `over` (the store, or a wrapper of it); its log lines collected. */
  function runnerAt(now: number, over: Store = store) {
    const lines: { level: number; msg: string }[] = [];
    const log = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
    );
    const run = createOutboxJobRunner({
      store: over,
      clock: { now: () => at(now) },
      log,
      retry: { baseMs: 1000, maxMs: 1000 },
      leaseMs: 1000,
    });
    return { run, lines };
  }

  /** The step of a relay job: the message moves on and a notify job is enqueued, through the completion. */
  const relayStep =
    (after?: () => void): JobHandler =>
    async (job, completion) => {
      await completion!.transaction(async (tx) => {
        expect(await tx.transitionMessage(job.messageId, 'submitted', 'relaying')).toBe(true);
        await tx.enqueue('notify', job.messageId, { evidenceId: 'ev-1' });
        after?.();
      });
      return { status: 'done' };
    };

  /** Every entry in the outbox, leased or not, without leasing them (dead letters apart). */
  const entries = async () => (await store.stats()).outboxByStage;

  it("commits the step's writes and removes its entry together; the runner settles nothing after", async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    let settledAfter = 0;
    const watched: Store = {
      ...store,
      completeOutbox: async (...args) => (settledAfter++, store.completeOutbox(...args)),
      retryOutbox: async (...args) => (settledAfter++, store.retryOutbox(...args)),
      deadLetterOutbox: async (...args) => (settledAfter++, store.deadLetterOutbox(...args)),
    };
    const { run, lines } = runnerAt(10, watched);
    await run(job!, relayStep());
    expect((await store.getMessage(messageId))?.state).toBe('relaying');
    expect(await entries()).toEqual({ notify: 1 });
    expect(settledAfter).toBe(0);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('a step whose lease was taken over commits none of its writes; the new owner runs and completes it', async () => {
    // The stale worker's lease runs out and another dispatcher leases the entry anew, while the stale one
    // still believes its lease fresh (it got the job late, from a queue): it runs the step.
    const [stale] = await store.leaseOutbox(10, 1000, at(0));
    const [owner] = await store.leaseOutbox(10, 1000, at(1000));
    expect(owner!.leaseToken).not.toBe(stale!.leaseToken);
    const wrote: string[] = [];
    const { run, lines } = runnerAt(10);
    await run(
      stale!,
      relayStep(() => wrote.push('stale')),
    );
    expect(wrote).toEqual(['stale']); // its writes ran, and were rolled back with the lost completion
    expect((await store.getMessage(messageId))?.state).toBe('submitted');
    expect(await entries()).toEqual({ relay: 1 });
    expect(lines.some((l) => l.level === 40 && /lease was taken over/.test(l.msg))).toBe(true);
    // Nothing was recorded against the entry: the owner's lease and attempts are as it leased them.
    expect(await store.renewOutboxLease(owner!.id, owner!.leaseToken!, 1000, at(1010))).toBe(true);
    await runnerAt(1010).run(owner!, relayStep());
    expect((await store.getMessage(messageId))?.state).toBe('relaying');
    expect(await entries()).toEqual({ notify: 1 });
  });

  it("a failure after the step's writes, before its completion, leaves no half state: the job runs again", async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    // The store fails at the completion itself (the connection dropped, the disk is full): the writes before it
    // in the same transaction must go with it.
    const failing: Store = {
      ...store,
      transaction: (work) =>
        store.transaction((tx) =>
          work({
            ...tx,
            completeOutbox: async () => {
              throw new Error('disk I/O error');
            },
          }),
        ),
    };
    await runnerAt(10, failing).run(job!, relayStep());
    expect((await store.getMessage(messageId))?.state).toBe('submitted');
    expect(await entries()).toEqual({ relay: 1 });
    // Rescheduled under its lease like any failed attempt (attempts + 1, due after the back-off).
    const [again] = await store.leaseOutbox(10, 1000, at(2000));
    expect(again).toMatchObject({ id: job!.id, attempts: 1 });
    await runnerAt(2010).run(again!, relayStep());
    expect((await store.getMessage(messageId))?.state).toBe('relaying');
    expect(await entries()).toEqual({ notify: 1 });
  });

  it('a handler that throws inside its step transaction commits nothing and is retried', async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    const { run } = runnerAt(10);
    await run(
      job!,
      relayStep(() => {
        throw new Error('bug after the writes');
      }),
    );
    expect((await store.getMessage(messageId))?.state).toBe('submitted');
    const [again] = await store.leaseOutbox(10, 1000, at(2000));
    expect(again).toMatchObject({ id: job!.id, attempts: 1 });
  });

  it('a handler that throws after its step committed is settled all the same: not retried, not run twice', async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    const { run, lines } = runnerAt(10);
    const handler: JobHandler = async (j, completion) => {
      await relayStep()(j, completion);
      throw new Error('after the commit');
    };
    await run(job!, handler);
    expect((await store.getMessage(messageId))?.state).toBe('relaying');
    expect(await entries()).toEqual({ notify: 1 });
    expect(lines.some((l) => l.level === 50 && /after its step committed/.test(l.msg))).toBe(true);
  });

  it('a second transaction through the completion is a plain one (the job is already settled)', async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    const handler: JobHandler = async (j, completion) => {
      await relayStep()(j, completion);
      await completion!.transaction((tx) => tx.enqueue('deliver', j.messageId));
      return { status: 'done' };
    };
    await runnerAt(10).run(job!, handler);
    expect(await entries()).toEqual({ notify: 1, deliver: 1 });
  });

  it('a step that does not use the completion is completed by the runner afterwards, as before', async () => {
    const [job] = await store.leaseOutbox(10, 1000, at(0));
    const handler: JobHandler = async (j: OutboxEntry) => {
      expect(await store.transitionMessage(j.messageId, 'submitted', 'relaying')).toBe(true);
      return { status: 'done' };
    };
    await runnerAt(10).run(job!, handler);
    expect(await entries()).toEqual({});
  });

  it('the completion refuses a lease lost meanwhile with PIPELINE_LEASE_LOST, inside the transaction', async () => {
    const [stale] = await store.leaseOutbox(10, 1000, at(0));
    await store.leaseOutbox(10, 1000, at(1000));
    let thrown: unknown;
    const handler: JobHandler = async (j, completion) => {
      try {
        await completion!.transaction((tx) => tx.enqueue('notify', j.messageId));
      } catch (error) {
        thrown = error;
        throw error;
      }
      return { status: 'done' };
    };
    await runnerAt(10).run(stale!, handler);
    expect(isQerdsError(thrown, 'PIPELINE_LEASE_LOST')).toBe(true);
    expect(await entries()).toEqual({ relay: 1 });
  });

  it('jobs done outside a step in the same turn are completed in one statement, each under its own lease', async () => {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) await tx.enqueue('notify', messageId, { i });
    });
    const leased = await store.leaseOutbox(10, 1000, at(0));
    const notify = leased.filter((e) => e.stage === 'notify');
    expect(notify).toHaveLength(3);
    // The third one's lease was taken over meanwhile (it waited in a queue): its completion removes nothing.
    await store.retryOutbox(notify[2]!.id, at(0), 'X', notify[2]!.leaseToken);
    const [owner] = await store.leaseOutbox(10, 1000, at(1));
    const single: number[] = [];
    const batches: number[][] = [];
    const watched: Store = {
      ...store,
      completeOutbox: async (id, token) => (single.push(id), store.completeOutbox(id, token)),
      completeOutboxEntries: async (list) => (
        batches.push(list.map((e) => e.id)),
        store.completeOutboxEntries(list)
      ),
    };
    const { run, lines } = runnerAt(10, watched);
    const done: JobHandler = async () => ({ status: 'done' });
    await Promise.all(notify.map((job) => run(job, done)));
    expect(single).toEqual([]);
    expect(batches).toEqual([notify.map((e) => e.id)]);
    // The relay entry and the third notify (now another lease's) are left.
    expect(await entries()).toEqual({ relay: 1, notify: 1 });
    expect(lines.filter((l) => l.level === 40 && /lease was taken over/.test(l.msg))).toHaveLength(1);
    // A job done alone is one DELETE of its own, as before.
    await run(owner!, done);
    expect(single).toEqual([owner!.id]);
    expect(await entries()).toEqual({ relay: 1 });
  });
});
