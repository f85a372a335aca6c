import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/index.js';
import { peppolApCertificateFindings, type PeppolNetwork } from '../peppol/index.js';
import { checkCertificateRole, ocspUrlOf, type TrustStore } from '../pki/index.js';
import { requireNotRevokedByOcsp } from './peer-ocsp.js';

/**
 * What an AP on the Peppol AS4 profile holds its peers to (`pki.peppolAnchors` configured): the AP CAs of the
 * network, alone as anchors (the Peppol roots and the other anchors of `pki.trust` excluded), with the CRLs held.
 */
export interface PeppolPeerPolicy {
  /** A trust store over the network's AP CAs (`peppolApAnchorFiles`), with the CRLs held. */
  readonly trust: TrustStore;
  readonly network: PeppolNetwork;
  /** One OCSP request, in ms. @defaultValue 10000 */
  readonly ocspTimeoutMs?: number;
}

export interface PeppolPeerCheckOptions extends PeppolPeerPolicy {
  readonly at: Date;
}

/**
 * `retryable`: whether asking again may give another answer (a revocation status nobody could tell now may be
 * told later); a certificate of the wrong profile, role or CA stays what it is. A receipt refused for good ends
 * the relay at once instead of after the whole retry budget.
 */
const refuse = (message: string, retryable: boolean): never => {
  throw new QerdsError('AS4_EBMS_0101', message, { details: { retryable } });
};

/**
 * A peer AP's certificate judged as a Peppol AP certificate: the profile (seat id CN, O, C, OU on the test
 * network), the role of an AS4 signer (Peppol AP certificates carry only TLS EKUs), a path to one of the
 * configured AP CAs at `at` (validity, CRLs held), then revocation: the responder its AIA names (OCSP), or else a
 * CRL of its CA that covers `at`. Threat: a certificate of the same PKI with another role (an SMP's), of the
 * other network (test on production), revoked, or whose status nobody could tell, accepted as a peer AP.
 * Throws QerdsError AS4_EBMS_0101 with the reason.
 */
export async function requirePeppolApCertificate(
  cert: X509Certificate,
  options: PeppolPeerCheckOptions,
): Promise<void> {
  const who = cert.subject.replace(/\n/g, ', ');
  const profile = peppolApCertificateFindings(cert, options.network);
  if (profile.length > 0)
    refuse(`${who} is not a Peppol AP certificate: ${profile.map((f) => f.message).join('; ')}`, false);
  const role = checkCertificateRole(cert, 'as4-signer', { tlsEkuSigners: true });
  if (role.length > 0) refuse(role.map((f) => f.message).join('; '), false);
  const path = options.trust.validate(cert, { at: options.at });
  if (!path.valid)
    refuse(
      `${who} does not chain to a Peppol ${options.network} AP CA: ${path.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.message.replace(/\n/g, ', '))
        .join('; ')}`,
      false,
    );
  if (ocspUrlOf(cert)) {
    await requireNotRevokedByOcsp(cert, options.trust, options.at, options.ocspTimeoutMs);
    return;
  }
  // "Could not check" must not read as "not revoked": without a responder, a current CRL must have spoken.
  const unchecked = path.findings.filter((f) => f.code === 'PKI_REVOCATION_NOT_CHECKED');
  if (unchecked.length > 0)
    refuse(
      `the revocation status of ${who} cannot be established: no OCSP responder in the certificate and ${unchecked.map((f) => f.message.replace(/\n/g, ', ')).join('; ')}`,
      true,
    );
}
