import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes of the trust-list module (ETSI TS 119 612): thrown when a list is built, loaded or combined. */
export const trustListErrors = {
  TL_MALFORMED: {
    text: 'the trusted list is not a TrustServiceStatusList we can read',
    httpStatus: 400,
    retryable: false,
  },
  TL_SIGNATURE_INVALID: {
    text: 'the trusted list is not signed by an accepted list signer',
    httpStatus: 400,
    retryable: false,
  },
  TL_STALE: { text: 'the trusted list is past its next update', httpStatus: 400, retryable: true },
  TL_UNREADABLE: { text: 'a configured trusted list cannot be read', httpStatus: 500, retryable: false },
  TL_NONE: { text: 'no trusted list to combine', httpStatus: 500, retryable: false },
  TL_BAD_HISTORY: {
    text: 'a service history entry starts at or after the current status',
    httpStatus: 500,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type TrustListErrorCode = keyof typeof trustListErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly trustList: typeof trustListErrors;
  }
}
