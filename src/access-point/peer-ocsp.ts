import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/index.js';
import { fetchOcsp, ocspUrlOf, type TrustStore } from '../pki/index.js';

/**
 * When an AS4 peer's certificate names an OCSP responder (Authority Information Access), ask it: a certificate
 * the responder says is revoked is refused (EBMS:0101), and so is one whose status cannot be learnt (responder
 * down or its answer not verifiable), since "could not check" must not read as "not revoked". Certificates
 * without an OCSP URL are left to the CRLs of the trust store (already checked with the signature).
 */
export async function requireNotRevokedByOcsp(
  signer: X509Certificate,
  trust: TrustStore,
  at: Date,
  timeoutMs = 10_000,
): Promise<void> {
  const url = ocspUrlOf(signer);
  if (!url) return;
  const issuer = trust.validate(signer, { at }).path[1];
  if (!issuer)
    throw new QerdsError(
      'AS4_EBMS_0101',
      `no issuer of ${signer.subject.replace(/\n/g, ', ')} in the trust store to check its OCSP status against`,
    );
  let status;
  try {
    status = await fetchOcsp(url, signer, issuer, { timeoutMs, at });
  } catch (cause) {
    throw new QerdsError(
      'AS4_EBMS_0101',
      `the OCSP status of the signer cannot be established: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (status.status !== 'good') {
    throw new QerdsError(
      'AS4_EBMS_0101',
      `the signer's certificate is ${status.status} according to its OCSP responder${status.revokedAt ? ` (since ${status.revokedAt.toISOString()})` : ''}`,
    );
  }
}
