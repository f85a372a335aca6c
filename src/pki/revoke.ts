import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports.js';
import { crlPem, importRsaSigningKey, issueCrl, type CrlEntry } from './cert-factory.js';
import { crlNumberOf } from './crl.js';
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

export interface ReissueDevCrlOptions {
  /** Days from thisUpdate to nextUpdate. @defaultValue 30 */
  readonly days?: number;
  /** Source of thisUpdate. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** What a re-issued dev CRL says: its number and validity. */
export interface DevCrlIssued {
  readonly file: string;
  readonly crlNumber: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: number;
}

/**
 * Re-issue the dev CA's CRL (`layout.caCrl`, `qerds pki crl`): the revoked entries kept, `add` appended,
 * the cRLNumber incremented, thisUpdate the clock's now, nextUpdate `days` later. A CA publishes a new CRL
 * before the old one's nextUpdate; without it relying parties find its certificates' status unknown.
 */
export async function reissueDevCrl(
  layout: DevPkiLayout,
  options: ReissueDevCrlOptions & { readonly add?: (now: Date) => CrlEntry | undefined } = {},
): Promise<DevCrlIssued> {
  const days = options.days ?? CRL_DAYS;
  if (!(days > 0))
    throw new QerdsError('CONFIG_INVALID', `CRL validity must be a positive number of days, got ${days}`);
  const now = (options.clock ?? systemClock).now();
  const caCert = new x509.X509Certificate(readFileSync(layout.caCert, 'utf8'));
  const old = new x509.X509Crl(readFileSync(layout.caCrl, 'utf8'));
  const entries: CrlEntry[] = old.entries.map((e) => ({
    serialNumber: e.serialNumber,
    revocationDate: e.revocationDate,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
  }));
  const added = options.add?.(now);
  if (added && !entries.some((e) => e.serialNumber.toLowerCase() === added.serialNumber.toLowerCase()))
    entries.push(added);
  const signingKey = await importRsaSigningKey(readFileSync(layout.caKey, 'utf8'));
  const crlNumber = crlNumberOf(old) + 1n;
  const nextUpdate = new Date(now.getTime() + days * 86_400_000);
  const crl = await issueCrl(
    { cert: caCert, signingKey },
    { crlNumber, thisUpdate: now, nextUpdate, entries },
  );
  // Written beside, then renamed over: a running AP re-reading the file never sees half of it.
  const partial = `${layout.caCrl}.${process.pid}.tmp`;
  writeFileSync(partial, crlPem(crl));
  renameSync(partial, layout.caCrl);
  return { file: layout.caCrl, crlNumber, thisUpdate: now, nextUpdate, revoked: entries.length };
}

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
  const caCert = new x509.X509Certificate(readFileSync(layout.caCert, 'utf8'));
  const cert = new x509.X509Certificate(certPem);
  if (cert.issuer !== caCert.subject) {
    throw new QerdsError(
      'PKI_NOT_ISSUED_BY_CA',
      `${cert.subject} was not issued by the dev CA ${caCert.subject}`,
    );
  }
  await reissueDevCrl(layout, {
    ...options,
    add: (now) => ({
      serialNumber: cert.serialNumber.toLowerCase(),
      revocationDate: when ?? now,
      reason: x509.X509CrlReason[reason],
    }),
  });
}
