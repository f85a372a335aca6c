import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes the bindings of the composition root throw (SMTP intake and the REM SMTP relay between APs). */
export const accessPointErrors = {
  SUBMISSION_REJECTED: { text: 'submission rejected by the policy of the access point', httpStatus: 422, retryable: false },
  RELAY_SMTP_UNAVAILABLE: { text: 'the peer access point did not take the REM dispatch over SMTP', httpStatus: 502, retryable: true },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type AccessPointErrorCode = keyof typeof accessPointErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly accessPoint: typeof accessPointErrors;
  }
}
