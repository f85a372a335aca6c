import { z } from 'zod';

/**
 * The one configuration of an access point. Every key has a default that runs out of the box on one
 * machine (SQLite, in-process queue, embedded TSA, dev PKI under certs/dev). Relative paths are resolved
 * against the directory of the config file (or the working directory when there is none).
 */

const participantEntry = z.object({
  /** Participant id `<scheme>:<value>`, e.g. `0188:1234567890123` (Japanese corporate number). */
  id: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** Legal name, carried in evidence as the eIDAS LegalName attribute. */
  name: z.string().min(1),
  /** AS4 endpoint of the participant's access point (C3), e.g. `https://ap.example/as4`. */
  endpoint: z.string().url(),
  /** PEM file of that AP's e-seal certificate: pins who may sign the receipts. Optional. */
  apCertificate: z.string().optional(),
  /** Registered e-mail address of the participant: RCPT TO this address names it at the SMTP intake. Optional. */
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address').optional(),
});

const smtpAccountEntry = z.object({
  /** SASL user name (AUTH PLAIN / LOGIN). */
  username: z.string().min(1),
  /** `scrypt$N$r$p$salt$key` (see src/smtp/password.ts, `hashPassword`); never the password itself. */
  passwordHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
  /** The participant this account submits for, `<scheme>:<value>`. */
  participant: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** The only address the account may use in MAIL FROM and in the From header. */
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  /** Display name. */
  name: z.string().optional(),
});

const apiKeyEntry = z.object({
  /** The secret presented in `Authorization: Bearer <key>` or `X-API-Key`. Store a hash in production (see README). */
  key: z.string().min(16, 'API keys must be at least 16 characters'),
  /** The participant this key authenticates (sender on submit, recipient on pickup). */
  participant: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** Display name of the participant. */
  name: z.string().min(1),
});

export const configSchema = z
  .object({
    ap: z
      .object({
        /** Human-readable name of this AP, in evidence as the issuer's LegalName. @defaultValue 'qerds-ap' */
        name: z.string().default('qerds-ap'),
        /** Identifier of this ERDS (evidence issuer id, ebMS PartyId). @defaultValue 'urn:qerds-ap:ap:local' */
        id: z.string().default('urn:qerds-ap:ap:local'),
        /** Evidence issuer policy URIs (EvidenceIssuerPolicyID). */
        policyIds: z.array(z.string()).default(['urn:qerds-ap:policy:dev:v1']),
      })
      .prefault({}),
    http: z
      .object({
        /** @defaultValue '127.0.0.1' */
        host: z.string().default('127.0.0.1'),
        /** TCP port; 0 picks a free one. @defaultValue 8080 */
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        /** URL under which peers reach this AP; defaults to http://host:port. */
        publicUrl: z.string().url().optional(),
      })
      .prefault({}),
    store: z
      .object({
        /** @defaultValue 'sqlite' */
        kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
        /** SQLite database file (`:memory:` for tests). @defaultValue 'data/qerds.sqlite' */
        sqliteFile: z.string().default('data/qerds.sqlite'),
        /** PostgreSQL connection string. @defaultValue 'postgres://postgres@127.0.0.1:5432/test' */
        postgresUrl: z.string().default('postgres://postgres@127.0.0.1:5432/test'),
        /** PostgreSQL schema holding the tables. @defaultValue 'public' */
        postgresSchema: z.string().default('public'),
        /** Directory of payload blobs (content-addressed by SHA-256). @defaultValue 'data/blobs' */
        blobDir: z.string().default('data/blobs'),
      })
      .prefault({}),
    queue: z
      .object({
        /** `in-process`: jobs run in this process (embedded); `bullmq`: one BullMQ queue per stage in Redis, run by any process's workers. @defaultValue 'in-process' */
        kind: z.enum(['in-process', 'bullmq']).default('in-process'),
        /** Redis of the bullmq queue. @defaultValue 'redis://127.0.0.1:6379' */
        redisUrl: z.string().default('redis://127.0.0.1:6379'),
        /** Prefix of the BullMQ keys in Redis; APs sharing a Redis need different ones. @defaultValue 'qerds' */
        prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only').default('qerds'),
        /**
         * How long a dispatched outbox entry stays leased, in ms: a job lost with a crashed process or a
         * flushed Redis is dispatched again after it. Longer than a job waits and runs. @defaultValue 30000
         */
        leaseMs: z.coerce.number().int().min(100).default(30_000),
        /** bullmq: rate limit per stage across all workers, at most `max` jobs per `durationMs` ms. @defaultValue none */
        rateLimit: z.object({ max: z.coerce.number().int().min(1), durationMs: z.coerce.number().int().min(1) }).optional(),
        /** bullmq: how often workers look for jobs of a dead worker, in ms. @defaultValue 30000 */
        stalledIntervalMs: z.coerce.number().int().min(100).default(30_000),
        /** Jobs run at once per stage. @defaultValue 4 */
        concurrency: z.coerce.number().int().min(1).default(4),
        /** How often the outbox is polled, in ms. @defaultValue 200 */
        pollIntervalMs: z.coerce.number().int().min(10).default(200),
      })
      .prefault({}),
    pki: z
      .object({
        /** Dev PKI directory (`qerds pki init`). @defaultValue 'certs/dev' */
        dir: z.string().default('certs/dev'),
        /** Name of this AP inside the dev PKI (`c2`, `c3`): selects seal and TLS material. @defaultValue 'c2' */
        apName: z.string().default('c2'),
        /** E-seal certificate (PEM, chain after the leaf); default: the dev PKI's `<apName>/seal.crt.pem`. */
        sealCert: z.string().optional(),
        /** E-seal private key (PEM); default: the dev PKI's `<apName>/seal.key.pem`. */
        sealKey: z.string().optional(),
        /** Trust anchors and CRLs (PEM files or directories); default: the dev PKI's CA and CRL. */
        trust: z.array(z.string()).optional(),
      })
      .prefault({}),
    tsa: z
      .object({
        /** `embedded`: this AP runs its own TSA (dev and tests); `remote`: an RFC 3161 TSA over HTTP. @defaultValue 'embedded' */
        mode: z.enum(['embedded', 'remote']).default('embedded'),
        /** URL of the remote TSA (mode remote). */
        url: z.string().url().optional(),
        /** Serve the embedded TSA at /tsa for others. @defaultValue true */
        serve: z.boolean().default(true),
        /** TSA policy OID of the embedded TSA. @defaultValue '1.3.6.1.4.1.32473.1.1' (documentation arc, dev only) */
        policyOid: z.string().default('1.3.6.1.4.1.32473.1.1'),
        /** Timeout of a remote TSA request, in ms. @defaultValue 10000 */
        timeoutMs: z.coerce.number().int().min(100).default(10_000),
      })
      .prefault({}),
    directory: z
      .object({
        /** Participants reachable through the network (static directory). */
        participants: z.array(participantEntry).default([]),
      })
      .prefault({}),
    /** Local participants of this AP and their API keys (senders at C2, recipients at C3). */
    apiKeys: z.array(apiKeyEntry).default([]),
    limits: z
      .object({
        /** Largest accepted payload, in bytes. @defaultValue 104857600 (100 MiB) */
        maxPayloadBytes: z.coerce.number().int().min(1).default(100 * 1024 * 1024),
      })
      .prefault({}),
    relay: z
      .object({
        /** Relay attempts before RelayFailure. @defaultValue 5 */
        maxAttempts: z.coerce.number().int().min(1).default(5),
        /** First retry delay, in ms; doubles each attempt, with jitter. @defaultValue 1000 */
        baseDelayMs: z.coerce.number().int().min(1).default(1000),
        /** Longest retry delay, in ms. @defaultValue 300000 */
        maxDelayMs: z.coerce.number().int().min(1).default(300_000),
        /** AS4 request timeout, in ms. @defaultValue 30000 */
        timeoutMs: z.coerce.number().int().min(100).default(30_000),
      })
      .prefault({}),
    smtp: z
      .object({
        /** Run the SMTP submission intake (C1 → C2). @defaultValue false */
        enabled: z.boolean().default(false),
        /** @defaultValue '127.0.0.1' */
        host: z.string().default('127.0.0.1'),
        /** TCP port; 0 picks a free one. @defaultValue 587 (submission) */
        port: z.coerce.number().int().min(0).max(65535).default(587),
        /** `starttls` (submission port, STARTTLS before AUTH) or `implicit` (TLS from the first byte, port 465). @defaultValue 'starttls' */
        tlsMode: z.enum(['starttls', 'implicit']).default('starttls'),
        /** This AP's mail domain: `<scheme>-<value>@<domain>` names participant `<scheme>:<value>`. @defaultValue 'localhost' */
        domain: z.string().min(1).default('localhost'),
        /** TLS certificate (PEM, chain after the leaf); default: the dev PKI's `<apName>/tls.crt.pem`. */
        tlsCert: z.string().optional(),
        /** TLS private key (PEM); default: the dev PKI's `<apName>/tls.key.pem`. */
        tlsKey: z.string().optional(),
        /** Largest message, in bytes (EHLO SIZE, enforced while DATA streams). @defaultValue 26214400 (25 MiB) */
        maxMessageBytes: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
        /** Sender accounts (SMTP AUTH). */
        accounts: z.array(smtpAccountEntry).default([]),
      })
      .prefault({}),
    log: z
      .object({
        /** pino level. @defaultValue 'info' */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
  })
  .strict();

export type QerdsConfig = z.infer<typeof configSchema>;
export type QerdsConfigInput = z.input<typeof configSchema>;
