import type { X509Certificate } from 'node:crypto';
import { parseCrls } from './crl.js';
import { createTrustStore } from './trust-store.js';
import type { Finding, TrustStore } from './types.js';

/**
 * The caller's trust store plus the CRLs a signed document carries (CMS `crls`, CAdES revocation values):
 * they count for revocations, and as "the data of their time" (pki's embeddedCrls), never as stale.
 */
export function withEmbeddedCrls(trust: TrustStore, crls: readonly Buffer[]): TrustStore {
  // A CRL that does not parse is unsigned data that says nothing: left out, so the status stays unknown.
  const readable = crls.filter((crl) => {
    try {
      return parseCrls(crl).length > 0;
    } catch {
      return false;
    }
  });
  if (readable.length === 0) return trust;
  return createTrustStore(trust.anchors, { crls: trust.crls, embeddedCrls: readable });
}

/**
 * EN 319 102-1 §5.2.6 (X.509 certificate validation): a certificate whose revocation status cannot be
 * established — no CRL in the document, none given — is not PASSED but INDETERMINATE (TRY_LATER: the
 * status may become known). `pathFindings` are a valid path's findings; pki reports the missing status as
 * info PKI_REVOCATION_NOT_CHECKED per certificate. Returns the error finding to add, if any.
 */
export function revocationUnknown(
  pathFindings: readonly Finding[],
  who: X509Certificate,
  role: string,
): Finding[] {
  const unknown = pathFindings.filter((f) => f.code === 'PKI_REVOCATION_NOT_CHECKED');
  if (unknown.length === 0) return [];
  return [
    {
      code: 'SIGNER_REVOCATION_UNKNOWN',
      severity: 'error',
      message: `the revocation status of the ${role} ${who.subject.replace(/\n/g, ', ')} cannot be established (${unknown.map((f) => f.message).join('; ')}): give the CRL with --trust`,
    },
  ];
}
