import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createOutboxDispatcher,
  type JobHandler,
  type OutboxDispatcher,
  type Queue,
} from '../../src/pipeline/index.js';
import {
  createSqliteStore,
  pipelineStages,
  type OutboxEntry,
  type PipelineStage,
  type Store,
} from '../../src/store/index.js';

/** What an adapter's test hands the suite. */
export interface QueueFixture {
  readonly queue: Queue;
  /**
   * Loses every job the queue holds but has not finished, as a crash of its backing service would
   * (Redis FLUSHALL or restart). Absent for adapters with nothing outside the process.
   */
  loseJobs?(): Promise<void>;
  dispose(): Promise<void>;
}

export type QueueFactory = (options: { concurrency: number }) => Promise<QueueFixture>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const job = (
  id: number,
  stage: PipelineStage = 'relay',
  data: Record<string, unknown> = {},
): OutboxEntry => ({
  id,
  stage,
  messageId: `m${id}`,
  data,
  createdAt: new Date(1_700_000_000_000),
  attempts: 0,
});
const done = { status: 'done' } as const;

/**
 * The contract of the Queue port (src/pipeline/types.ts). Every adapter passes it: in-process
 * (test/pipeline/in-process-queue.test.ts) and BullMQ (test/pipeline/bullmq-queue.test.ts).
 */
export function describeQueueConformance(
  name: string,
  factory: QueueFactory,
  capabilities: { readonly external: boolean },
): void {
  describe(`Queue conformance: ${name}`, () => {
    const fixtures: QueueFixture[] = [];
    const open = async (concurrency = 4) => {
      const fixture = await factory({ concurrency });
      fixtures.push(fixture);
      return fixture;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.dispose();
    });

    it('runs each dispatched job once, through the installed runner, with its data intact', async () => {
      const { queue } = await open();
      const runs = new Map<number, number>();
      const seen: OutboxEntry[] = [];
      const record: JobHandler = async (j) => {
        runs.set(j.id, (runs.get(j.id) ?? 0) + 1);
        seen.push(j);
        return done;
      };
      for (const stage of pipelineStages) queue.process(stage, record);
      const viaRunner: number[] = [];
      queue.setJobRunner(async (j, handler) => {
        viaRunner.push(j.id);
        await handler(j);
      });
      for (let i = 1; i <= 30; i++)
        await queue.dispatch(job(i, pipelineStages[i % 3], { n: i, nested: { ok: true } }));
      await queue.drain();
      // Would a second run sneak in? A marker per stage, dispatched after the 30 and run to its end, shows
      // each stage's queue handed out everything before it; close() then waits for whatever still runs
      // and takes nothing more, so the counts below are final.
      const markers = pipelineStages.map((stage, i) => job(100 + i, stage));
      for (const marker of markers) await queue.dispatch(marker);
      await queue.drain();
      await queue.close();
      for (const marker of markers) runs.delete(marker.id);
      expect([...runs.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect([...runs.values()].every((c) => c === 1)).toBe(true);
      expect(viaRunner.filter((id) => id < 100).sort((a, b) => a - b)).toEqual(
        [...runs.keys()].sort((a, b) => a - b),
      );
      const seven = seen.find((j) => j.id === 7)!;
      expect(seven).toEqual(job(7, pipelineStages[7 % 3], { n: 7, nested: { ok: true } }));
      expect(seven.createdAt).toBeInstanceOf(Date);
    });

    it('bounds concurrency per stage, independently for each stage', async () => {
      const { queue } = await open(2);
      const active: Record<string, number> = { relay: 0, notify: 0, deliver: 0 };
      const peak: Record<string, number> = { relay: 0, notify: 0, deliver: 0 };
      const handler: JobHandler = async (j) => {
        active[j.stage] = (active[j.stage] ?? 0) + 1;
        peak[j.stage] = Math.max(peak[j.stage] ?? 0, active[j.stage]!);
        await sleep(60);
        active[j.stage]! -= 1;
        return done;
      };
      queue.process('relay', handler);
      queue.process('notify', handler, { concurrency: 1 });
      queue.process('deliver', handler, { concurrency: 3 });
      for (let i = 1; i <= 8; i++) await queue.dispatch(job(i, 'relay'));
      for (let i = 11; i <= 14; i++) await queue.dispatch(job(i, 'notify'));
      for (let i = 21; i <= 29; i++) await queue.dispatch(job(i, 'deliver'));
      await queue.drain();
      expect(peak).toEqual({ relay: 2, notify: 1, deliver: 3 });
    });

    it('drain waits for slow jobs, and resolves at once when idle', async () => {
      const { queue } = await open();
      const finished: number[] = [];
      queue.process('deliver', async (j) => {
        await sleep(150);
        finished.push(j.id);
        return done;
      });
      // At once when idle: before any timer fires (waiting for a poll interval would take one).
      const first = await Promise.race([
        queue.drain().then(() => 'drained'),
        new Promise((r) => setTimeout(() => r('a timer'), 0)),
      ]);
      expect(first).toBe('drained');
      for (let i = 1; i <= 3; i++) await queue.dispatch(job(i, 'deliver'));
      await queue.drain();
      expect(finished.sort()).toEqual([1, 2, 3]);
    });

    it('close lets the running job finish, then refuses new work', async () => {
      const { queue } = await open();
      let started = false;
      let finished = false;
      queue.process('relay', async () => {
        started = true;
        await sleep(200);
        finished = true;
        return done;
      });
      await queue.dispatch(job(1));
      await vi.waitFor(() => expect(started).toBe(true), { timeout: 5000, interval: 5 });
      await queue.close();
      expect(finished).toBe(true);
      await expect(queue.dispatch(job(2))).rejects.toMatchObject({ code: 'PIPELINE_QUEUE_CLOSED' });
    });

    it('refuses a second handler for a stage and a non-positive concurrency', async () => {
      const { queue } = await open();
      queue.process('relay', async () => done);
      expect(() => queue.process('relay', async () => done)).toThrow(
        expect.objectContaining({ code: 'PIPELINE_HANDLER_EXISTS' }),
      );
      expect(() => queue.process('notify', async () => done, { concurrency: 0 })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('runs a registered sweep at its interval, never two runs at once, on after a throw, not after close', async () => {
      const fixture = await open();
      const starts: number[] = [];
      let active = 0;
      let peak = 0;
      fixture.queue.registerSweep('conformance', 100, async () => {
        starts.push(Date.now());
        active += 1;
        peak = Math.max(peak, active);
        await sleep(30);
        active -= 1;
        if (starts.length === 2) throw new Error('a failing sweep run');
      });
      await vi.waitFor(() => expect(starts.length).toBeGreaterThanOrEqual(4), {
        timeout: 5000,
        interval: 10,
      });
      expect(peak).toBe(1);
      // Not a busy loop: the runs are spread over the interval (lenient lower bound: timers and Redis jitter).
      expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(150); // a busy loop: about 3 × 30 ms
      expect(() => fixture.queue.registerSweep('conformance', 100, async () => undefined)).toThrow(
        expect.objectContaining({ code: 'PIPELINE_HANDLER_EXISTS' }),
      );
      expect(() => fixture.queue.registerSweep('Bad Name!', 100, async () => undefined)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
      expect(() => fixture.queue.registerSweep('zero', 0, async () => undefined)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
      await fixture.queue.close();
      const after = starts.length;
      // Not after close: a sibling queue's sweep of the same interval, registered now, runs three times
      // while the closed one's runs nothing (a condition, not a guess at how long three intervals take here).
      const sibling = await open();
      let siblingRuns = 0;
      sibling.queue.registerSweep('conformance', 100, async () => void (siblingRuns += 1));
      await vi.waitFor(() => expect(siblingRuns).toBeGreaterThanOrEqual(3), {
        timeout: 30_000,
        interval: 10,
      });
      expect(starts.length).toBe(after);
    });

    describe('with the outbox dispatcher on a real store', () => {
      let dir: string;
      let store: Store;
      const dispatchers: OutboxDispatcher[] = [];
      beforeEach(async () => {
        dir = mkdtempSync(join(tmpdir(), 'qerds-queue-conf-'));
        store = createSqliteStore({ file: join(dir, 'qerds.sqlite'), blobDir: join(dir, 'blobs') });
        await store.migrate();
        await store.transaction((tx) =>
          tx.insertMessage({
            id: 'msg-1',
            ebmsMessageId: 'e1@test',
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
        for (const f of fixtures.splice(0)) await f.dispose();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      });
      const start = (queue: Queue, leaseMs = 30_000) => {
        const d = createOutboxDispatcher({
          store,
          queue,
          pollIntervalMs: 20,
          leaseMs,
          retry: { baseMs: 50, maxMs: 100 },
        });
        dispatchers.push(d);
        d.start();
        return d;
      };
      /** Whatever is left in the outbox (leases it: only for the end of a test). */
      const remaining = () => store.leaseOutbox(1000, 1, new Date(Date.now() + 365 * 86_400_000));
      /**
       * The barrier for "no further run": no live outbox entry is left (nothing can be leased any more),
       * then the dispatchers stop, which waits for every job they dispatched to end.
       */
      const settledAndStopped = async (...stopping: OutboxDispatcher[]) => {
        await vi.waitFor(async () => expect(Object.values((await store.stats()).outboxByStage)).toEqual([]), {
          timeout: 30_000,
          interval: 10,
        });
        for (const d of stopping) await d.stop();
      };

      it('settles the outbox with each outcome: done removes the row, retry brings it back with attempts + 1, a throw is retried', async () => {
        const { queue } = await open();
        const calls: Array<{ n: number; attempts: number }> = [];
        queue.process('relay', async (j) => {
          calls.push({ n: j.data.n as number, attempts: j.attempts });
          if (j.data.n === 2 && j.attempts === 0)
            return { status: 'retry', delayMs: 30, error: 'AS4_PEER_DOWN' };
          if (j.data.n === 3 && j.attempts === 0) throw new Error('transient bug');
          return done;
        });
        await store.transaction(async (tx) => {
          for (const n of [1, 2, 3]) await tx.enqueue('relay', 'msg-1', { n });
        });
        const d = start(queue);
        await vi.waitFor(() => expect(calls).toHaveLength(5), { timeout: 30_000, interval: 10 });
        // No sixth call: every entry completed, and the stopped dispatcher waited for its jobs to settle.
        await settledAndStopped(d);
        expect(calls.sort((a, b) => a.n - b.n || a.attempts - b.attempts)).toEqual([
          { n: 1, attempts: 0 },
          { n: 2, attempts: 0 },
          { n: 2, attempts: 1 },
          { n: 3, attempts: 0 },
          { n: 3, attempts: 1 },
        ]);
        expect(await remaining()).toEqual([]);
      });

      it('with two dispatchers sharing a store, every job runs exactly once', async () => {
        const runs = new Map<number, number>();
        const record: JobHandler = async (j) => {
          runs.set(j.data.n as number, (runs.get(j.data.n as number) ?? 0) + 1);
          await sleep(2);
          return done;
        };
        await store.transaction(async (tx) => {
          for (let n = 0; n < 40; n++) await tx.enqueue(pipelineStages[n % 3]!, 'msg-1', { n });
        });
        const both: OutboxDispatcher[] = [];
        for (let i = 0; i < 2; i++) {
          const { queue } = await open(3);
          for (const stage of pipelineStages) queue.process(stage, record);
          both.push(start(queue));
        }
        await vi.waitFor(() => expect(runs.size).toBe(40), { timeout: 30_000, interval: 10 });
        // Would a second run sneak in? Every entry completed and both dispatchers drained their queues.
        await settledAndStopped(...both);
        expect([...runs.values()].every((c) => c === 1)).toBe(true);
        expect(await remaining()).toEqual([]);
      });

      // Only adapters that keep jobs outside the process can lose them while it runs; an in-process
      // queue loses its jobs only with the process, which the crash tests cover.
      if (capabilities.external) {
        it('when the queue loses its jobs mid-run, every job still ends done (the lease brings them back)', async () => {
          const fixture = await open(2);
          if (!fixture.loseJobs)
            throw new Error(`${name}: an external queue's fixture must provide loseJobs()`);
          const runs = new Map<number, number>();
          let lost = false;
          fixture.queue.process('relay', async (j) => {
            await sleep(40);
            runs.set(j.data.n as number, (runs.get(j.data.n as number) ?? 0) + 1);
            return done;
          });
          await store.transaction(async (tx) => {
            for (let n = 0; n < 30; n++) await tx.enqueue('relay', 'msg-1', { n });
          });
          start(fixture.queue, 1500);
          await vi.waitFor(() => expect(runs.size).toBeGreaterThanOrEqual(4), {
            timeout: 10_000,
            interval: 5,
          });
          await fixture.loseJobs();
          lost = true;
          const atLoss = runs.size;
          await vi.waitFor(() => expect(runs.size).toBe(30), { timeout: 20_000, interval: 20 });
          expect(lost && atLoss < 30).toBe(true);
          expect(await remaining()).toEqual([]);
        }, 30_000);
      }
    });
  });
}
