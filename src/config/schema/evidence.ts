/** Configuration sections: Evidence, retention, limits, relay and webhook delivery (assembled in config/schema.ts). */
import { z } from 'zod';

export const evidence = z
  .strictObject({
    /**
     * XAdES baseline level of every evidence this AP issues. B-LT embeds the CA certificates and the CRLs, so the
     * file alone proves validity later; B-LTA adds an archive timestamp (one more TSA request). @defaultValue 'B-LT'
     */
    level: z.enum(['B-T', 'B-LT', 'B-LTA']).default('B-LT'),
  })
  .prefault({});

export const retention = z
  .strictObject({
    /** Years an evidence is kept after its event: the store refuses to delete it before. @defaultValue 10 */
    years: z.coerce.number().int().min(1).default(10),
    /**
     * `qerds archive renew` re-timestamps (B-LTA) evidence whose newest timestamp's TSA certificate expires
     * within this many days. @defaultValue 90
     */
    renewBeforeDays: z.coerce.number().int().min(1).default(90),
    /**
     * How often a running AP sweeps the store for evidence due for archive renewal (the same job as
     * `qerds archive renew`, as a queue sweep: once per interval across the processes that run pipeline
     * workers — a BullMQ job scheduler when they share Redis), in ms; 0: never (leave it to the CLI). @defaultValue 86400000 (24 h)
     */
    renewIntervalMs: z.coerce.number().int().min(0).default(86_400_000),
  })
  .prefault({});

export const limits = z
  .strictObject({
    /**
     * Largest REST submission, in bytes: the files of one upload together, counted as they arrive (past it: 413,
     * nothing kept). An incoming AS4 message may be up to twice this (MIME and encryption overhead).
     * @defaultValue 104857600 (100 MiB)
     */
    maxPayloadBytes: z.coerce
      .number()
      .int()
      .min(1)
      .default(100 * 1024 * 1024),
  })
  .prefault({});

export const relay = z
  .strictObject({
    /**
     * Attempts to reach the peer AP (relay to C3, evidence back to C2, recipient notices) before giving up:
     * RelayFailure RB09 for a relay. The defaults ride out a peer's restart, deploy or maintenance window:
     * delays of 5 s doubling to a cap of 10 min, with jitter (each between half its ceiling and the whole),
     * so 300 attempts keep trying for at least 24 h (at most 49 h) after the first failure. A message is not
     * failed while the peer may still come back; a refusal the peer gives for good fails it at once.
     * @defaultValue 300
     */
    maxAttempts: z.coerce.number().int().min(1).default(300),
    /** First retry delay, in ms; doubles each attempt, with jitter. @defaultValue 5000 */
    baseDelayMs: z.coerce.number().int().min(1).default(5000),
    /** Longest retry delay, in ms (the cap of the doubling). @defaultValue 600000 (10 min) */
    maxDelayMs: z.coerce.number().int().min(1).default(600_000),
    /**
     * Timeout of one outgoing call to a peer, in ms: an AS4 push (relay, returned evidence), a REM SMTP relay
     * session, a recipient notice (`notificationUrl`) or an evidence webhook POST. A call past it counts as a failed
     * attempt and is retried under the budget of `maxAttempts` (or `webhooks`). @defaultValue 30000
     */
    timeoutMs: z.coerce.number().int().min(100).default(30_000),
    /**
     * REM SMTP relay binding: how long, in ms, after the peer's 250, C2 waits for the RelayAcceptance (or Rejection)
     * that C3 returns. Past it the message fails with RelayFailure RB09 (reception awareness: what a missing
     * AS4 receipt gives at once). @defaultValue 3600000 (1 h)
     */
    evidenceTimeoutMs: z.coerce.number().int().min(1000).default(3_600_000),
  })
  .prefault({});

export const webhooks = z
  .object({
    /** Attempts before the webhook call becomes a dead letter. @defaultValue 100 */
    maxAttempts: z.coerce.number().int().min(1).default(100),
    /** First retry delay, in ms; doubles each attempt, with jitter. @defaultValue 5000 */
    baseDelayMs: z.coerce.number().int().min(1).default(5000),
    /** Longest retry delay, in ms. @defaultValue 600000 (10 min) */
    maxDelayMs: z.coerce.number().int().min(1).default(600_000),
  })
  .strict()
  .prefault({});
