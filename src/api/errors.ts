import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes the REST routes answer on purpose (problem+json), beside the core and pipeline ones: the status of each
 * entry is the one its route answers.
 */
export const apiErrors = {
  ASSURANCE_TOO_LOW: {
    text: 'the identification or its level of assurance is below the policy of this access point',
    httpStatus: 403,
    retryable: false,
  },
  IDEMPOTENCY_KEY_REUSED: {
    text: 'the Idempotency-Key was already used for a different request',
    httpStatus: 422,
    retryable: false,
  },
  IDEMPOTENCY_KEY_IN_PROGRESS: {
    text: 'a request with this Idempotency-Key is still being processed',
    httpStatus: 409,
    retryable: true,
  },
  PICKUP_LINK_INVALID: { text: 'the pickup link is not valid', httpStatus: 401, retryable: false },
  PICKUP_LINK_EXPIRED: { text: 'the pickup link has expired', httpStatus: 401, retryable: false },
  PICKUP_LINK_USED: { text: 'the pickup link was used already', httpStatus: 403, retryable: false },
  PICKUP_LINK_LOCKED: {
    text: 'the pickup link is locked after too many wrong second factors',
    httpStatus: 403,
    retryable: false,
  },
  PICKUP_TOO_MANY_ATTEMPTS: {
    text: 'too many pickup attempts from this client',
    httpStatus: 429,
    retryable: true,
  },
  PICKUP_FACTOR_REQUIRED: { text: 'the pickup needs a second factor', httpStatus: 401, retryable: false },
  PICKUP_FACTOR_INVALID: { text: 'the second factor is wrong', httpStatus: 401, retryable: false },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type ApiErrorCode = keyof typeof apiErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly api: typeof apiErrors;
  }
}
