import { readFileSync, writeFileSync } from 'node:fs';
import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports.js';
import { OID_CRL_NUMBER, crlPem, importRsaSigningKey, issueCrl, type CrlEntry } from './cert-factory.js';
import type { DevPkiLayout } from './types.js';
import { x509 } from './x509.js';

/** RFC 5280 §5.3.1 CRLReason names (value 7 is unused in the standard). */
export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn'
  | 'aACompromise';

const CRL_DAYS = 30;

/**
 * Revoke a certificate of the dev CA: re-issue `layout.caCrl` with the certificate's serial added (revocation
 * date `when`), the old entries kept, and the cRLNumber incremented. The CRL's thisUpdate is the clock's now,
 * nextUpdate 30 days later.
 *
 * @param certPem the certificate to revoke (PEM); it must have been issued by the dev CA.
 * @param reason @defaultValue 'unspecified'
 * @param when revocation date. @defaultValue the clock's now
 */
export async function revokeCertificate(
  layout: DevPkiLayout,
  certPem: string,
  reason: CrlReason = 'unspecified',
  when?: Date,
  options: { readonly clock?: Clock } = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  const caCert = new x509.X509Certificate(readFileSync(layout.caCert, 'utf8'));
  const cert = new x509.X509Certificate(certPem);
  if (cert.issuer !== caCert.subject) {
    throw new QerdsError('PKI_NOT_ISSUED_BY_CA', `${cert.subject} was not issued by the dev CA ${caCert.subject}`);
  }
  const old = new x509.X509Crl(readFileSync(layout.caCrl, 'utf8'));
  const entries: CrlEntry[] = old.entries.map((e) => ({
    serialNumber: e.serialNumber,
    revocationDate: e.revocationDate,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
  }));
  const serial = cert.serialNumber.toLowerCase();
  if (!entries.some((e) => e.serialNumber.toLowerCase() === serial)) {
    entries.push({ serialNumber: serial, revocationDate: when ?? now, reason: x509.X509CrlReason[reason] });
  }
  const signingKey = await importRsaSigningKey(readFileSync(layout.caKey, 'utf8'));
  const crl = await issueCrl(
    { cert: caCert, signingKey },
    {
      crlNumber: crlNumberOf(old) + 1n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_DAYS * 86_400_000),
      entries,
    },
  );
  writeFileSync(layout.caCrl, crlPem(crl));
}

/** The cRLNumber extension's value, 0 when absent. */
function crlNumberOf(crl: x509.X509Crl): bigint {
  const ext = crl.extensions.find((e) => e.type === OID_CRL_NUMBER);
  if (!ext) return 0n;
  const der = Buffer.from(ext.value);
  // INTEGER: tag 0x02, short length, big-endian body.
  const len = der[1] ?? 0;
  return BigInt(`0x${der.subarray(2, 2 + len).toString('hex') || '0'}`);
}
