/** Configuration sections: Who may use the REST API and how: API keys, accounts, admin keys, pickup, OAuth2 and the assurance policy (assembled in config/schema.ts). */
import { z } from 'zod';
import { accountEntry, apiKeyEntry } from './accounts.js';
import { assuranceSpec, participantId } from './fields.js';

export const apiKeys = z.array(apiKeyEntry).default([]);

export const adminKeys = z
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
  .default([]);

export const accounts = z.array(accountEntry).default([]);

export const pickup = z
  .strictObject({
    /** HMAC key of the links (≥ 32 characters), shared by every API process; default: random per process (links die with it). */
    secret: z.string().min(32).optional(),
    /** How long a link is valid, in seconds. @defaultValue 86400 (24 hours) */
    ttlSeconds: z.coerce.number().int().min(60).default(86_400),
    /** Wrong second factors tolerated per link (per API process) before the link is refused for good. @defaultValue 5 */
    maxAttempts: z.coerce.number().int().min(1).default(5),
  })
  .prefault({});

export const oauth2 = z
  .strictObject({
    /** Lifetime of an access token, in seconds. @defaultValue 300 */
    tokenTtlSeconds: z.coerce.number().int().min(10).max(3600).default(300),
    /** HMAC key of the access tokens (≥ 32 characters), shared by every API process; default: random per process. */
    tokenSecret: z.string().min(32).optional(),
  })
  .prefault({});

export const policy = z
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
        senders: z.array(participantId()).default([]),
        /** Recipients (`<scheme>:<value>`) who may only receive content encrypted for them. @defaultValue [] */
        recipients: z.array(participantId()).default([]),
      })
      .prefault({}),
    /** Time a recipient with `acceptance: required` has to accept or reject a message, in seconds. @defaultValue 1209600 (14 days) */
    acceptanceWindowSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .default(14 * 24 * 3600),
  })
  .prefault({});
