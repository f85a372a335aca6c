import { z } from 'zod';
import { pmodeSchema } from '../as4/index.js';
import { assuranceLevelOf } from '../core/assurance.js';

/**
 * The one configuration of an access point. Every key has a default that runs out of the box on one
 * machine (SQLite, in-process queue, embedded TSA, dev PKI under certs/dev). Relative paths are resolved
 * against the directory of the config file (or the working directory when there is none).
 */

/**
 * A URL this AP calls over HTTP (webhooks, TSA, SMP) or publishes: http or https only. Threat: a `file:`,
 * `ftp:` or `javascript:` URL in a config, taken as valid, would fail at the first call (or worse) instead of at start.
 */
const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const participantEntry = z.strictObject({
  /** Participant id `<scheme>:<value>`, e.g. `0188:1234567890123` (Japanese corporate number). */
  id: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** Legal name, carried in evidence as the eIDAS LegalName attribute. */
  name: z.string().min(1),
  /** AS4 endpoint of the participant's access point (C3), e.g. `https://ap.example/as4`. */
  endpoint: z.string().url(),
  /**
   * PEM file of that AP's AS4 signing certificate (its e-seal, unless it signs AS4 with a key of its own:
   * `as4.signingCert`): pins who may sign its AS4 messages and receipts, and, without `apSealCertificate`, its
   * evidence and REM messages. Optional.
   */
  apCertificate: z.string().optional(),
  /**
   * ERDS id of that AP (its `ap.id`, the issuer its evidence names). With `apCertificate` it binds that issuer to the
   * pinned seal: evidence returned by the AP is then accepted even when its seal certificate names no
   * organizationIdentifier, and refused when it names another issuer. Optional.
   */
  apId: z.string().min(1).optional(),
  /**
   * PEM file of that AP's e-seal certificate when it differs from `apCertificate` (the AP signs AS4 with another
   * key): pins who may seal the evidence it returns and sign its REM messages. @defaultValue `apCertificate`
   */
  apSealCertificate: z.string().optional(),
  /**
   * How that AP is reached, as SMP names transport profiles: `peppol-transport-as4-v2_0` the Peppol AS4 profile (SBD,
   * Peppol header), `bdxr-transport-ebms3-as4-v1p0` qerds-ap's ERDS service over eDelivery AS4, `etsi-rem-smtp` the
   * REM SMTP binding. Lets one AP serve Peppol and ERDS peers side by side. @defaultValue by `as4.profile` (an
   * `smtp://` endpoint: the REM SMTP binding)
   */
  transportProfile: z.string().min(1).optional(),
  /**
   * PEM file of that AP's AS4 encryption certificate (RSA for eDelivery AS4 1.15, X25519 for 2.0): AS4
   * payloads to it are encrypted for this certificate. Required when the P-Mode wants encryption.
   */
  apEncryptionCertificate: z.string().optional(),
  /**
   * PEM file of the participant's (C4's) encryption certificate (RSA, EC P-256 or X25519). When set, C2
   * encrypts submitted content for it end to end (CMS AuthEnvelopedData) before relaying. Optional.
   */
  encryptionCertificate: z.string().optional(),
  /** Registered e-mail address of the participant: RCPT TO this address names it at the SMTP intake. Optional. */
  email: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
    .optional(),
  /**
   * PEM file of that AP's TLS certificate: a pin. Sending, its HTTPS server must present exactly this
   * certificate (beside chaining to the trust anchors); receiving with mutual TLS, an AS4 message for this
   * participant's AP must come over a connection whose client certificate is this one. Optional.
   */
  apTlsCertificate: z.string().optional(),
  /**
   * SPKI pins of that AP's TLS certificate, `sha256/<base64 of SHA-256(SubjectPublicKeyInfo DER)>` (RFC 7469,
   * curl `--pinnedpubkey`): like `apTlsCertificate`, but they survive a renewal with the same key. Any one
   * matching (or `apTlsCertificate` matching) is enough. @defaultValue [] (no pin: any certificate the anchors issued)
   */
  apTlsPins: z
    .array(z.string().regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'must be sha256/<base64 of 32 bytes>'))
    .default([]),
});

const smtpAccountEntry = z.strictObject({
  /** SASL user name (AUTH PLAIN / LOGIN). */
  username: z.string().min(1),
  /** `scrypt$N$r$p$salt$key` (see src/smtp/password.ts, `hashPassword`); never the password itself. */
  passwordHash: z
    .string()
    .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
  /** The participant this account submits for, `<scheme>:<value>`. */
  participant: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** The only address the account may use in MAIL FROM and in the From header. */
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  /** Display name. */
  name: z.string().optional(),
});

/**
 * How C3 consigns to one local recipient (EN 319 522-1 consignment modes), beside its credentials in
 * `apiKeys[]` / `accounts[]`. The defaults keep the plain store-and-forward inbox.
 */
const consignmentPolicyFields = {
  /**
   * `required`: consignment with the recipient's acceptance. C3 keeps the content, notifies the recipient that a
   * message awaits acceptance (NotificationForAcceptance) and hands nothing over until it accepts over the API
   * (ConsignmentAcceptance); a rejection (ConsignmentRejection) or no answer within the window
   * (AcceptanceRejectionExpiry) ends the message. @defaultValue 'none'
   */
  acceptance: z.enum(['none', 'required']).default('none'),
  /**
   * `inbox`: the message is consigned to the API inbox (ContentConsignment). `notify`: store-and-notify, C3 keeps
   * the content and notifies the recipient with its pickup URL, no content (ConsignmentNotification). @defaultValue 'inbox'
   */
  consignment: z.enum(['inbox', 'notify']).default('inbox'),
  /** Webhook of the recipient: C3 POSTs its notices (JSON, no content) here. Needed by `acceptance` and `notify`. */
  notificationUrl: httpUrl().optional(),
  /** Time the recipient has to accept or reject, in seconds; default: `policy.acceptanceWindowSeconds`. */
  acceptanceWindowSeconds: z.coerce.number().int().min(1).optional(),
};

/**
 * Webhooks of a participant (the sender's ERP, the recipient's back office), beside its credentials in
 * `apiKeys[]` / `accounts[]`.
 */
/** `whsec_` and a base64 key of at least 24 bytes (Standard Webhooks asks for 24 to 64). */
export const webhookSecretPattern = /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/;

const webhookFields = {
  /**
   * Sender side: C2 POSTs every evidence about this participant's messages here as JSON (the event, its time, the
   * evidence XML and its REST URL), through the outbox like every other job: retried with back-off, kept as a dead
   * letter when the budget is spent. Optional; REST and mail stay available.
   */
  evidenceWebhookUrl: httpUrl().optional(),
  /**
   * Key that signs every webhook POST to this participant (`evidenceWebhookUrl`, `notificationUrl`), Standard
   * Webhooks style: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`. `whsec_` and a base64
   * key of 24 bytes or more (`echo whsec_$(openssl rand -base64 32)`). A secret, like `key`: keep the config file private.
   * Optional; without it webhooks are unsigned.
   */
  webhookSecret: z
    .string()
    .regex(webhookSecretPattern, 'must be whsec_ followed by a base64 key of 24 bytes or more')
    .optional(),
};

const apiKeyEntry = z.strictObject({
  /** The secret presented in `Authorization: Bearer <key>` or `X-API-Key`. Store a hash in production (see README). */
  key: z.string().min(16, 'API keys must be at least 16 characters'),
  /** The participant this key authenticates (sender on submit, recipient on pickup). */
  participant: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  /** Display name of the participant. */
  name: z.string().min(1),
  /**
   * Registered delivery address of this local participant (C3 → C4 by mail, store-and-forward): messages for
   * it are also sent there as signed REM messages through `smtp.outbound`. Optional; API pickup stays open.
   */
  deliveryEmail: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
    .optional(),
  ...consignmentPolicyFields,
  ...webhookFields,
  /**
   * PEM file of the certificate the REM mails to this participant are encrypted for (S/MIME in the
   * `deliveryEncryption` form; RSA, EC P-256 or X25519): the dispatches to its `deliveryEmail`, the notices, and
   * the receipts (evidence) to its SMTP account's address when it sends. Optional; default: the participant's
   * `directory.participants[].encryptionCertificate`, else the mail is signed only.
   */
  deliveryCertificate: z.string().optional(),
  /**
   * How the REM Dispatch mails for this participant are encrypted when a certificate is known:
   * `aes256-cbc` (EnvelopedData, AES-256-CBC, RSA PKCS#1 v1.5 key transport: what Outlook and Thunderbird
   * open) or `aes256-gcm` (AuthEnvelopedData, RSA-OAEP: RFC 8551's preference, which those clients do not
   * open yet). Why CBC is the default: src/smtp/rem-encrypt.ts. @defaultValue `aes256-cbc`
   */
  deliveryEncryption: z.enum(['aes256-gcm', 'aes256-cbc']).default('aes256-cbc'),
});

/** An assurance level: 1–3, `low` / `substantial` / `high`, or an eIDAS LoA URI (see src/core/assurance.ts). */
const assuranceSpec = z
  .union([z.number(), z.string()])
  .refine(
    (v) => assuranceLevelOf(v) !== undefined,
    'must be 1, 2, 3, low, substantial, high or an eIDAS LoA URI',
  );
const levelEntry = z.coerce.number().int().min(1).max(3);
/** SHA-256 certificate fingerprint, hex with or without colons (as `openssl x509 -fingerprint -sha256` prints it). */
const fingerprintEntry = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint in hex');
/** A certificate is named by its fingerprint (a pin) or by its subject DN (`C=JP, O=…, CN=…`) under a trusted CA. */
const certificateMatch = {
  /**
   * SHA-256 fingerprint of the one certificate accepted (a pin), hex with or without colons (`openssl x509
   * -fingerprint -sha256`). When set, `subject` and `issuer` are not looked at, and a renewed certificate needs a
   * new pin. Either this or `subject`.
   */
  fingerprint256: fingerprintEntry.optional(),
  /**
   * Subject DN of the accepted certificates, `C=JP, O=…, CN=…` (RDNs in certificate order, joined by `, `):
   * any certificate with that subject (and `issuer`, when given) that passes validation (the TLS handshake
   * against `http.tls.clientCa` for `mtls`, `pki.trust` for `eseal`) matches, so a renewal needs no config change.
   * Either this or `fingerprint256`.
   */
  subject: z.string().min(1).optional(),
  /** Issuer DN the certificate must carry (with `subject`). */
  issuer: z.string().min(1).optional(),
  /** The private key is non-exportable in hardware (HSM, TPM, smart card, QSCD): AAL3 instead of AAL2. @defaultValue false */
  hardwareBound: z.boolean().default(false),
  /** IAL the certificate's issuance proves (e.g. 3 for a qualified certificate); default: the account's `ial`. */
  ial: levelEntry.optional(),
};
const hasCertificateMatch = (c: { fingerprint256?: string; subject?: string }) =>
  c.fingerprint256 !== undefined || c.subject !== undefined;
const credentialEntry = z.discriminatedUnion('kind', [
  /** A bearer API key: AAL1. `keySha256` is the hex SHA-256 of a random key of at least 128 bits. */
  z
    .object({
      kind: z.literal('apiKey'),
      /**
       * Lowercase hex SHA-256 of the key's UTF-8 text (`printf %s "$KEY" | sha256sum`); the key itself is not in
       * the config. Presented as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
       */
      keySha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    })
    .strict(),
  /** An OAuth2 client (client credentials grant, RFC 6749 §4.4) with a shared secret: AAL1. */
  z
    .object({
      kind: z.literal('oauth2'),
      /**
       * The OAuth2 `client_id` (printable ASCII, no spaces or `:`), unique across `accounts`: with its secret at
       * `POST /oauth/token` (HTTP Basic or form body, over TLS only) it gets a bearer access token.
       */
      clientId: z
        .string()
        .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
        .refine((v) => !v.includes(':'), 'must not contain ":"'),
      /** `scrypt$N$r$p$salt$key` of the client secret (src/smtp/password.ts `hashPassword`). */
      secretHash: z
        .string()
        .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
    })
    .strict(),
  /** A TLS client certificate (mutual TLS): AAL2, AAL3 when hardwareBound. */
  z
    .object({ kind: z.literal('mtls'), ...certificateMatch })
    .strict()
    .refine(hasCertificateMatch, 'needs fingerprint256 or subject'),
  /** The certificate of the participant's own e-seal on submitted XML (XAdES): AAL2, AAL3 when hardwareBound. */
  z
    .object({ kind: z.literal('eseal'), ...certificateMatch })
    .strict()
    .refine(hasCertificateMatch, 'needs fingerprint256 or subject'),
  /** A person's TOTP enrolment (RFC 6238, SHA-1, 30 s, 6 digits): with a pickup link, AAL2. `secretBase32` as authenticator apps show it (≥ 128 bits). */
  z
    .object({
      kind: z.literal('totp'),
      /** The shared TOTP secret in base32 (spaces and `=` padding ignored), at least 26 characters (128 bits). */
      secretBase32: z.string().regex(/^[A-Za-z2-7 ]{26,}=*$/, 'must be base32, at least 128 bits'),
    })
    .strict(),
  /** A person's password for pickup links, `scrypt$N$r$p$salt$key` (src/smtp/password.ts `hashPassword`): with a pickup link, AAL1. */
  z
    .object({
      kind: z.literal('password'),
      /** `scrypt$N$r$p$salt$key` of the person's password (src/smtp/password.ts `hashPassword`); never the password itself. */
      passwordHash: z
        .string()
        .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
    })
    .strict(),
]);
/**
 * A sender's own e-seal that this AP holds for it in a PKCS#11 token (a remote e-seal, for forwarded use): content the
 * sender submits unsealed is sealed with it at C2 (XAdES for XML, CAdES for anything else) before encryption.
 */
const remoteSealEntry = z
  .object({
    /** Where the key is: the PKCS#11 module, the token (by `tokenLabel` or `slot`), the key label and the PIN's variable. */
    pkcs11: z
      .object({
        /**
         * Path of the PKCS#11 module (a shared library), loaded as given: unlike file keys, not resolved against the
         * config file's directory. @defaultValue '/usr/lib/softhsm/libsofthsm2.so' (softhsm2, for development)
         */
        module: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
        /** The token by its label (or by `slot`). */
        tokenLabel: z.string().min(1).optional(),
        /** The token by slot id (or by `tokenLabel`). */
        slot: z.coerce.number().int().min(0).optional(),
        /** CKA_LABEL of the private key in the token. */
        keyLabel: z.string().min(1),
        /** Name of the environment variable that holds the token's user PIN (never the PIN itself in a file). */
        pinEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
      })
      .strict()
      .refine(
        (p) => (p.tokenLabel === undefined) !== (p.slot === undefined),
        'needs exactly one of tokenLabel and slot',
      ),
    /** PEM file of the sender's e-seal certificate for that key (chain certificates may follow the leaf). */
    certificate: z.string().min(1),
  })
  .strict();

const accountEntry = z
  .object({
    /** The participant, `<scheme>:<value>` (`0188:<corporate number>`, `9930:<VAT>`, `email:<address>`). */
    participant: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
    /** Legal name, in evidence as LegalName. */
    name: z.string().min(1),
    /** Identity assurance level (IAL 1–3) at which the participant was enrolled (identity proofing). @defaultValue 1 */
    ial: levelEntry.default(1),
    /**
     * How the participant authenticates, one entry or more, each by `kind` (below): its AAL, with the `ial`, gives
     * the assurance level checked against `policy.minSubmissionAssurance` / `minHandoverAssurance`.
     */
    credentials: z.array(credentialEntry).min(1),
    /**
     * Registered delivery address of this local participant (C3 → C4 by mail, store-and-forward): messages for
     * it are also sent there as signed REM messages through `smtp.outbound`. Optional; API pickup stays open.
     */
    deliveryEmail: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
      .optional(),
    ...consignmentPolicyFields,
    ...webhookFields,
    /** The sender's remote e-seal held by this AP: unsealed submissions are sealed with it. Optional. */
    remoteSeal: remoteSealEntry.optional(),
    /**
     * PEM file of the certificate the REM mails to this participant are encrypted for (S/MIME in the
     * `deliveryEncryption` form; RSA, EC P-256 or X25519): the dispatches to its `deliveryEmail`, the notices, and
     * the receipts (evidence) to its SMTP account's address when it sends. Optional; default: the participant's
     * `directory.participants[].encryptionCertificate`, else the mail is signed only.
     */
    deliveryCertificate: z.string().optional(),
    /**
     * How the REM Dispatch mails for this participant are encrypted when a certificate is known:
     * `aes256-cbc` (EnvelopedData, AES-256-CBC, RSA PKCS#1 v1.5 key transport: what Outlook and Thunderbird
     * open) or `aes256-gcm` (AuthEnvelopedData, RSA-OAEP: RFC 8551's preference, which those clients do not
     * open yet). Why CBC is the default: src/smtp/rem-encrypt.ts. @defaultValue `aes256-cbc`
     */
    deliveryEncryption: z.enum(['aes256-gcm', 'aes256-cbc']).default('aes256-cbc'),
  })
  .strict();

export const configSchema = z
  .object({
    /** This access point's identity: its name and id in evidence and AS4 headers, and the evidence policies it issues under. */
    ap: z
      .strictObject({
        /** Human-readable name of this AP, in evidence as the issuer's LegalName. @defaultValue 'qerds-ap' */
        name: z.string().default('qerds-ap'),
        /**
         * Identifier of this ERDS (evidence issuer id, ebMS PartyId). The e-seal's organizationIdentifier must be
         * this value, or the AP does not start (access-point/seal-names-ap.ts). @defaultValue 'urn:qerds-ap:ap:c2'
         * (what the dev PKI's seal of the default `pki.apName` names: src/pki/dev-ap-id.ts)
         */
        id: z.string().default('urn:qerds-ap:ap:c2'),
        /** Evidence issuer policy URIs (EvidenceIssuerPolicyID). */
        policyIds: z.array(z.string()).default(['urn:qerds-ap:policy:dev:v1']),
      })
      .prefault({}),
    /** The one HTTP(S) listener of the AP: REST API, AS4 endpoint (/as4), embedded TSA (/tsa), OAuth2 token endpoint, health and metrics. */
    http: z
      .strictObject({
        /**
         * Address the listener binds. The default takes connections from this machine only; `0.0.0.0` (or `::`) takes
         * them on every interface.
         * @defaultValue '127.0.0.1'
         */
        host: z.string().default('127.0.0.1'),
        /** TCP port; 0 picks a free one. @defaultValue 8080 */
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        /**
         * This AP's own URL in what it sends out (pickup links, recipient notices, the REST URLs in webhooks); default:
         * `http://` (`https://` with `tls`) `<host>:<the port listened on>`.
         */
        publicUrl: httpUrl().optional(),
        /**
         * Serve HTTPS (TLS 1.2 or later) instead of HTTP. With `clientCa`, clients may present a certificate
         * (mutual TLS) that the CA issued; `requestClientCert` asks every client for one. @defaultValue none (HTTP)
         */
        tls: z
          .object({
            /** Server certificate (PEM, chain after the leaf). */
            cert: z.string(),
            /** Server private key (PEM). */
            key: z.string(),
            /** CA certificates (PEM) that issue client certificates. */
            clientCa: z.string().optional(),
            /** Ask clients for a certificate during the handshake (needed for mTLS). @defaultValue false */
            requestClientCert: z.boolean().default(false),
            /**
             * Refuse, during the TLS handshake, every client without a certificate `clientCa` issued (mutual TLS
             * for an AS4-only listener between APs). The REST API on the same port then needs client
             * certificates too. Implies `requestClientCert`; needs `clientCa`. @defaultValue false
             */
            requireClientCert: z.boolean().default(false),
          })
          .strict()
          .refine((t) => !t.requireClientCert || t.clientCa !== undefined, 'requireClientCert needs clientCa')
          .optional(),
      })
      .prefault({}),
    /** Where the state lives (messages, evidence, outbox, dead letters, idempotency keys) and the payload blobs. */
    store: z
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
      .prefault({}),
    /** The pipeline's outbox and job queue: where jobs run (in this process, or any process over BullMQ/Redis), how they are polled, leased, run at once and retried. */
    queue: z
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
      .prefault({}),
    /** The AP's keys and trust: its e-seal, trust anchors and CRLs, trusted lists, the Peppol anchors, and which peers are accepted. */
    pki: z
      .strictObject({
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
        /**
         * The Peppol PKI: adds the OpenPeppol Access Point CA certificates of `network` (`test` or `production`), of
         * the `generations` given, to the anchors of `trust` (src/peppol/pki-anchors.ts; the files and their
         * fingerprints in certs/peppol/README.md). The AP CAs, not the Peppol roots, so that an SMP certificate
         * never passes for an AP. `dir`: a directory laid out like certs/peppol (a stand-in PKI for tests).
         * With `as4.profile: peppol` they are enforced on AS4 traffic: the signer of every received message and of
         * every receipt must be a Peppol AP certificate (seat id CN…) chaining to these AP CAs alone (not to the
         * other anchors of `trust`), not revoked, its status known by OCSP or a current CRL; otherwise EBMS:0101,
         * nothing recorded, and a receipt refused so ends the relay (RelayFailure).
         * @defaultValue absent (no Peppol anchors); generations ['G2', 'G3']; dir the certs/peppol shipped
         */
        peppolAnchors: z
          .strictObject({
            /** Which OpenPeppol network's AP CAs: `test` (the Peppol test infrastructure) or `production`. */
            network: z.enum(['test', 'production']),
            /**
             * The Peppol PKI generations whose AP CA is added: G2 (2018–2028), G3 (2025–2035); both while G2
             * certificates are still in use.
             */
            generations: z
              .array(z.enum(['G2', 'G3']))
              .min(1)
              .default(['G2', 'G3']),
            /**
             * Directory laid out like certs/peppol (`ap-test/peppol-ap-test-ca-g2.pem`, `ap-production/peppol-ap-ca-g3.pem`):
             * a stand-in PKI for tests, or an operator's own copy. @defaultValue the certs/peppol shipped with qerds-ap
             */
            dir: z.string().min(1).optional(),
          })
          .optional(),
        /**
         * ETSI TS 119 612 trusted lists read at start: `path` of the list XML, `signerAnchors` (PEM files or
         * directories) the list signer must chain to, `allowStale` to accept a list past its NextUpdate. Each
         * list's signature is checked; the AP refuses to start when one fails. The lists give the qualified
         * status of seals and TSAs in verification reports (POST /api/v1/verify). @defaultValue []
         */
        trustLists: z
          .array(
            z.strictObject({
              /** The trusted list's XML file (read at start and again by `pki.crlRefresh`). */
              path: z.string().min(1),
              /**
               * PEM files or directories of the certificates the list's signer must chain to (the scheme operator's
               * anchors, e.g. from the LOTL); the signer must also carry the tslSigning extended key usage.
               */
              signerAnchors: z.array(z.string().min(1)).min(1),
              /**
               * Accept the list past its NextUpdate (and keep /readyz ready then). Off: a stale list stops the start
               * (TL_STALE), since a withdrawal published since would be missed.
               */
              allowStale: z.boolean().default(false),
            }),
          )
          .default([]),
        /**
         * AS4 peers (the signers of incoming messages and of receipts) must be QERDS services in force on one
         * of `trustLists` at the time, on top of chaining to `trust`; others get EBMS:0101. Needs `trustLists`.
         * @defaultValue false
         */
        listedPeersOnly: z.boolean().default(false),
        /**
         * Accept peer APs the directory pins no AP certificate (`apCertificate`) for: an incoming Dispatch whose
         * sender's entry pins none, evidence returned about a message whose recipient's entry pins none. Their
         * signer must then still have the role of an AP's signing certificate and e-seal (src/pki/certificate-roles.ts:
         * digitalSignature/nonRepudiation, no TSA, TLS-only, trusted list or OCSP EKU) and must not be this AP's own
         * seal. Off: such messages are refused (EBMS:0101, evidence PIPELINE_EVIDENCE_SEAL_NOT_PINNED), the safe choice,
         * since without a pin any certificate under `trust` could speak for any AP. @defaultValue false
         */
        unpinnedPeers: z.boolean().default(false),
        /**
         * Keeping revocation data fresh while the AP runs: every `intervalMs` each process re-reads the CRL files
         * of `trust` and the `trustLists` files, and (with `fetch`) GETs the http CRL Distribution Points of the
         * trust anchors, the e-seal and the TSA certificate, plus `urls`. A CRL replaces the held one of its CA only
         * when it parses, is signed by that CA, and is not older (thisUpdate) than the held one; a trusted list
         * only when it verifies and is not older (ListIssueDateTime). Anything else keeps the old data and logs a
         * warning. /readyz fails once a held CRL is past its nextUpdate and warns `warnBeforeMs` before.
         */
        crlRefresh: z
          .object({
            /** Time between refreshes in ms; 0 turns the refresh off (data loaded at start only). @defaultValue 3600000 (1 h) */
            intervalMs: z.coerce.number().int().min(0).default(3_600_000),
            /** Fetch CRLs over http from CRL Distribution Points (RFC 5280 §4.2.1.13) and `urls`. @defaultValue false */
            fetch: z.boolean().default(false),
            /** More http URLs of CRLs to fetch (for CAs whose certificates name no distribution point). @defaultValue [] */
            urls: z.array(z.string().regex(/^http:\/\//i, 'CRLs are fetched over http only')).default([]),
            /** Timeout of one CRL fetch, in ms; a fetch past it fails and the held CRL stays. @defaultValue 10000 */
            timeoutMs: z.coerce.number().int().min(1).default(10_000),
            /** Largest CRL fetched, in bytes. @defaultValue 20971520 (20 MiB) */
            maxBytes: z.coerce
              .number()
              .int()
              .min(1)
              .default(20 * 1024 * 1024),
            /** /readyz warns when a held CRL's nextUpdate is this close, in ms. @defaultValue 86400000 (24 h) */
            warnBeforeMs: z.coerce.number().int().min(0).default(86_400_000),
          })
          .strict()
          .prefault({}),
      })
      .prefault({}),
    /** Time-stamping (RFC 3161) of the evidence: an embedded TSA (development and tests) or remote TSAs. */
    tsa: z
      .strictObject({
        /** `embedded`: this AP runs its own TSA (dev and tests); `remote`: an RFC 3161 TSA over HTTP. @defaultValue 'embedded' */
        mode: z.enum(['embedded', 'remote']).default('embedded'),
        /** URL of the remote TSA (mode remote). */
        url: httpUrl().optional(),
        /**
         * Several remote TSAs (mode remote), asked in this order with fail-over: one that failed is asked
         * last for `cooldownMs`. Used instead of `url` when given.
         */
        urls: z.array(httpUrl()).min(1).optional(),
        /** How long a failed TSA is asked only after the others, in ms. @defaultValue 30000 */
        cooldownMs: z.coerce.number().int().min(0).default(30_000),
        /** Serve the embedded TSA at /tsa for others. @defaultValue true */
        serve: z.boolean().default(true),
        /** TSA policy OID of the embedded TSA. @defaultValue '1.3.6.1.4.1.32473.1.1' (documentation arc, dev only) */
        policyOid: z.string().default('1.3.6.1.4.1.32473.1.1'),
        /** Certificate (PEM) of the embedded TSA, e.g. after its renewal; default: the dev PKI's `tsa.crt.pem`. */
        cert: z.string().optional(),
        /** Private key (PEM) of the embedded TSA; default: the dev PKI's `tsa.key.pem`. */
        key: z.string().optional(),
        /** Timeout of a remote TSA request, in ms. @defaultValue 10000 */
        timeoutMs: z.coerce.number().int().min(100).default(10_000),
      })
      .prefault({}),
    /** How recipients and their access points are found: a static list of participants, and optionally an SMP (one fixed, or found by BDXL/SML). */
    directory: z
      .strictObject({
        /** Participants reachable through the network (static directory). */
        participants: z.array(participantEntry).default([]),
        /**
         * `static`: only `participants`. `smp`: `participants` first (local pins, peers not published), then the
         * OASIS BDXR SMP of `smp` for everyone else, its signed answers verified and cached. @defaultValue 'static'
         */
        kind: z.enum(['static', 'smp']).default('static'),
        /** The SMP (kind smp): one fixed `url`, or BDXL discovery of each participant's SMP under `bdxl.domain`. */
        smp: z
          .object({
            /** Base URL of the one SMP that serves every participant. Either this or `bdxl`. */
            url: httpUrl().optional(),
            /** BDXL / SML discovery (DNS NAPTR) of each participant's SMP. Either this or `url`. */
            bdxl: z
              .object({
                /** DNS zone of the SML/BDXL, e.g. Peppol's `participant.sml.prod.tech.peppol.org` (test: `participant.sml.test.tech.peppol.org`). */
                domain: z.string().min(1),
                /**
                 * How the participant's DNS name is built and read (src/directory/bdxl-locator.ts): `peppol` (Peppol SML 2.0,
                 * NAPTR), `bdxl` (OASIS BDXL, NAPTR) or `peppol-cname` (the older Peppol SML form, `B-<md5>` CNAME; the SMP is
                 * then asked at http://<host>/). @defaultValue 'peppol'
                 */
                mode: z.enum(['bdxl', 'peppol', 'peppol-cname']).default('peppol'),
                /** DNS servers to ask (`host` or `host:port`), e.g. those of a private or test SML zone. @defaultValue the system's */
                dnsServers: z.array(z.string().min(1)).optional(),
              })
              .strict()
              .optional(),
            /** Document type (SMP service) of the messages, `scheme::value`. @defaultValue the ERDS dispatch `qerds-docid::urn:qerds-ap:erds:dispatch` */
            documentType: z
              .string()
              .regex(/^[^:]+::.+$/, 'must be <scheme>::<value>')
              .default('qerds-docid::urn:qerds-ap:erds:dispatch'),
            /** Process identifier, `scheme::value`. @defaultValue any process */
            process: z
              .string()
              .regex(/^[^:]+::.+$/, 'must be <scheme>::<value>')
              .optional(),
            /** REST binding: `smp1` (SMP 1.0, Peppol) or `smp2` (OASIS SMP 2.0). @defaultValue 'smp1' */
            binding: z.enum(['smp1', 'smp2']).default('smp1'),
            /** Anchors (PEM files or directories) the SMP's signing certificate must chain to. @defaultValue the AP's trust store */
            trust: z.array(z.string()).optional(),
            /** Timeout of one SMP request, in ms. @defaultValue 10000 */
            timeoutMs: z.coerce.number().int().min(100).default(10_000),
            /**
             * Accept RSA-SHA1 signatures and SHA-1 digests on Peppol SMP 1.x responses, which SMPs not yet on Peppol SMP
             * 1.3.0 still send (src/peppol/smp-signature-policy.ts). Never for OASIS SMP responses, AS4 or evidence.
             * @defaultValue false
             */
            allowRsaSha1: z.boolean().default(false),
          })
          .strict()
          .refine(
            (smp) => (smp.url === undefined) !== (smp.bdxl === undefined),
            'give exactly one of url and bdxl',
          )
          .optional(),
        /**
         * How long an SMP answer is kept, in seconds, per participant and document type (never past the endpoint's
         * expiration nor its certificate's notAfter; "not registered" at most 60 s; refusals never); 0: no cache.
         * @defaultValue 3600
         */
        cacheTtlSeconds: z.coerce.number().int().min(0).default(3600),
      })
      .refine((d) => d.kind !== 'smp' || d.smp !== undefined, {
        message: 'kind smp needs directory.smp',
        path: ['smp'],
      })
      .prefault({}),
    /** Local participants of this AP and their API keys (senders at C2, recipients at C3). */
    apiKeys: z.array(apiKeyEntry).default([]),
    /** Operator keys of the admin API (/api/v1/admin: dead letters and replay); none configured: no admin API. */
    adminKeys: z
      .array(
        z.strictObject({
          /**
           * The secret (at least 16 characters) presented as `Authorization: Bearer <key>` or `X-API-Key` on
           * /api/v1/admin; compared by SHA-256 in constant time. It opens the admin API only, never a participant's routes.
           */
          key: z.string().min(16, 'admin keys must be at least 16 characters'),
          /** Name of the operator or tool holding the key, logged with each dead-letter replay it makes. */
          name: z.string().min(1),
        }),
      )
      .default([]),
    /** Local participants with their enrolment IAL and credentials of several kinds (REQ3 / REQ4); beside `apiKeys`. */
    accounts: z.array(accountEntry).default([]),
    /** One-time pickup links for people (REQ4): `POST /pickup/<token>` with the account's `totp` or `password` credential. */
    pickup: z
      .strictObject({
        /** HMAC key of the links (≥ 32 characters), shared by every API process; default: random per process (links die with it). */
        secret: z.string().min(32).optional(),
        /** How long a link is valid, in seconds. @defaultValue 86400 (24 hours) */
        ttlSeconds: z.coerce.number().int().min(60).default(86_400),
        /** Wrong second factors tolerated per link (per API process) before the link is refused for good. @defaultValue 5 */
        maxAttempts: z.coerce.number().int().min(1).default(5),
      })
      .prefault({}),
    /** Access tokens of the OAuth2 client credentials grant (`POST /oauth/token`), for the `oauth2` credentials of `accounts`. */
    oauth2: z
      .strictObject({
        /** Lifetime of an access token, in seconds. @defaultValue 300 */
        tokenTtlSeconds: z.coerce.number().int().min(10).max(3600).default(300),
        /** HMAC key of the access tokens (≥ 32 characters), shared by every API process; default: random per process. */
        tokenSecret: z.string().min(32).optional(),
      })
      .prefault({}),
    /** Minimum overall assurance (min of IAL and AAL) per service. */
    policy: z
      .strictObject({
        /** Of a sender on submission (REQ3); below it: 403 and a SubmissionRejection (RA05). @defaultValue 'low' */
        minSubmissionAssurance: assuranceSpec.default('low'),
        /** Of a recipient on handover (REQ4); below it: 403, nothing handed over. @defaultValue 'low' */
        minHandoverAssurance: assuranceSpec.default('low'),
        /**
         * End-to-end encryption (REQ2) at C2. The recipient's encryption certificate is always checked first
         * (trust anchor, validity, CRL, keyEncipherment/keyAgreement usage): a bad one refuses the submission
         * (422, SubmissionRejection RA05). Here: for whom a missing certificate refuses it too, instead of
         * relaying the content as submitted.
         */
        endToEnd: z
          .strictObject({
            /** Every submission must be encrypted end to end. @defaultValue false */
            required: z.boolean().default(false),
            /**
             * Senders (`<scheme>:<value>`) whose submissions must be encrypted end to end: refused when the recipient has
             * no encryption certificate. @defaultValue []
             */
            senders: z.array(z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>')).default([]),
            /** Recipients (`<scheme>:<value>`) who may only receive content encrypted for them. @defaultValue [] */
            recipients: z.array(z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>')).default([]),
          })
          .prefault({}),
        /** Time a recipient with `acceptance: required` has to accept or reject a message, in seconds. @defaultValue 1209600 (14 days) */
        acceptanceWindowSeconds: z.coerce
          .number()
          .int()
          .min(1)
          .default(14 * 24 * 3600),
      })
      .prefault({}),
    /** The evidence this AP issues (ETSI EN 319 522 evidence, sealed as XAdES). */
    evidence: z
      .strictObject({
        /**
         * XAdES baseline level of every evidence this AP issues. B-LT embeds the CA certificates and the CRLs, so the
         * file alone proves validity later; B-LTA adds an archive timestamp (one more TSA request). @defaultValue 'B-LT'
         */
        level: z.enum(['B-T', 'B-LT', 'B-LTA']).default('B-LT'),
      })
      .prefault({}),
    /** How long evidence is kept, and when its timestamps are renewed for long-term proof. */
    retention: z
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
      .prefault({}),
    /** Size limits of what the REST API and the AS4 endpoint take in. */
    limits: z
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
      .prefault({}),
    /** Calls to peer APs (relay to C3, evidence back to C2) and recipient notices: their retry budget and timeouts. */
    relay: z
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
      .prefault({}),
    /**
     * Retry budget of the evidence webhooks to senders' ERPs (`evidenceWebhookUrl`): 5xx, 408, 429 and no answer
     * are retried with capped exponential back-off and jitter; a spent budget leaves a dead letter to replay.
     * The defaults (5 s doubling to 10 min, 100 attempts) keep trying for at least 7.5 h (at most 15.5 h), so an
     * ERP's nightly maintenance loses nothing.
     */
    webhooks: z
      .object({
        /** Attempts before the webhook call becomes a dead letter. @defaultValue 100 */
        maxAttempts: z.coerce.number().int().min(1).default(100),
        /** First retry delay, in ms; doubles each attempt, with jitter. @defaultValue 5000 */
        baseDelayMs: z.coerce.number().int().min(1).default(5000),
        /** Longest retry delay, in ms. @defaultValue 600000 (10 min) */
        maxDelayMs: z.coerce.number().int().min(1).default(600_000),
      })
      .strict()
      .prefault({}),
    /** Registered e-mail (REM, ETSI EN 319 532): the SMTP submission intake, the inbound and relay listeners, and outbound mail. */
    smtp: z
      .strictObject({
        /** Run the SMTP submission intake (C1 → C2). @defaultValue false */
        enabled: z.boolean().default(false),
        /**
         * Address the submission listener binds (with `enabled`). The default takes connections from this machine
         * only; `0.0.0.0` (or `::`) on every interface. @defaultValue '127.0.0.1'
         */
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
        maxMessageBytes: z.coerce
          .number()
          .int()
          .min(1024)
          .default(25 * 1024 * 1024),
        /**
         * Abuse limits of the SMTP listeners, per AP process and per client IP address, over a sliding window of
         * `windowSeconds`: after `authFailures` failed AUTH attempts, AUTH from that address gets 454 4.7.0 (the
         * password is not even checked) until the oldest failure leaves the window; the inbound listener takes
         * `inboundMessagesPerAddress` mail transactions from one address, then answers 451 4.7.1 (senders retry
         * later); `maxClients` connections at once per listener, then 421; `maxClientsPerAddress` of them from one address.
         */
        limits: z
          .object({
            /**
             * Connections served at once by each SMTP listener (submission, inbound, relay), a count; one more is
             * answered 421 and closed. @defaultValue 100
             */
            maxClients: z.coerce.number().int().min(1).default(100),
            /**
             * Failed AUTH attempts from one client IP address within `windowSeconds` (submission listener), a count;
             * past it AUTH gets 454 4.7.0 without the password being checked. @defaultValue 5
             */
            authFailures: z.coerce.number().int().min(1).default(5),
            /**
             * Mail transactions (MAIL FROM) the inbound listener takes from one client IP address within
             * `windowSeconds`, a count; past it 451 4.7.1. The submission and relay listeners have no such cap. @defaultValue 100
             */
            inboundMessagesPerAddress: z.coerce.number().int().min(1).default(100),
            /** The sliding window of `authFailures` and `inboundMessagesPerAddress`, in seconds. @defaultValue 300 (5 min) */
            windowSeconds: z.coerce.number().int().min(1).default(300),
            /** Connections at once from one client IP address, per listener (more get 421 4.7.0). @defaultValue 10 */
            maxClientsPerAddress: z.coerce.number().int().min(1).default(10),
          })
          .strict()
          .prefault({}),
        /** Sender accounts (SMTP AUTH). */
        accounts: z.array(smtpAccountEntry).default([]),
        /**
         * Sender policy: accept messages to plain e-mail addresses outside any ERDS (an address no directory
         * knows, participant `email:<address>`) and relay them as signed REM Dispatch mails through
         * `smtp.outbound`, with RelayToNonERDS / RelayToNonERDSFailure evidence (EN 319 522-1). Only for
         * authenticated senders; without it such recipients are refused (SubmissionRejection, SMTP 550 5.7.1).
         * @defaultValue false
         */
        relayToNonErds: z.boolean().default(false),
        /**
         * Inbound MX-style listener for plain mail from outside any ERDS (EN 319 522-1 ReceivedFromNonERDS): no
         * AUTH, STARTTLS offered, RCPT only for local participants of this AP (never a relay). The envelope
         * sender is recorded, unauthenticated, at the lowest assurance. Off unless configured.
         */
        inbound: z
          .object({
            /**
             * Address the inbound listener binds. The default takes mail from this machine only (e.g. from a local
             * MTA in front); a public MX needs `0.0.0.0` (or `::`). @defaultValue '127.0.0.1'
             */
            host: z.string().default('127.0.0.1'),
            /** TCP port; 0 picks a free one. @defaultValue 25 */
            port: z.coerce.number().int().min(0).max(65535).default(25),
          })
          .strict()
          .optional(),
        /**
         * Relay listener of the REM SMTP binding between access points (ETSI EN 319 522-4-1): peers whose directory
         * entry has an `smtp://host:port` endpoint (or transport profile `etsi-rem-smtp`) send their signed REM
         * Dispatches (C2 → C3) and REM Receipts with returned evidence (C3 → C2) here. STARTTLS is mandatory
         * before MAIL FROM (530), no AUTH (a peer is known by the seal of what it sends: it must be the AP the
         * directory names for the sender, under the trust store), RCPT only for local participants (550), never a
         * relay. Off unless configured. Its own address is what peers put in their directory entry for this AP:
         * `smtp://<host>:<port>?domain=<smtp.domain>`.
         */
        relay: z
          .object({
            /**
             * Address the relay listener binds. The default takes connections from this machine only; peers on other
             * hosts need `0.0.0.0` (or `::`). @defaultValue '127.0.0.1'
             */
            host: z.string().default('127.0.0.1'),
            /** TCP port; 0 picks a free one. @defaultValue 25 */
            port: z.coerce.number().int().min(0).max(65535).default(25),
            /** TLS certificate (PEM, chain after the leaf) of the listener; default: `smtp.tlsCert`, else the dev PKI's. */
            tlsCert: z.string().optional(),
            /** Its private key; default: `smtp.tlsKey`, else the dev PKI's. */
            tlsKey: z.string().optional(),
            /** Largest dispatch taken, in bytes (EHLO SIZE; 552 past it). @defaultValue `smtp.maxMessageBytes` */
            maxMessageBytes: z.coerce.number().int().min(1024).optional(),
          })
          .strict()
          .optional(),
        /**
         * Outbound SMTP (nodemailer): REM Dispatch mails to recipients with a `deliveryEmail` (C3 → C4) and REM
         * Receipt mails with every evidence to senders that have an SMTP account (C2 → C1). Mail stays off
         * without it. Retries of 4xx replies and connection failures follow `relay` (attempts, back-off).
         */
        outbound: z
          .object({
            /** Smart host / MTA to hand mail to. */
            host: z.string().min(1),
            /** TCP port of the smart host: 587 submission (STARTTLS), 465 with `secure`, 25 MTA to MTA. @defaultValue 587 */
            port: z.coerce.number().int().min(1).max(65535).default(587),
            /** TLS from the first byte (port 465); else STARTTLS when offered. @defaultValue false */
            secure: z.boolean().default(false),
            /** Refuse to send unless STARTTLS succeeds (a 4xx-like failure, retried). @defaultValue true */
            requireTls: z.boolean().default(true),
            /** CA certificates (PEM file) that issue the server's TLS certificate; default: the system's. */
            tlsCa: z.string().optional(),
            /** AUTH PLAIN/LOGIN credentials at the smart host. */
            auth: z
              .object({
                /** User name at the smart host. */
                user: z.string().min(1),
                /**
                 * Its password, in clear (a secret: keep the config file private, or set it from the environment as
                 * `QERDS__SMTP__OUTBOUND__AUTH__PASS`).
                 */
                pass: z.string().min(1),
              })
              .strict()
              .optional(),
            /** The AP's own address (From of REM messages, envelope sender). @defaultValue `rem@<smtp.domain>` */
            from: z
              .string()
              .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
              .optional(),
            /** Connections kept open and used at once (pooled, reused across mails). @defaultValue 5 */
            maxConnections: z.coerce.number().int().min(1).default(5),
            /** Connection, greeting and socket timeout, in ms. @defaultValue 30000 */
            timeoutMs: z.coerce.number().int().min(100).default(30_000),
          })
          .strict()
          .optional(),
      })
      .prefault({}),
    /** AS4 messaging between access points: the profile, P-Modes, encryption keys, TLS client and limits of incoming envelopes. */
    as4: z
      .strictObject({
        /**
         * The AS4 profile plug-in (src/profiles) of this AP's default P-Modes: `edelivery-1.15` or `edelivery-2.0`, the
         * ERDS service (Dispatch, Evidence) between qerds-ap instances on those algorithms; `peppol`, the Peppol AS4
         * profile for JP PINT invoices and credit notes (and the ERDS Evidence P-Mode for a qerds-ap peer's returned
         * evidence). Checked at start. @defaultValue 'edelivery-1.15'
         */
        profile: z.string().min(1).default('edelivery-1.15'),
        /**
         * The P-Modes of this AP's AS4 exchanges, sending and receiving (src/as4/pmode.ts `pmodeSchema`), each over the
         * defaults of its `profile` and checked by it at start. An incoming UserMessage that matches none is refused
         * with EBMS:0010; one that falls short of its P-Mode's security (signature algorithm, encryption) with
         * EBMS:0103. @defaultValue the default P-Modes of `as4.profile` (src/profiles `defaultPModes`): for eDelivery,
         * one push P-Mode per ERDS action, encryption required, GZIP compression, NRR receipts
         */
        pmodes: z
          .array(pmodeSchema)
          .min(1)
          .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'P-Mode ids must be unique')
          .optional(),
        /** This AP's AS4 encryption certificate (PEM), which peers encrypt for; default: the dev PKI's `<apName>/enc.crt.pem`. */
        encryptionCert: z.string().optional(),
        /** Its private key (PEM), which decrypts incoming payloads; default: the dev PKI's `<apName>/enc.key.pem`. */
        encryptionKey: z.string().optional(),
        /**
         * This AP's AS4 signing certificate (PEM, chain after the leaf): it signs the AS4 messages and receipts this AP
         * sends, and is what peers pin for it as `apCertificate`. Set with `signingKey`, both or neither. Apart from
         * the e-seal when the e-seal's key cannot sign the P-Modes' algorithm (an ECDSA P-256 e-seal: AS4 signs with
         * RSA or Ed25519). @defaultValue the dev PKI's `<apName>/as4-sign.crt.pem` when it exists (`qerds pki init
         * --key ec`), else the e-seal (`pki.sealCert`)
         */
        signingCert: z.string().optional(),
        /** Its private key (PEM). @defaultValue as `signingCert`: the dev PKI's `<apName>/as4-sign.key.pem`, else `pki.sealKey` */
        signingKey: z.string().optional(),
        /** GZIP payloads before sending (AS4 §3.1); false turns it off for every P-Mode, true leaves it to each P-Mode's `compress`. @defaultValue true */
        compress: z.boolean().default(true),
        /** Largest size of one incoming payload after GZIP inflation, in bytes (decompression bombs). @defaultValue 104857600 (100 MiB) */
        maxDecompressedBytes: z.coerce
          .number()
          .int()
          .min(1)
          .default(100 * 1024 * 1024),
        /**
         * TLS of the AS4 client (https endpoints of peer APs). The server certificate must chain to `ca` and
         * name the host, and match the peer's `apTlsCertificate` / `apTlsPins` when the directory gives them.
         */
        tls: z
          .object({
            /** Client certificate presented to peers asking for one (mutual TLS). @defaultValue `http.tls.cert`, else the dev PKI's `<apName>/tls.crt.pem` when it exists */
            clientCert: z.string().optional(),
            /** Its private key. @defaultValue `http.tls.key`, else the dev PKI's `<apName>/tls.key.pem` */
            clientKey: z.string().optional(),
            /**
             * PEM files of the anchors a peer's server certificate must chain to. @defaultValue the anchors of `pki.trust`
             * (the dev CA) together with its CRLs: then a revoked server certificate fails the handshake, and every peer
             * TLS certificate's issuer needs a current CRL in `pki.trust` (OpenSSL's CRL check of the leaf)
             */
            ca: z.array(z.string()).optional(),
          })
          .strict()
          .prefault({}),
        /**
         * Limits of an incoming SOAP envelope at /as4, checked before it is parsed (unauthenticated peers: the XML
         * parse blocks the event loop). Payloads travel as MIME attachments, streamed to files under
         * `limits.maxPayloadBytes`; only the envelope is held in memory. Over `maxBytes`: HTTP 413 with EBMS:0004;
         * over a structural limit: EBMS:0009 InvalidHeader.
         */
        envelope: z
          .object({
            /** Largest envelope (plain SOAP body, or the root MIME part), in bytes. @defaultValue 1048576 (1 MiB) */
            maxBytes: z.coerce.number().int().min(16_384).default(1_048_576),
            /** Deepest element nesting. @defaultValue 64 */
            maxDepth: z.coerce.number().int().min(16).max(4096).default(64),
            /** Most elements. @defaultValue 10000 */
            maxElements: z.coerce.number().int().min(100).default(10_000),
            /** Most attributes, namespace declarations included (at most 64 on one element). @defaultValue 50000 */
            maxAttributes: z.coerce.number().int().min(100).default(50_000),
          })
          .strict()
          .prefault({}),
      })
      .prefault({}),
    /** Logging (pino). */
    log: z
      .strictObject({
        /** pino level: the lowest level of the lines written (`trace` the most, `silent` none). @defaultValue 'info' */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
  })
  .strict();

/** The configuration as the schema validates it; loadConfig adds the resolved files (QerdsConfig, load.ts). */
export type ParsedConfig = z.infer<typeof configSchema>;
export type QerdsConfigInput = z.input<typeof configSchema>;
