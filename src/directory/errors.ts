import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes of the directory module. HTTP status: how the REST API answers when a lookup fails with it. */
export const directoryErrors = {
  DIRECTORY_SMP_UNAVAILABLE: {
    text: 'the SMP could not be reached or answered with an error',
    httpStatus: 502,
    retryable: true,
  },
  DIRECTORY_SMP_MALFORMED: {
    text: 'the SMP response is not SMP metadata we can read',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_SIGNATURE_INVALID: {
    text: 'the signature on the SMP response is missing or does not verify',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_SIGNATURE_ALGORITHM: {
    text: 'the SMP response is signed with an algorithm that is not accepted (SHA-1 unless allowed for Peppol SMP 1.x)',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_SIGNATURE_UNTRUSTED: {
    text: 'the SMP response is signed by a certificate outside the trust store',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_SIGNER_ROLE: {
    text: 'the SMP response is signed by a certificate that is not an SMP signing certificate',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_MISMATCH: {
    text: 'the signed SMP metadata is about another participant or document type',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_SMP_REDIRECT: {
    text: 'the SMP redirects to another SMP (not followed)',
    httpStatus: 502,
    retryable: false,
  },
  DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED: {
    text: 'the participant is registered, but not for this document type and process (or with no transport profile we speak)',
    httpStatus: 422,
    retryable: false,
  },
  DIRECTORY_ENDPOINT_EXPIRED: {
    text: 'the endpoint published for the participant has expired',
    httpStatus: 422,
    retryable: false,
  },
  DIRECTORY_ENDPOINT_NOT_ACTIVE: {
    text: 'the endpoint published for the participant is not active yet',
    httpStatus: 422,
    retryable: true,
  },
  DIRECTORY_BDXL_FAILED: {
    text: 'BDXL discovery failed (DNS error or unusable NAPTR record)',
    httpStatus: 502,
    retryable: true,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type DirectoryErrorCode = keyof typeof directoryErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly directory: typeof directoryErrors;
  }
}
