import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock, uuidIdGenerator } from '../../src/core/index.js';
import {
  createInProcessQueue,
  createOutboxDispatcher,
  receiveMessage,
  type EvidenceIssuer,
  type OutboxDispatcher,
  type PipelineContext,
} from '../../src/pipeline/index.js';
import { testPostgresStore, type TestPostgresStore } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Races that only a store with real concurrent writers shows: two worker processes (two stores with
 * their own pools) on one PostgreSQL schema.
 */
describe('scale-out races on PostgreSQL', () => {
  let pg: TestPostgresStore | undefined;
  const dispatchers: OutboxDispatcher[] = [];

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    await pg?.dispose();
    pg = undefined;
  });

  it('a job that runs over 4× longer than the lease runs once: the owner renews its lease, the other dispatcher never gets it', async () => {
    pg = await testPostgresStore();
    const messageId = 'msg-slow';
    await pg.store.transaction(async (tx) => {
      await tx.insertMessage({
        id: messageId,
        ebmsMessageId: 'slow@test',
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0088', value: 'a' },
        recipient: { scheme: '0088', value: 'b' },
        parts: [],
        submittedAt: new Date(),
      });
      await tx.enqueue('relay', messageId);
    });
    // Renewed every third of it: long enough that a busy machine's pauses (a renewal late by up to two thirds)
    // do not lose it, which is the product's margin, not what this test is about.
    const leaseMs = 1500;
    const runs: string[] = [];
    /** When each dispatcher polled (leased), by worker. */
    const polls: number[][] = [[], []];
    let jobStarted = 0;
    // The job ends once BOTH dispatchers have polled three times after four lease lengths since it began:
    // the other one then had its chances at an entry whose lease, unrenewed, would have run out three
    // times over. Not a guess at how long that takes on this machine.
    const pastFourLeases = () =>
      polls.every((times) => times.filter((t) => t > jobStarted + 4 * leaseMs).length >= 3) || undefined;
    const workers = [pg.store, pg.openSibling()].map((plain, i) => {
      const store: typeof plain = {
        ...plain,
        leaseOutbox: (...args) => (polls[i]!.push(Date.now()), plain.leaseOutbox(...args)),
      };
      const queue = createInProcessQueue();
      queue.process('relay', async () => {
        jobStarted = Date.now();
        runs.push(`worker ${i}`);
        await waitFor(pastFourLeases, { what: 'both dispatchers polling past four lease lengths' });
        return { status: 'done' };
      });
      const d = createOutboxDispatcher({ store, queue, pollIntervalMs: 20, leaseMs });
      dispatchers.push(d);
      return d;
    });
    for (const d of workers) d.start();
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 30_000, interval: 10 });
    // Settled by its owner: the completion was not refused as stale, so no live entry is left; both
    // dispatchers then stop, waiting for their jobs: no second run can come after this.
    await vi.waitFor(async () => expect((await pg!.store.stats()).outboxByStage).toEqual({}), {
      timeout: 60_000,
      interval: 20,
    });
    for (const d of workers) await d.stop();
    expect(runs).toHaveLength(1);
    expect(await pg.store.leaseOutbox(10, 1, new Date(Date.now() + 86_400_000))).toEqual([]);
  });

  it('two receptions of one ebMS MessageId at once record one message and one evidence; the other is a duplicate', async () => {
    pg = await testPostgresStore();
    const sealed: string[] = [];
    // The sealing step stands in for XAdES + TSA: neither copy goes on until both have passed the early
    // duplicate read and reached it, so the race is the one at the commit, on any machine.
    const evidence: EvidenceIssuer = {
      async issue(request) {
        const id = uuidIdGenerator.next('ev');
        sealed.push(id);
        await waitFor(() => (sealed.length >= 2 ? true : undefined), { what: 'both copies sealing' });
        return { id, event: request.event, eventTime: new Date(), xml: `<Evidence id="${id}"/>` };
      },
    };
    const context = (store: TestPostgresStore['store']): PipelineContext =>
      ({
        self: { id: 'urn:ap:c3', name: 'C3' },
        store,
        clock: systemClock,
        ids: uuidIdGenerator,
        evidence,
        participants: { details: async (id: unknown) => ({ id }), isLocal: async () => true },
        log: pino({ level: 'silent' }),
        poke: () => undefined,
      }) as unknown as PipelineContext;
    const input = {
      ebmsMessageId: 'twice@c2.test',
      sender: { scheme: '0088', value: 'alice' },
      recipient: { scheme: '0088', value: 'bob' },
      parts: [{ partId: 'p1', contentType: 'text/plain', body: Buffer.from('hello') }],
      fromErds: { id: 'urn:ap:c2', name: 'C2' },
    };
    const results = await Promise.all([
      receiveMessage(context(pg.store), input),
      receiveMessage(context(pg.openSibling()), input),
    ]);
    expect(sealed).toHaveLength(2); // both really raced past the early read
    expect(results.map((r) => r.duplicate).sort()).toEqual([false, true]);
    const stored = await pg.store.findMessageByEbmsId('twice@c2.test', 'recipient-ap');
    expect(stored?.state).toBe('received');
    expect((await pg.store.listMessages()).filter((m) => m.ebmsMessageId === 'twice@c2.test')).toHaveLength(
      1,
    );
    const chain = await pg.store.listEvidence(stored!.id);
    expect(chain.map((e) => e.event)).toEqual(['RelayAcceptance']);
    // One delivery job and one evidence return, not two of each.
    const jobs = await pg.store.leaseOutbox(10, 1, new Date(Date.now() + 86_400_000));
    expect(jobs.map((j) => j.stage).sort()).toEqual(['deliver', 'notify']);
    expect(jobs.find((j) => j.stage === 'notify')?.data).toEqual({ evidenceId: chain[0]!.id });
  });
});
