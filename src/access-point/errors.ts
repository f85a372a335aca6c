import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes the bindings of the composition root throw (SMTP intake, the REM SMTP relay between APs, the evidence pool). */
export const accessPointErrors = {
  RELAY_SMTP_ADDRESS: { text: 'the participant has no mail address form', httpStatus: 422, retryable: false },
  RELAY_SMTP_ENDPOINT: {
    text: 'the SMTP relay endpoint in the directory is not an smtp:// URL',
    httpStatus: 502,
    retryable: false,
  },
  RELAY_SMTP_ENCRYPTION_CERTIFICATE: {
    text: 'the encryption certificate of the peer access point cannot be used',
    httpStatus: 502,
    retryable: false,
  },
  RELAY_SMTP_NO_EVIDENCE: {
    text: 'the message has no SubmissionAcceptance to carry in the REM Dispatch',
    httpStatus: 500,
    retryable: false,
  },
  RELAY_SMTP_REFUSED: {
    text: 'the peer access point refused the REM dispatch',
    httpStatus: 502,
    retryable: false,
  },
  RELAY_SMTP_UNAVAILABLE: {
    text: 'the peer access point did not take the REM dispatch over SMTP',
    httpStatus: 502,
    retryable: true,
  },
  EVIDENCE_POOL_THREAD_EXITED: {
    text: 'the worker thread doing the call (evidence, AS4 packing or receipt) exited before it answered',
    httpStatus: 503,
    retryable: true,
  },
  EVIDENCE_POOL_FULL: {
    text: 'too many calls (evidence, AS4) are waiting for a worker thread',
    httpStatus: 503,
    retryable: true,
  },
  EVIDENCE_POOL_UNAVAILABLE: {
    text: 'the worker threads (evidence, AS4) are closed or could not start',
    httpStatus: 503,
    retryable: true,
  },
  EVIDENCE_POOL_STALE_VALIDATION_DATA: {
    text: 'a worker thread answered on validation data older than the access point holds',
    httpStatus: 503,
    retryable: true,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type AccessPointErrorCode = keyof typeof accessPointErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly accessPoint: typeof accessPointErrors;
  }
}
