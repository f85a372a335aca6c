import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the as4 module other than the ebMS table (ebms-errors.ts, whose codes travel as eb:Error): thrown when
 * we build, send or read a message, or reported as error findings of WS-Security verification (the AS4 edge
 * answers those with EBMS:0101/0103). HTTP status: how the REST API would answer a request failing with it.
 */
export const as4Errors = {
  AS4_PMODE_INVALID: { text: 'the P-Mode is invalid', httpStatus: 500, retryable: false },
  AS4_SIGN_FAILED: { text: 'the message could not be signed', httpStatus: 500, retryable: false },
  AS4_SIGNATURE_ALGORITHM_UNSUPPORTED: {
    text: 'no AS4 signature algorithm for this key type',
    httpStatus: 500,
    retryable: false,
  },
  AS4_ENCRYPTION_KEY_UNSUPPORTED: {
    text: 'cannot encrypt for this certificate key type',
    httpStatus: 502,
    retryable: false,
  },
  AS4_ENCRYPTION_CERT_MISSING: {
    text: 'the receiving access point has no AS4 encryption certificate',
    httpStatus: 502,
    retryable: false,
  },
  AS4_ENCRYPTION_CERT_INVALID: {
    text: 'the AS4 encryption certificate of the receiving access point is not usable',
    httpStatus: 502,
    retryable: false,
  },
  AS4_PEER_NOT_PINNED: {
    text: 'the directory pins no access point certificate for the peer',
    httpStatus: 502,
    retryable: false,
  },
  AS4_TLS_REQUIRED: {
    text: 'the peer has pinned TLS certificates but its endpoint is not https',
    httpStatus: 502,
    retryable: false,
  },
  AS4_TLS_PIN_MISMATCH: {
    text: 'the TLS certificate of the peer is not the one pinned',
    httpStatus: 502,
    retryable: true,
  },
  AS4_TLS_HANDSHAKE_FAILED: {
    text: 'the TLS handshake with the peer failed',
    httpStatus: 502,
    retryable: true,
  },
  AS4_MESSAGE_TOO_LARGE: {
    text: 'the AS4 message exceeds the configured limit',
    httpStatus: 413,
    retryable: false,
  },
  AS4_STREAM_LIMIT: {
    text: 'a decompressed or decrypted part exceeds its limit',
    httpStatus: 413,
    retryable: false,
  },
  AS4_STREAMED_BODY: {
    text: 'a streamed attachment must be read with open()',
    httpStatus: 500,
    retryable: false,
  },
  AS4_CAPTURE_UNREADABLE: {
    text: 'the captured HTTP exchange cannot be read',
    httpStatus: 400,
    retryable: false,
  },
  AS4_ATTACHMENT_NOT_CHECKED: {
    text: 'an encrypted attachment was not checked (no key given)',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIGNATURE_MISSING: {
    text: 'the message has no WS-Security signature',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_STRUCTURE: {
    text: 'the WS-Security header is not as the AS4 profile requires',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_ALGORITHM: {
    text: 'a signature, digest, canonicalization or transform algorithm is not accepted',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_REFERENCE: {
    text: 'a signature reference does not resolve to exactly one element',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_DIGEST_MISMATCH: { text: 'signed content was changed', httpStatus: 400, retryable: false },
  AS4_SIG_VALUE: { text: 'the signature value does not verify', httpStatus: 400, retryable: false },
  AS4_SIG_DUPLICATE_ID: { text: 'an Id occurs twice (wrapping refused)', httpStatus: 400, retryable: false },
  AS4_SIG_WRAPPING: {
    text: 'the signed elements are not the ones processed (wrapping refused)',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_NOT_COVERED: {
    text: 'a part the profile requires signed is not covered by the signature',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_KEY_UNRESOLVED: { text: 'the signing key cannot be resolved', httpStatus: 400, retryable: false },
  AS4_SIG_UNTRUSTED: {
    text: 'the signer certificate does not validate against the trust store',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_SIGNER_ROLE: {
    text: 'the signer certificate is not an AS4 signing certificate',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_UNEXPECTED_SIGNER: {
    text: 'the message is signed by another certificate than expected',
    httpStatus: 400,
    retryable: false,
  },
  AS4_SIG_TIMESTAMP: {
    text: 'the wsu:Timestamp is missing, malformed, in the future or expired',
    httpStatus: 400,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type As4ErrorCode = keyof typeof as4Errors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly as4: typeof as4Errors;
  }
}
