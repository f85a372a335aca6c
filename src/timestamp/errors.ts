import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the timestamp module: thrown by the TSA clients and the embedded TSA, or reported as error findings
 * when a token is verified (evidence/indication.ts reads those). HTTP status: how the REST API would answer a
 * request that fails with it — a token a client handed in is its error (400), a TSA we asked is upstream (502/503).
 */
export const timestampErrors = {
  TSA_UNAVAILABLE: { text: 'no timestamp authority could be reached', httpStatus: 503, retryable: true },
  TSA_REJECTED: { text: 'the timestamp authority refused the request', httpStatus: 502, retryable: true },
  TSA_BAD_RESPONSE: {
    text: 'the timestamp authority answered something other than a timestamp reply',
    httpStatus: 502,
    retryable: true,
  },
  TSA_NONCE_MISMATCH: {
    text: 'the timestamp reply does not echo the nonce of the request',
    httpStatus: 502,
    retryable: true,
  },
  TSA_POLICY_MISMATCH: {
    text: 'the timestamp was issued under another policy than the one asked for',
    httpStatus: 502,
    retryable: false,
  },
  TSA_BAD_REQUEST: { text: 'the timestamp request is malformed', httpStatus: 400, retryable: false },
  TSA_BAD_IMPRINT: {
    text: 'the message imprint has an unsupported algorithm or the wrong length',
    httpStatus: 400,
    retryable: false,
  },
  TSA_CONFIG_INVALID: { text: 'the timestamp configuration is invalid', httpStatus: 500, retryable: false },
  TSA_KEY_UNSUPPORTED: { text: 'the TSA key type is not supported', httpStatus: 500, retryable: false },
  TSA_TOKEN_MALFORMED: { text: 'the timestamp token cannot be read', httpStatus: 400, retryable: false },
  TSA_IMPRINT_MISMATCH: {
    text: 'the timestamp covers other data than the data given',
    httpStatus: 400,
    retryable: false,
  },
  TSA_SIGNATURE_INVALID: {
    text: 'the signature of the timestamp token does not verify',
    httpStatus: 400,
    retryable: false,
  },
  TSA_SIGNER_CERT_MISSING: {
    text: 'the certificate of the timestamp signer was not found',
    httpStatus: 400,
    retryable: false,
  },
  TSA_SIGNING_CERT_MISSING: {
    text: 'the timestamp token has no ESS signing certificate attribute',
    httpStatus: 400,
    retryable: false,
  },
  TSA_SIGNING_CERT_MISMATCH: {
    text: 'the ESS signing certificate does not name the signer certificate',
    httpStatus: 400,
    retryable: false,
  },
  TSA_CERT_UNTRUSTED: {
    text: 'the TSA certificate does not validate against the trust store',
    httpStatus: 400,
    retryable: false,
  },
  TSA_NOT_TIMESTAMPING_CERT: {
    text: 'the signer certificate is not a timestamping certificate',
    httpStatus: 400,
    retryable: false,
  },
  TSA_NAME_MISMATCH: {
    text: 'the TSA named in the token is not its signer',
    httpStatus: 400,
    retryable: false,
  },
  TSA_WEAK_IMPRINT: {
    text: 'the imprint algorithm of the timestamp is not accepted',
    httpStatus: 400,
    retryable: false,
  },
  TSA_ALGORITHM_UNSUPPORTED: {
    text: 'an algorithm of the timestamp token is not supported',
    httpStatus: 400,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type TimestampErrorCode = keyof typeof timestampErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly timestamp: typeof timestampErrors;
  }
}
