import type { QerdsErrorCode } from '../core/errors.js';
import type { Finding } from '../pki/types.js';
import type { Indication, SubIndication } from './types.js';

/**
 * Finding code → EN 319 102-1 (sub-)indication. The first rule that matches an error finding decides;
 * rules are ordered so that a definite failure (the content was changed, the signature is forged) wins
 * over an indeterminate one (we cannot tell yet: unknown CA, no proof of time).
 */
const RULES: readonly {
  readonly codes: readonly QerdsErrorCode[];
  readonly indication: Indication;
  readonly sub: SubIndication;
}[] = [
  // TSA_* codes are errors only when a timestamp token is verified on its own (a .tsr/.der file); inside
  // a seal they are warnings beside a SEAL_TIMESTAMP_* error.
  {
    codes: ['SEAL_DIGEST_MISMATCH', 'EVIDENCE_CONTENT_MISMATCH', 'TSA_IMPRINT_MISMATCH'],
    indication: 'TOTAL-FAILED',
    sub: 'HASH_FAILURE',
  },
  {
    codes: ['SEAL_SIGNATURE_INVALID', 'TSA_SIGNATURE_INVALID', 'TSA_SIGNING_CERT_MISMATCH'],
    indication: 'TOTAL-FAILED',
    sub: 'SIG_CRYPTO_FAILURE',
  },
  {
    codes: [
      'SEAL_MALFORMED',
      'SEAL_NO_SIGNATURE',
      'SEAL_MULTIPLE_SIGNATURES',
      'SEAL_DUPLICATE_ID',
      'SEAL_REFERENCE_MISSING',
      'SEAL_REFERENCE_UNSUPPORTED',
      'SEAL_REFERENCE_UNRESOLVED',
      'SEAL_TRANSFORM_UNSUPPORTED',
      'SEAL_XADES_MISSING',
      'SEAL_XADES_TARGET',
      'SEAL_SIGNING_CERT_MISSING',
      'SEAL_SIGNING_TIME_MISSING',
      'EVIDENCE_MALFORMED',
      'TSA_TOKEN_MALFORMED',
      'TSA_SIGNING_CERT_MISSING',
    ],
    indication: 'TOTAL-FAILED',
    sub: 'FORMAT_FAILURE',
  },
  { codes: ['PKI_CERT_REVOKED'], indication: 'TOTAL-FAILED', sub: 'REVOKED' },
  // The evidence names an issuer its seal certificate contradicts (issuer-check.ts). EN 319 102-1 lists
  // SIG_CONSTRAINTS_FAILURE under INDETERMINATE; we report TOTAL-FAILED since no further data could make the
  // seal of one organisation speak for another (a departure, documented in docs/architecture.md).
  { codes: ['EVIDENCE_ISSUER_MISMATCH'], indication: 'TOTAL-FAILED', sub: 'SIG_CONSTRAINTS_FAILURE' },
  // EN 319 102-1 §5.2.5: no revocation data fresh enough for the validation time; newer data may settle it.
  { codes: ['PKI_REVOCATION_STALE'], indication: 'INDETERMINATE', sub: 'TRY_LATER' },
  // EN 319 102-1 §5.2.6: no revocation status at all for a signer of a token, CMS/CAdES or AS4 message.
  {
    codes: ['SIGNER_REVOCATION_UNKNOWN', 'TSA_REVOCATION_UNKNOWN'],
    indication: 'INDETERMINATE',
    sub: 'TRY_LATER',
  },
  // A detached signature whose content was not given: nothing to compare the message-digest with.
  { codes: ['CMS_CONTENT_NOT_GIVEN'], indication: 'INDETERMINATE', sub: 'SIGNED_DATA_NOT_FOUND' },
  // A timestamp token that no longer matches what it covers, or whose own signature fails, was changed
  // after issuance (EN 319 102-1 §5.4: the token's validation is TOTAL-FAILED). We do not fall back to
  // validating without it: an altered evidence file must not pass.
  // The token whose own signature fails is named before the later archive timestamps that, covering
  // it, no longer match.
  { codes: ['SEAL_TIMESTAMP_SIG_FAILURE'], indication: 'TOTAL-FAILED', sub: 'SIG_CRYPTO_FAILURE' },
  { codes: ['SEAL_TIMESTAMP_MALFORMED'], indication: 'TOTAL-FAILED', sub: 'FORMAT_FAILURE' },
  { codes: ['SEAL_TIMESTAMP_HASH_FAILURE'], indication: 'TOTAL-FAILED', sub: 'HASH_FAILURE' },
  {
    codes: ['SEAL_SIGNING_CERT_MISMATCH', 'TSA_SIGNER_CERT_MISSING'],
    indication: 'INDETERMINATE',
    sub: 'NO_SIGNING_CERTIFICATE_FOUND',
  },
  {
    codes: ['PKI_PATH_NOT_FOUND', 'PKI_SIGNATURE_INVALID'],
    indication: 'INDETERMINATE',
    sub: 'NO_CERTIFICATE_CHAIN_FOUND',
  },
  {
    codes: ['PKI_CERT_EXPIRED', 'PKI_CERT_NOT_YET_VALID', 'SEAL_TIMESTAMP_OUT_OF_BOUNDS'],
    indication: 'INDETERMINATE',
    sub: 'OUT_OF_BOUNDS_NO_POE',
  },
  // A signing certificate without the key usage of its role (EN 319 102-1 §5.2.6, X.509 validation constraints).
  // A seal certificate without organizationIdentifier, which would bind it to the issuer named (issuer-check.ts).
  {
    codes: [
      'PKI_NOT_A_CA',
      'PKI_PATH_LENGTH_EXCEEDED',
      'TSA_NOT_TIMESTAMPING_CERT',
      'EVIDENCE_SEAL_CERT_ROLE',
      'EVIDENCE_ISSUER_UNBOUND',
    ],
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
  },
  {
    codes: [
      'SEAL_ALGORITHM_FORBIDDEN',
      'TSA_WEAK_IMPRINT',
      'TSA_ALGORITHM_UNSUPPORTED',
      'CMS_ALGORITHM_UNSUPPORTED',
    ],
    indication: 'INDETERMINATE',
    sub: 'CRYPTO_CONSTRAINTS_FAILURE',
  },
  {
    codes: ['SEAL_TIMESTAMP_BEFORE_SIGNING_TIME'],
    indication: 'INDETERMINATE',
    sub: 'TIMESTAMP_ORDER_FAILURE',
  },
  { codes: ['SEAL_TIMESTAMP_INVALID', 'EVIDENCE_NO_TIMESTAMP'], indication: 'INDETERMINATE', sub: 'NO_POE' },
];

export function indicationOf(findings: readonly Finding[]): {
  indication: Indication;
  subIndication?: SubIndication;
  decisive?: Finding;
} {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return { indication: 'TOTAL-PASSED' };
  for (const rule of RULES) {
    const decisive = errors.find((f) => (rule.codes as readonly string[]).includes(f.code));
    if (decisive) return { indication: rule.indication, subIndication: rule.sub, decisive };
  }
  // Unsupported algorithms or forms, and anything not listed: the constraints of this validation fail.
  return { indication: 'INDETERMINATE', subIndication: 'SIG_CONSTRAINTS_FAILURE', decisive: errors[0] };
}
