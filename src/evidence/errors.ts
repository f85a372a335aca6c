import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes of the evidence module. */
export const evidenceErrors = {
  EVIDENCE_MALFORMED: {
    text: 'evidence XML is malformed or not EN 319 522-3',
    httpStatus: 400,
    retryable: false,
  },
  EVIDENCE_INVALID_DATA: { text: 'evidence data is invalid', httpStatus: 500, retryable: false },
  EVIDENCE_CONTENT_MISMATCH: {
    text: 'content does not match the evidence digests',
    httpStatus: 400,
    retryable: false,
  },
  EVIDENCE_ISSUER_MISMATCH: {
    text: 'the seal certificate names another organisation than the evidence issuer',
    httpStatus: 400,
    retryable: false,
  },
  EVIDENCE_ISSUER_UNBOUND: {
    text: 'the seal certificate names no organisation (organizationIdentifier) to bind to the evidence issuer',
    httpStatus: 400,
    retryable: false,
  },
  EVIDENCE_SEAL_CERT_ROLE: {
    text: 'the evidence is sealed with a certificate that is not an e-seal certificate',
    httpStatus: 400,
    retryable: false,
  },
  TSA_REVOCATION_UNKNOWN: {
    text: "the revocation status of the seal timestamp's TSA certificate cannot be established",
    httpStatus: 400,
    retryable: true,
  },
  EVIDENCE_NO_TIMESTAMP: { text: 'evidence seal has no timestamp', httpStatus: 400, retryable: false },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly evidence: typeof evidenceErrors;
  }
}
