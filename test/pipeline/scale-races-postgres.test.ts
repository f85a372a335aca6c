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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('a job that runs 4× longer than the lease runs once: the owner renews its lease, the other dispatcher never gets it', async () => {
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
    const runs: string[] = [];
    const workers = [pg.store, pg.openSibling()].map((store, i) => {
      const queue = createInProcessQueue();
      queue.process('relay', async () => {
        runs.push(`worker ${i}`);
        await sleep(1200);
        return { status: 'done' };
      });
      const d = createOutboxDispatcher({ store, queue, pollIntervalMs: 20, leaseMs: 300 });
      dispatchers.push(d);
      return d;
    });
    for (const d of workers) d.start();
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 5000, interval: 10 });
    // Both dispatchers keep polling every 20 ms through four lease lengths, and a while after the job ends.
    await sleep(1600);
    expect(runs).toHaveLength(1);
    // Settled by its owner: the completion was not refused as stale.
    expect(await pg.store.leaseOutbox(10, 1, new Date(Date.now() + 86_400_000))).toEqual([]);
  });

  it('two receptions of one ebMS MessageId at once record one message and one evidence; the other is a duplicate', async () => {
    pg = await testPostgresStore();
    const sealed: string[] = [];
    // The sealing step stands in for XAdES + TSA: slow enough that both copies pass the early duplicate read.
    const evidence: EvidenceIssuer = {
      async issue(request) {
        const id = uuidIdGenerator.next('ev');
        sealed.push(id);
        await sleep(150);
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
