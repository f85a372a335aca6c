import { Queue as BullQueue, Worker as BullWorker, type ConnectionOptions, type Job } from 'bullmq';
import { pino, type Logger } from 'pino';
import { QerdsError } from '../core/index.js';
import { pipelineStages, type OutboxEntry, type PipelineStage } from '../store/types.js';
import { checkSweep } from './sweep-timer.js';
import type { JobHandler, JobRunner, Queue } from './types.js';

export interface BullmqQueueOptions {
  /** Redis server, e.g. `redis://127.0.0.1:6379` or `rediss://user:pass@host:6380/2`. */
  readonly connection: { readonly url: string };
  /** Key prefix of every BullMQ key, so several APs (or test runs) share one Redis. @defaultValue 'qerds' */
  readonly prefix?: string;
  /** Jobs of one stage run at once in this process, unless process() sets its own. @defaultValue 4 */
  readonly concurrency?: number;
  /** Rate limit per stage across all workers: at most `max` jobs per `durationMs` ms. @defaultValue none */
  readonly limiter?: { readonly max: number; readonly durationMs: number };
  /**
   * How often a worker looks for jobs whose worker died (kill -9) and hands them out again, in ms.
   * @defaultValue 30000 (BullMQ's)
   */
  readonly stalledIntervalMs?: number;
  /**
   * How long a worker holds the lock of a running job, in ms (BullMQ renews it every half of it while the
   * job runs). A worker whose event loop is blocked longer (sealing, a large payload) loses the lock and the
   * job counts as stalled, so it is sized for the slowest stage. @defaultValue 120000
   */
  readonly lockDurationMs?: number;
  /** Per-stage `lockDurationMs` / `stalledIntervalMs`, over the defaults above. @defaultValue none */
  readonly stages?: Partial<
    Record<PipelineStage, { readonly lockDurationMs?: number; readonly stalledIntervalMs?: number }>
  >;
  /**
   * Longest wait for Redis to take a job (or answer a ping), in ms; beyond it dispatch() fails and the
   * outbox row is rescheduled. @defaultValue 5000
   */
  readonly timeoutMs?: number;
  /** How often the state of dispatched jobs is polled by drain(), in ms. @defaultValue 25 */
  readonly drainPollMs?: number;
  /** @defaultValue a silent pino logger */
  readonly log?: Logger;
}

/** The BullMQ queue, plus a probe for /readyz. */
export interface BullmqQueue extends Queue {
  /** Resolves when Redis answers PING; throws otherwise. */
  ping(): Promise<void>;
}

/** What a BullMQ job carries: the outbox entry, dates as ISO strings. */
interface JobData {
  readonly id: number;
  readonly stage: PipelineStage;
  readonly messageId: string;
  readonly data: Record<string, unknown>;
  readonly createdAt: string;
  readonly attempts: number;
  readonly leaseToken?: string;
  readonly leasedUntil?: string;
}

const bareRunner: JobRunner = async (job, handler) => {
  await handler(job);
};

/**
 * The queue at scale: one BullMQ queue per stage (`<prefix>:qerds-<stage>`) in Redis, and in this
 * process a BullMQ worker for each stage given a handler. Any process may dispatch; whichever worker
 * takes a job runs it through the installed JobRunner, which settles the outbox row in the store.
 *
 * The store stays the single authority on retries and on what is still to do:
 * - BullMQ's own retries are off (attempts 1): a handler's retry, and a runner that throws, go back to
 *   the outbox (retryOutbox with the pipeline's exponential back-off and jitter) and come back as a
 *   new dispatch when due. A job the runner settles always completes in BullMQ and is removed.
 * - The job id is `o<entry id>-a<attempts>-<lease token>`: a second dispatch of the same lease is a
 *   no-op in BullMQ, while a new lease or the dispatch after a retry (attempts + 1) is a new job even
 *   if the old one is still being removed. A running job renews its lease, so only a job that waited
 *   past its lease is leased again; its stale copy finds the lease gone and does nothing.
 * - Redis holds nothing that is not also in the outbox. A job Redis lost (FLUSHALL, restart without
 *   persistence) is dispatched again when its outbox lease expires: the lease is the sweeper.
 * - A worker killed mid-job leaves an active job; BullMQ's stalled check (stalledIntervalMs) moves it
 *   back to waiting, or fails and removes it, after which the lease brings it back. Handlers are
 *   idempotent, so a second run of an effect already committed does nothing.
 */
export function createBullmqQueue(options: BullmqQueueOptions): BullmqQueue {
  const connection = redisOptions(options.connection.url);
  const prefix = options.prefix ?? 'qerds';
  const defaultConcurrency = positive(options.concurrency ?? 4, 'concurrency');
  const drainPollMs = options.drainPollMs ?? 25;
  const timeoutMs = options.timeoutMs ?? 5000;
  const log = options.log ?? pino({ level: 'silent' });
  const queues = new Map<PipelineStage, BullQueue<JobData>>();
  const workers = new Map<PipelineStage, BullWorker<JobData>>();
  /** Jobs dispatched through this instance whose end drain() has not yet seen, by stage. */
  const dispatched = new Map<string, PipelineStage>();
  /** Sweeps registered here: their queue (holding the job scheduler) and worker. */
  const sweeps = new Map<string, { queue: BullQueue; worker: BullWorker }>();
  let runner = bareRunner;
  let running = 0;
  let closed = false;

  const queueOf = (stage: PipelineStage): BullQueue<JobData> => {
    let queue = queues.get(stage);
    if (!queue) {
      // A producer fails fast while Redis is down (no offline queue): dispatch() then throws, and the
      // dispatcher reschedules the outbox row instead of piling commands up in memory.
      queue = new BullQueue<JobData>(queueName(stage), {
        connection: { ...connection, enableOfflineQueue: false },
        prefix,
      });
      queue.on('error', (error) => log.warn({ err: error, stage }, 'BullMQ queue connection error'));
      queues.set(stage, queue);
    }
    return queue;
  };

  const run = async (bullJob: Job<JobData>, handler: JobHandler): Promise<void> => {
    const d = bullJob.data;
    const entry: OutboxEntry = {
      id: d.id,
      stage: d.stage,
      messageId: d.messageId,
      data: d.data,
      createdAt: new Date(d.createdAt),
      attempts: d.attempts,
      ...(d.leaseToken === undefined ? {} : { leaseToken: d.leaseToken }),
      ...(d.leasedUntil === undefined ? {} : { leasedUntil: new Date(d.leasedUntil) }),
    };
    running += 1;
    try {
      await runner(entry, handler);
    } catch (error) {
      // A runner must not throw; if one does, the outbox row is still leased and runs again when the
      // lease expires. Completing here keeps BullMQ from retrying on its own.
      log.error(
        { err: error, jobId: entry.id, stage: entry.stage, messageId: entry.messageId },
        'job runner threw; the outbox lease will bring the job back',
      );
    } finally {
      running -= 1;
    }
  };

  return {
    buffer: 'broker',

    async dispatch(job) {
      if (closed) throw new QerdsError('PIPELINE_QUEUE_CLOSED', 'queue is closed');
      const jobId = bullJobId(job);
      const data: JobData = {
        id: job.id,
        stage: job.stage,
        messageId: job.messageId,
        data: { ...job.data },
        createdAt: job.createdAt.toISOString(),
        attempts: job.attempts,
        ...(job.leaseToken === undefined ? {} : { leaseToken: job.leaseToken }),
        ...(job.leasedUntil === undefined ? {} : { leasedUntil: job.leasedUntil.toISOString() }),
      };
      try {
        // While Redis is down BullMQ waits for the connection; give up after timeoutMs. A job added
        // after all is harmless: a run of an entry already rescheduled settles it early, idempotently.
        await withTimeout(
          queueOf(job.stage).add(job.stage, data, {
            jobId,
            attempts: 1,
            removeOnComplete: true,
            removeOnFail: true,
          }),
          timeoutMs,
        );
      } catch (cause) {
        throw new QerdsError(
          'PIPELINE_QUEUE_UNAVAILABLE',
          `could not hand job ${jobId} to Redis: ${(cause as Error).message}`,
          { cause, details: { stage: job.stage } },
        );
      }
      dispatched.set(jobId, job.stage);
    },

    process(stage, handler, processOptions = {}) {
      if (!pipelineStages.includes(stage))
        throw new QerdsError('PIPELINE_NO_HANDLER', `unknown stage ${stage}`);
      if (workers.has(stage))
        throw new QerdsError('PIPELINE_HANDLER_EXISTS', `stage ${stage} already has a handler`);
      const concurrency = positive(processOptions.concurrency ?? defaultConcurrency, 'concurrency');
      const worker = new BullWorker<JobData>(queueName(stage), (job) => run(job, handler), {
        connection,
        prefix,
        concurrency,
        limiter: options.limiter
          ? { max: options.limiter.max, duration: options.limiter.durationMs }
          : undefined,
        stalledInterval: options.stages?.[stage]?.stalledIntervalMs ?? options.stalledIntervalMs ?? 30_000,
        lockDuration: options.stages?.[stage]?.lockDurationMs ?? options.lockDurationMs ?? 120_000,
        // Jobs settle themselves in the outbox; BullMQ keeps nothing it would later dedup against.
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      });
      worker.on('error', (error) => log.warn({ err: error, stage }, 'BullMQ worker connection error'));
      workers.set(stage, worker);
    },

    setJobRunner(next) {
      runner = next;
    },

    registerSweep(name, everyMs, fn) {
      checkSweep(name, everyMs, new Set(sweeps.keys()));
      if (closed) throw new QerdsError('PIPELINE_QUEUE_CLOSED', 'queue is closed');
      // One queue per sweep: only processes that registered this name take its jobs.
      const queue = new BullQueue(sweepQueueName(name), { connection, prefix });
      queue.on('error', (error) =>
        log.warn({ err: error, sweep: name }, 'BullMQ sweep queue connection error'),
      );
      // Every process upserts the same scheduler id: Redis keeps one, which adds one job per interval.
      queue
        .upsertJobScheduler(
          name,
          { every: everyMs },
          { name, data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
        )
        .catch((error: unknown) =>
          log.error({ err: error, sweep: name }, 'could not register the sweep schedule in Redis'),
        );
      const worker = new BullWorker(sweepQueueName(name), async () => fn(), {
        connection,
        prefix,
        concurrency: 1,
      });
      worker.on('error', (error) =>
        log.warn({ err: error, sweep: name }, 'BullMQ sweep worker connection error'),
      );
      worker.on('failed', (_job, error) =>
        log.error({ err: error, sweep: name }, 'sweep failed; it runs again at its next tick'),
      );
      sweeps.set(name, { queue, worker });
    },

    async ping() {
      // BullMQ types its client narrowly; it is an ioredis client, which has PING.
      const ping = async () => {
        const client = (await queueOf('relay').client) as unknown as { ping(): Promise<string> };
        await client.ping();
      };
      await withTimeout(ping(), timeoutMs);
    },

    /**
     * Resolves when every job dispatched through this instance has ended (run here or by another
     * process, or lost by Redis: the outbox brings those back) and no job runs in this process.
     */
    async drain() {
      for (;;) {
        for (const [jobId, stage] of [...dispatched]) {
          let state: string;
          try {
            state = await queueOf(stage).getJobState(jobId);
          } catch {
            state = 'unknown'; // Redis is unreachable: whatever it held is up to the outbox lease now
          }
          if (state === 'unknown' || state === 'completed' || state === 'failed') dispatched.delete(jobId);
        }
        if (dispatched.size === 0 && running === 0) return;
        await new Promise((resolve) => setTimeout(resolve, drainPollMs));
      }
    },

    /** Stops taking jobs, lets the jobs running here finish (graceful shutdown), closes connections. */
    async close() {
      if (closed) return;
      closed = true;
      // The sweep schedulers stay in Redis: the other processes still run them (the schedule is shared).
      await Promise.allSettled(
        [...workers.values(), ...[...sweeps.values()].map((s) => s.worker)].map((worker) => worker.close()),
      );
      await Promise.allSettled(
        [...queues.values(), ...[...sweeps.values()].map((s) => s.queue)].map((queue) => queue.close()),
      );
    },
  };
}

/** The BullMQ queue of a stage (BullMQ adds the prefix). */
export function queueName(stage: PipelineStage): string {
  return `qerds-${stage}`;
}

/** The BullMQ queue of a sweep (BullMQ adds the prefix). */
export function sweepQueueName(name: string): string {
  return `qerds-sweep-${name}`;
}

/**
 * BullMQ refuses integer and `:`-containing custom ids. The lease token is part of it: a second dispatch
 * of the same lease is a no-op, while a new lease (the old one ran out while its job waited) is a job of
 * its own; the stale one finds its lease gone when it starts and does nothing (outbox-job-runner).
 */
function bullJobId(job: OutboxEntry): string {
  return `o${job.id}-a${job.attempts}${job.leaseToken === undefined ? '' : `-${job.leaseToken.replaceAll('-', '').slice(0, 16)}`}`;
}

/** redis[s]://[user[:password]@]host[:port][/db] → ioredis options. */
function redisOptions(url: string): ConnectionOptions & { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new QerdsError('CONFIG_INVALID', `queue: Redis URL "${url}" is not a URL`, { cause });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new QerdsError(
      'CONFIG_INVALID',
      `queue: Redis URL must be redis:// or rediss://, got ${parsed.protocol}`,
    );
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new QerdsError(
      'CONFIG_INVALID',
      `queue: Redis database "${parsed.pathname.slice(1)}" is not a number`,
    );
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // when the timeout wins, a later failure is not unhandled
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new QerdsError('CONFIG_INVALID', `queue ${name} must be a positive integer, got ${value}`);
  return value;
}
