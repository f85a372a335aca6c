import { z } from 'zod';
import { ap, http, log } from './schema/ap.js';
import { store, queue } from './schema/store.js';
import { pki, tsa } from './schema/pki.js';
import { directory } from './schema/directory.js';
import { apiKeys, adminKeys, accounts, pickup, oauth2, policy } from './schema/access.js';
import { evidence, retention, limits, relay, webhooks } from './schema/evidence.js';
import { smtp } from './schema/smtp.js';
import { as4 } from './schema/as4.js';
import { peppol } from './schema/peppol.js';
import { performance } from './schema/performance.js';

export { webhookSecretPattern } from './schema/accounts.js';

/**
 * The one configuration of an access point. Every key has a default that runs out of the box on one
 * machine (SQLite, in-process queue, embedded TSA, dev PKI under certs/dev). Relative paths are resolved
 * against the directory of the config file (or the working directory when there is none).
 */
export const configSchema = z
  .object({
    /** This access point's identity: its name and id in evidence and AS4 headers, and the evidence policies it issues under. */
    ap,
    /** The one HTTP(S) listener of the AP: REST API, AS4 endpoint (/as4), embedded TSA (/tsa), OAuth2 token endpoint, health and metrics. */
    http,
    /** Where the state lives (messages, evidence, outbox, dead letters, idempotency keys) and the payload blobs. */
    store,
    /** The pipeline's outbox and job queue: where jobs run (in this process, or any process over BullMQ/Redis), how they are polled, leased, run at once and retried. */
    queue,
    /** The AP's keys and trust: its e-seal, trust anchors and CRLs, trusted lists, the Peppol anchors, and which peers are accepted. */
    pki,
    /** Time-stamping (RFC 3161) of the evidence: an embedded TSA (development and tests) or remote TSAs. */
    tsa,
    /** How recipients and their access points are found: a static list of participants, and optionally an SMP (one fixed, or found by BDXL/SML). */
    directory,
    /**
     * Deprecated: local participants with an API key in clear (senders at C2, recipients at C3). loadConfig reads
     * each entry as an `accounts[]` entry (IAL1, one `apiKey` credential holding the key's SHA-256, the other
     * settings as written) and the AP logs a warning at start; write `accounts[]` instead.
     */
    apiKeys,
    /** Operator keys of the admin API (/api/v1/admin: dead letters and replay); none configured: no admin API. */
    adminKeys,
    /** Local participants with their enrolment IAL and credentials of several kinds (REQ3 / REQ4); beside `apiKeys`. */
    accounts,
    /** One-time pickup links for people (REQ4): `POST /pickup/<token>` with the account's `totp` or `password` credential. */
    pickup,
    /** Access tokens of the OAuth2 client credentials grant (`POST /oauth/token`), for the `oauth2` credentials of `accounts`. */
    oauth2,
    /** Minimum overall assurance (min of IAL and AAL) per service. */
    policy,
    /** The evidence this AP issues (ETSI EN 319 522 evidence, sealed as XAdES). */
    evidence,
    /** How long evidence is kept, and when its timestamps are renewed for long-term proof. */
    retention,
    /** Size limits of what the REST API and the AS4 endpoint take in. */
    limits,
    /** Calls to peer APs (relay to C3, evidence back to C2) and recipient notices: their retry budget and timeouts. */
    relay,
    /**
     * Retry budget of the evidence webhooks to senders' ERPs (`evidenceWebhookUrl`): 5xx, 408, 429 and no answer
     * are retried with capped exponential back-off and jitter; a spent budget leaves a dead letter to replay.
     * The defaults (5 s doubling to 10 min, 100 attempts) keep trying for at least 7.5 h (at most 15.5 h), so an
     * ERP's nightly maintenance loses nothing.
     */
    webhooks,
    /** Registered e-mail (REM, ETSI EN 319 532): the SMTP submission intake, the inbound and relay listeners, and outbound mail. */
    smtp,
    /** AS4 messaging between access points: the profile, P-Modes, encryption keys, TLS client and limits of incoming envelopes. */
    as4,
    /**
     * Validation of the business documents submitted on the Peppol profile (`as4.profile: peppol`), run in this order
     * before the JP PINT rules written as code (src/peppol/jp-pint.ts) and, when configured, after them the official
     * JP PINT Schematron. A failing document gets a SubmissionRejection (RA02) naming the XSD error or the rule.
     * Ignored on other profiles.
     */
    peppol,
    /** How the AP spreads its CPU work over the machine's cores (worker threads for evidence and AS4). */
    performance,
    /** Logging (pino). */
    log,
  })
  .strict();

/** The configuration as the schema validates it; loadConfig adds the resolved files (QerdsConfig, load.ts). */
export type ParsedConfig = z.infer<typeof configSchema>;
export type QerdsConfigInput = z.input<typeof configSchema>;
