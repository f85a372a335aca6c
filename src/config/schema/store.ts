/** Configuration sections: Store and queue (assembled in config/schema.ts). */
import { z } from 'zod';

export const store = z
  .strictObject({
    /**
     * Where messages, evidence, the outbox and the rest of the state live. `sqlite`: the file `sqliteFile`, held by
     * one AP process alone (a second process on the same file is refused at start). `postgres`: the database at
     * `postgresUrl`, schema `postgresSchema`, which several AP processes share. Payload blobs are files under
     * `blobDir` either way. @defaultValue 'sqlite'
     */
    kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** SQLite database file (`:memory:` for tests). @defaultValue 'data/qerds.sqlite' */
    sqliteFile: z.string().default('data/qerds.sqlite'),
    /** PostgreSQL connection string. @defaultValue 'postgres://postgres@127.0.0.1:5432/test' */
    postgresUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .default('postgres://postgres@127.0.0.1:5432/test'),
    /** PostgreSQL schema holding the tables. @defaultValue 'public' */
    postgresSchema: z.string().default('public'),
    /** Directory of payload blobs (content-addressed by SHA-256). @defaultValue 'data/blobs' */
    blobDir: z.string().default('data/blobs'),
    /**
     * Largest payload, in bytes, kept in the database instead of a file under `blobDir`: its bytes are written with
     * the message that names it, in the same commit (no file, no fsync of its own). Most business documents (an
     * invoice's XML, a short PDF) are below 64 KiB; larger files stream to `blobDir` as before. 0: every payload is a
     * file. @defaultValue 65536
     */
    inlineBlobMaxBytes: z.coerce
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    /**
     * Orphan blob sweep (blobs no message names, temporary files of a crash): at start and then every
     * this many seconds; 0: never. @defaultValue 3600
     */
    orphanSweepSeconds: z.coerce.number().int().min(0).default(3600),
    /**
     * Age, in seconds, a file must have (since it was last written) before the orphan sweep may delete it: a blob
     * being written or awaiting its message is younger. @defaultValue 3600 (1 h)
     */
    orphanGraceSeconds: z.coerce.number().int().min(60).default(3600),
  })
  .prefault({});

export const queue = z
  .strictObject({
    /** `in-process`: jobs run in this process (embedded); `bullmq`: one BullMQ queue per stage in Redis, run by any process's workers. @defaultValue 'in-process' */
    kind: z.enum(['in-process', 'bullmq']).default('in-process'),
    /** Redis of the bullmq queue. @defaultValue 'redis://127.0.0.1:6379' */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    /** Prefix of the BullMQ keys in Redis; APs sharing a Redis need different ones. @defaultValue 'qerds' */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
      .default('qerds'),
    /**
     * How long a dispatched outbox entry stays leased, in ms: a job lost with a crashed process or a
     * flushed Redis is dispatched again after it. Longer than a job waits and runs. @defaultValue 30000
     */
    leaseMs: z.coerce.number().int().min(100).default(30_000),
    /**
     * bullmq: rate limit per stage across all workers (BullMQ's queue rate limiter), at most `max` jobs per
     * `durationMs` ms; the in-process queue ignores it. @defaultValue none (no limit)
     */
    rateLimit: z
      .strictObject({
        /** Jobs of one stage started per `durationMs`, counted across every worker of every process (a count). */
        max: z.coerce.number().int().min(1),
        /** The window `max` counts over, in ms; a stage's worker past `max` waits for the next window. */
        durationMs: z.coerce.number().int().min(1),
      })
      .optional(),
    /** bullmq: how often workers look for jobs of a dead worker, in ms. @defaultValue 30000 */
    stalledIntervalMs: z.coerce.number().int().min(100).default(30_000),
    /**
     * Jobs of one stage run at once in each process, a count; `stages.<stage>.concurrency` overrides it, and
     * notify runs at least 32 unless `stages.notify` sets its own. @defaultValue 4
     */
    concurrency: z.coerce.number().int().min(1).default(4),
    /** How often the outbox is polled, in ms. @defaultValue 200 */
    pollIntervalMs: z.coerce.number().int().min(10).default(200),
    /**
     * Longest pause between outbox polls while nothing is due, in ms: each empty poll doubles the pause from
     * pollIntervalMs up to this; work found, or a commit in the process, goes back to pollIntervalMs. Every
     * process polls, so an idle cluster polling at pollIntervalMs spends CPU and database round trips on
     * nothing. An entry that becomes due by time alone (a retry's back-off, an acceptance deadline) may wait
     * up to this long. Set it to pollIntervalMs for no back-off. @defaultValue 1000
     */
    idlePollMaxMs: z.coerce.number().int().min(10).default(1000),
    /**
     * Attempts of a job whose handler throws (a bug or an unforeseen failure, not a stage's own retry) before
     * it becomes a dead letter with its last error (admin dead-letter view and replay). Generous, because a
     * store or Redis outage makes handlers throw too: with the back-off capped at relay.maxDelayMs, 25 attempts
     * outlast an outage of at least 1.5 h (with the default delays). @defaultValue 25
     */
    maxAttempts: z.coerce.number().int().min(1).default(25),
    /**
     * bullmq: how long a worker holds a running job's lock, in ms (renewed every half of it); a worker blocked
     * longer loses the job to the stalled check. Sized for the slowest stage (relay of large payloads). @defaultValue 120000
     */
    lockDurationMs: z.coerce.number().int().min(1000).default(120_000),
    /**
     * Per-stage settings over the ones above, e.g. `{ notify: { concurrency: 64, lockDurationMs: 30000 } }`:
     * `concurrency` (jobs of the stage run at once per process, either queue kind) and, bullmq only,
     * `lockDurationMs` / `stalledIntervalMs`. notify's concurrency defaults to at least 32: its jobs mostly wait
     * on the sender's AP, and those running together share Evidence messages (one AS4 exchange for many
     * evidences), so more of them at once means fewer exchanges. @defaultValue none
     */
    stages: z
      .partialRecord(
        z.enum(['relay', 'deliver', 'notify', 'mail-delivery', 'mail-evidence', 'evidence-webhook']),
        z
          .object({
            concurrency: z.coerce.number().int().min(1).optional(),
            lockDurationMs: z.coerce.number().int().min(1000).optional(),
            stalledIntervalMs: z.coerce.number().int().min(100).optional(),
          })
          .strict(),
      )
      .optional(),
    /**
     * Interval of the cluster-wide outbox sweep, in ms: once per interval across all processes (a BullMQ job
     * scheduler; in-process: a timer), one pass over the due outbox re-dispatches what was lost. @defaultValue 5000
     */
    sweepIntervalMs: z.coerce.number().int().min(100).default(5000),
  })
  .prefault({});
