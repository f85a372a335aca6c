import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the pki module: thrown when keys, certificates, CRLs and OCSP answers are made or read, or reported
 * as error findings of path validation (evidence/indication.ts turns those into EN 319 102-1 indications).
 * HTTP status: how the REST API would answer — a certificate a client handed in is its error (400), our own
 * keys, tokens and files are ours (500), a responder or distribution point we asked is upstream (502/503).
 */
export const pkiErrors = {
  PKI_DER_MALFORMED: { text: 'malformed DER', httpStatus: 400, retryable: false },
  PKI_CERT_MALFORMED: { text: 'the certificate cannot be read', httpStatus: 400, retryable: false },
  PKI_BAD_NAME: { text: 'the name is not usable in a dev PKI', httpStatus: 400, retryable: false },
  PKI_KEY_UNSUPPORTED: { text: 'key type not supported for signing', httpStatus: 500, retryable: false },
  PKI_KEY_USAGE_NOT_ENCRYPTION: {
    text: 'the certificate does not allow key encipherment or key agreement',
    httpStatus: 400,
    retryable: false,
  },
  PKI_DIR_NOT_EMPTY: {
    text: 'the directory for a new PKI or token is not empty',
    httpStatus: 500,
    retryable: false,
  },
  PKI_TOOL_FAILED: {
    text: 'an external PKI tool (openssl) failed while making dev keys or certificates',
    httpStatus: 500,
    retryable: false,
  },
  PKI_NOT_ISSUED_BY_CA: {
    text: 'the certificate was not issued by this CA',
    httpStatus: 400,
    retryable: false,
  },
  PKI_TRUST_STORE_EMPTY: { text: 'the trust store holds no anchor', httpStatus: 500, retryable: false },
  PKI_TRUST_STORE_UNREADABLE: {
    text: 'a trust store file cannot be read',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PATH_NOT_FOUND: { text: 'no certification path to a trust anchor', httpStatus: 400, retryable: false },
  PKI_SIGNATURE_INVALID: {
    text: 'a certificate signature in the path does not verify',
    httpStatus: 400,
    retryable: false,
  },
  PKI_CERT_EXPIRED: { text: 'a certificate in the path has expired', httpStatus: 400, retryable: false },
  PKI_CERT_NOT_YET_VALID: {
    text: 'a certificate in the path is not valid yet',
    httpStatus: 400,
    retryable: false,
  },
  PKI_CERT_REVOKED: { text: 'a certificate in the path is revoked', httpStatus: 400, retryable: false },
  PKI_NOT_A_CA: { text: 'an issuer in the path is not a CA', httpStatus: 400, retryable: false },
  PKI_PATH_LENGTH_EXCEEDED: {
    text: 'the path is longer than a CA allows',
    httpStatus: 400,
    retryable: false,
  },
  PKI_ROLE_CA: {
    text: 'a CA certificate is used where an end-entity certificate is required',
    httpStatus: 400,
    retryable: false,
  },
  PKI_ROLE_KEY_USAGE: {
    text: 'the certificate lacks the key usage of its role',
    httpStatus: 400,
    retryable: false,
  },
  PKI_ROLE_EXTENDED_KEY_USAGE: {
    text: 'the certificate lacks or contradicts the extended key usage of its role',
    httpStatus: 400,
    retryable: false,
  },
  PKI_REVOCATION_STALE: {
    text: 'no revocation data fresh enough for the validation time',
    httpStatus: 400,
    retryable: true,
  },
  SIGNER_REVOCATION_UNKNOWN: {
    text: 'the revocation status of the signer cannot be established',
    httpStatus: 400,
    retryable: true,
  },
  PKI_CRL_MALFORMED: { text: 'the CRL cannot be read', httpStatus: 400, retryable: false },
  PKI_CRL_ISSUER_UNKNOWN: { text: 'the CRL is not issued by a known CA', httpStatus: 400, retryable: false },
  PKI_CRL_SIGNATURE_INVALID: { text: 'the CRL signature does not verify', httpStatus: 400, retryable: false },
  PKI_CRL_ROLLBACK: { text: 'the CRL is older than the one held', httpStatus: 400, retryable: false },
  PKI_CRL_FETCH_FAILED: { text: 'the CRL could not be fetched', httpStatus: 502, retryable: true },
  PKI_OCSP_UNAVAILABLE: { text: 'the OCSP responder could not be reached', httpStatus: 503, retryable: true },
  PKI_OCSP_REFUSED: { text: 'the OCSP responder refused the request', httpStatus: 502, retryable: true },
  PKI_OCSP_MALFORMED: { text: 'the OCSP response cannot be read', httpStatus: 502, retryable: false },
  PKI_OCSP_SIGNATURE_INVALID: {
    text: 'the OCSP response signature does not verify',
    httpStatus: 502,
    retryable: false,
  },
  PKI_OCSP_RESPONDER_UNKNOWN: {
    text: 'the OCSP responder certificate is not known',
    httpStatus: 502,
    retryable: false,
  },
  PKI_OCSP_RESPONDER_UNAUTHORIZED: {
    text: 'the OCSP responder is not authorised by the CA',
    httpStatus: 502,
    retryable: false,
  },
  PKI_OCSP_WRONG_CERT: {
    text: 'the OCSP response is about another certificate',
    httpStatus: 502,
    retryable: false,
  },
  PKI_OCSP_NONCE_MISMATCH: {
    text: 'the OCSP response does not echo the nonce of the request',
    httpStatus: 502,
    retryable: true,
  },
  PKI_OCSP_NOT_YET_VALID: { text: 'the OCSP response is not valid yet', httpStatus: 502, retryable: true },
  PKI_OCSP_STALE: { text: 'the OCSP response is past its next update', httpStatus: 502, retryable: true },
  PKI_OCSP_SIGNER_UNSUPPORTED: {
    text: 'the OCSP responder key type is not supported',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_MODULE: { text: 'the PKCS#11 module cannot be loaded', httpStatus: 500, retryable: false },
  PKI_PKCS11_TOKEN_NOT_FOUND: { text: 'the PKCS#11 token was not found', httpStatus: 500, retryable: false },
  PKI_PKCS11_PIN_INCORRECT: { text: 'the PKCS#11 PIN is incorrect', httpStatus: 500, retryable: false },
  PKI_PKCS11_KEY_NOT_FOUND: { text: 'the PKCS#11 key was not found', httpStatus: 500, retryable: false },
  PKI_PKCS11_KEY_MISMATCH: {
    text: 'the PKCS#11 key does not match the certificate',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_KEY_EXISTS: {
    text: 'a PKCS#11 key with this label exists already',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_SIGN_FAILED: { text: 'the PKCS#11 token failed to sign', httpStatus: 500, retryable: true },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type PkiErrorCode = keyof typeof pkiErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly pki: typeof pkiErrors;
  }
}
