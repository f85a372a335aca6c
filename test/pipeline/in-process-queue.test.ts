import { describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../../src/pipeline/index.js';
import type { OutboxEntry, PipelineStage } from '../../src/store/index.js';

const job = (id: number, stage: PipelineStage = 'relay'): OutboxEntry => ({
  id,
  stage,
  messageId: `m${id}`,
  data: {},
  createdAt: new Date(0),
  attempts: 0,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-process queue', () => {
  it('runs each stage with its own bounded concurrency and drains', async () => {
    const queue = createInProcessQueue({ concurrency: 2 });
    let active = 0;
    let peak = 0;
    let notifyPeak = 0;
    let notifyActive = 0;
    const done: number[] = [];
    queue.process('relay', async (j) => {
      active += 1;
      peak = Math.max(peak, active);
      await sleep(20);
      active -= 1;
      done.push(j.id);
      return { status: 'done' };
    });
    queue.process(
      'notify',
      async () => {
        notifyActive += 1;
        notifyPeak = Math.max(notifyPeak, notifyActive);
        await sleep(10);
        notifyActive -= 1;
        return { status: 'done' };
      },
      { concurrency: 1 },
    );
    for (let i = 1; i <= 6; i++) await queue.dispatch(job(i));
    for (let i = 7; i <= 9; i++) await queue.dispatch(job(i, 'notify'));
    await queue.drain();
    expect(done.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
    expect(notifyPeak).toBe(1);
  });

  it('hands every job to the installed runner with its stage handler', async () => {
    const queue = createInProcessQueue();
    const handler = async () => ({ status: 'done' }) as const;
    const calls: Array<[number, unknown]> = [];
    queue.process('deliver', handler);
    queue.setJobRunner(async (j, h) => {
      calls.push([j.id, h]);
    });
    await queue.dispatch(job(5, 'deliver'));
    await queue.drain();
    expect(calls).toEqual([[5, handler]]);
  });

  it('survives a throwing handler and a throwing runner: each job is done with, and the next jobs still run', async () => {
    const queue = createInProcessQueue({ concurrency: 1 });
    const handled: number[] = [];
    queue.process('relay', async (j) => {
      handled.push(j.id);
      if (j.id === 1) throw new Error('handler bug');
      return { status: 'done' };
    });
    await queue.dispatch(job(1));
    await queue.dispatch(job(2));
    await queue.drain();
    // The throw neither stopped the stage's worker (its one slot is free again) nor left drain() waiting.
    expect(handled).toEqual([1, 2]);

    const ran: number[] = [];
    queue.setJobRunner(async (j) => {
      ran.push(j.id);
      if (j.id === 3) throw new Error('runner bug');
    });
    await queue.dispatch(job(3));
    await queue.dispatch(job(4));
    await queue.drain();
    expect(ran).toEqual([3, 4]);
  });

  it('refuses a stage without handler, a second handler, and work after close', async () => {
    const queue = createInProcessQueue();
    await expect(queue.dispatch(job(1, 'notify'))).rejects.toMatchObject({ code: 'PIPELINE_NO_HANDLER' });
    queue.process('relay', async () => ({ status: 'done' }));
    expect(() => queue.process('relay', async () => ({ status: 'done' }))).toThrow(
      expect.objectContaining({ code: 'PIPELINE_HANDLER_EXISTS' }),
    );
    expect(() => createInProcessQueue({ concurrency: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    await queue.close();
    await expect(queue.dispatch(job(2))).rejects.toMatchObject({ code: 'PIPELINE_QUEUE_CLOSED' });
  });
});
