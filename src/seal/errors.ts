import type { ErrorCatalogueEntry } from '../core/errors.js';

/** Codes of the seal module (thrown by sealXml, or reported as findings by verifyXmlSeal). */
export const sealErrors = {
  SEAL_MALFORMED: { text: 'the XML or its signature is malformed', httpStatus: 400, retryable: false },
  SEAL_NO_SIGNATURE: { text: 'the document is not signed', httpStatus: 400, retryable: false },
  SEAL_MULTIPLE_SIGNATURES: {
    text: 'more than one signature (wrapping refused)',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_DUPLICATE_ID: { text: 'an Id occurs twice (wrapping refused)', httpStatus: 400, retryable: false },
  SEAL_REFERENCE_MISSING: { text: 'a required reference is missing', httpStatus: 400, retryable: false },
  SEAL_REFERENCE_UNSUPPORTED: { text: 'reference form not supported', httpStatus: 400, retryable: false },
  SEAL_REFERENCE_UNRESOLVED: {
    text: 'reference target not found exactly once',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TRANSFORM_UNSUPPORTED: { text: 'transform not supported', httpStatus: 400, retryable: false },
  SEAL_DIGEST_MISMATCH: { text: 'signed content was changed', httpStatus: 400, retryable: false },
  SEAL_SIGNATURE_INVALID: { text: 'signature value does not verify', httpStatus: 400, retryable: false },
  SEAL_ALGORITHM_UNSUPPORTED: { text: 'algorithm not supported', httpStatus: 400, retryable: false },
  SEAL_ALGORITHM_FORBIDDEN: { text: 'algorithm refused as unsafe', httpStatus: 400, retryable: false },
  SEAL_XADES_MISSING: { text: 'XAdES qualifying properties missing', httpStatus: 400, retryable: false },
  SEAL_XADES_TARGET: {
    text: 'qualifying properties target another signature',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_SIGNING_CERT_MISSING: { text: 'SigningCertificateV2 missing', httpStatus: 400, retryable: false },
  SEAL_SIGNING_CERT_MISMATCH: {
    text: 'signing certificate does not match SigningCertificateV2',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_ISSUER_SERIAL_MISMATCH: { text: 'IssuerSerialV2 does not match', httpStatus: 400, retryable: false },
  SEAL_SIGNING_TIME_MISSING: { text: 'SigningTime missing', httpStatus: 400, retryable: false },
  SEAL_CERT_PATH_INVALID: {
    text: 'signing certificate not trusted at validation time',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TIMESTAMP_INVALID: { text: 'signature timestamp does not verify', httpStatus: 400, retryable: false },
  SEAL_TIMESTAMP_UNSUPPORTED: {
    text: 'signature timestamp form not supported',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TIMESTAMP_HASH_FAILURE: {
    text: 'a timestamp does not cover the signature as it is now',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TIMESTAMP_SIG_FAILURE: {
    text: 'a timestamp token was changed (its signature fails)',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TIMESTAMP_MALFORMED: { text: 'a timestamp token cannot be read', httpStatus: 400, retryable: false },
  SEAL_TIMESTAMP_OUT_OF_BOUNDS: {
    text: 'a TSA certificate is not valid at the time the timestamp must hold',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_AUGMENT_NOT_B_T: {
    text: 'only a valid B-T (or higher) seal can be augmented',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_TIMESTAMP_BEFORE_SIGNING_TIME: {
    text: 'timestamp predates the signing time',
    httpStatus: 400,
    retryable: false,
  },
  XADES_FORM_UNSUPPORTED: {
    text: 'a form or algorithm of the signature is not implemented (INDETERMINATE)',
    httpStatus: 400,
    retryable: false,
  },
  XADES_SIGNED_DATA_NOT_FOUND: {
    text: 'a detached document the signature covers was not given',
    httpStatus: 400,
    retryable: false,
  },
  XADES_WEAK_ALGORITHM: {
    text: 'an algorithm refused by the cryptographic constraints (SHA-1)',
    httpStatus: 400,
    retryable: false,
  },
  XADES_MANIFEST_REFERENCE_INVALID: {
    text: 'a ds:Manifest reference does not match its data (reported, not part of core validation)',
    httpStatus: 400,
    retryable: false,
  },
  XADES_COUNTERSIGNATURE_TARGET: {
    text: 'a counter-signature does not cover the SignatureValue of the signature it counter-signs',
    httpStatus: 400,
    retryable: false,
  },
  XADES_COUNTERSIGNED_DIGEST_READING: {
    text: "a counter-signature's digest matches the canonicalized SignatureValue element, not its transform chain",
    httpStatus: 400,
    retryable: false,
  },
  XADES_REVOCATION_UNKNOWN: {
    text: 'the revocation status of a certificate cannot be established',
    httpStatus: 400,
    retryable: true,
  },
  SEAL_REVOCATION_STALE: {
    text: 'no CRL given covers the signing time: refresh the CRLs',
    httpStatus: 500,
    retryable: true,
  },
  CMS_SIGNERS_UNSUPPORTED: {
    text: 'the CMS signature has more than one signer (only one is verified)',
    httpStatus: 400,
    retryable: false,
  },
  CMS_ALGORITHM_UNSUPPORTED: {
    text: 'an algorithm of the CMS signature is not implemented',
    httpStatus: 400,
    retryable: false,
  },
  CMS_CONTENT_NOT_GIVEN: {
    text: 'the detached CMS signature was given without its signed document',
    httpStatus: 400,
    retryable: false,
  },
  CMS_SIGNER_NOT_EXPECTED: {
    text: 'the CMS signature is not by the certificate given',
    httpStatus: 400,
    retryable: false,
  },
  SEAL_KEY_MISMATCH: { text: 'signature algorithm does not fit the key', httpStatus: 500, retryable: false },
  SEAL_PARENT_NOT_FOUND: { text: 'signature parent element not found', httpStatus: 500, retryable: false },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly seal: typeof sealErrors;
  }
}
