import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Error codes of the crypto module. Decryption failures say as little as they can: which recipient key
 * failed, or whether the tag or the key unwrap failed, is not told apart in the code (padding/tag oracles).
 */
export const cryptoErrors = {
  CRYPTO_DECRYPT_FAILED: {
    text: 'decryption failed: wrong key, or the ciphertext was altered',
    httpStatus: 400,
    retryable: false,
  },
  CRYPTO_NO_MATCHING_RECIPIENT: {
    text: 'the message is not encrypted for this certificate',
    httpStatus: 403,
    retryable: false,
  },
  CRYPTO_MALFORMED: { text: 'the CMS structure is malformed', httpStatus: 400, retryable: false },
  CRYPTO_UNSUPPORTED_ALGORITHM: { text: 'algorithm not supported', httpStatus: 400, retryable: false },
  CRYPTO_ALGORITHM_FORBIDDEN: { text: 'algorithm refused by policy', httpStatus: 400, retryable: false },
  CRYPTO_UNSUPPORTED_KEY: {
    text: 'key or certificate type not supported for encryption',
    httpStatus: 400,
    retryable: false,
  },
  CRYPTO_KEY_UNSUPPORTED: {
    text: 'signing key type not supported for CMS signatures',
    httpStatus: 500,
    retryable: false,
  },
  CRYPTO_NO_RECIPIENTS: {
    text: 'at least one recipient certificate is required',
    httpStatus: 400,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type CryptoErrorCode = keyof typeof cryptoErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly crypto: typeof cryptoErrors;
  }
}
