import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports.js';
import {
  crlPem,
  generateRsaKey,
  importRsaSigningKey,
  issueCrl,
  issueLeaf,
  issueRootCa,
} from './cert-factory.js';
import { CLIENT_AUTH_EKU } from './extended-key-usages.js';
import { devPkiLayout } from './layout.js';
import type { DevPkiLayout } from './types.js';
import { x509 } from './x509.js';

export interface DevPeppolPkiOptions {
  /** A dev PKI (`qerds pki init`, or the tests' shared one) whose CA, TSA, e-seals and TLS identities are copied. */
  readonly from: DevPkiLayout;
  /** Directory of the Peppol dev PKI (created). */
  readonly dir: string;
  /** Seat id (the AP certificate's CN, `P` + two letters + six digits) of each AP, e.g. `{ c2: 'POP000101' }`. */
  readonly seats: Readonly<Record<string, string>>;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
}

const DAY_MS = 86_400_000;
/** Certificates start an hour in the past so two hosts whose clocks differ a little both accept them. */
const BACKDATE_MS = 3_600_000;
const CA_DAYS = 3650;
/** OpenPeppol AP certificates are issued for about two years (POP000306 of G3: 2025-11 – 2027-10). */
const AP_DAYS = 730;
const CRL_DAYS = 30;
/** The seat id form of peppol/as4-profile.ts `SEAT_ID` (pki sits below peppol/ and cannot import it). */
const SEAT_ID = /^P[A-Z]{2}[0-9]{6}$/;

/**
 * The Peppol AP certificates of a dev PKI (`qerds pki init --peppol-seat c2=POP000101`), issued by a dev stand-in
 * of the OpenPeppol "PEPPOL ACCESS POINT TEST CA - G3" (`layout.peppolApCa`, created when missing, with an empty
 * CRL), one per AP, in the profile of the test network's AP certificates at hand (phase4's POP000306 of G3,
 * Governikus' POP000260 of G2; the OpenPeppol certificate policy itself is not among the stored sources):
 * subject C, O, OU=PEPPOL TEST AP, CN=<seat id>; RSA 2048; basicConstraints CA:FALSE, keyUsage digitalSignature +
 * keyEncipherment + dataEncipherment and extendedKeyUsage clientAuth, all critical.
 *
 * The certificate is the AP's AS4 identity only: written as its AS4 signing pair (`as4Signing`, what
 * `as4.signingCert` defaults to) and as its AS4 encryption pair (`encCert`; a Peppol SMP publishes one certificate,
 * which peers sign-check and encrypt for). The e-seal (the QSealC that seals evidence) stays the one of the dev PKI:
 * an AP certificate with a TLS-only EKU is no e-seal (pki/certificate-roles.ts). An AP whose certificate already
 * has that seat id and issuer keeps it. Returns the files written. DEV/TEST ONLY.
 */
export async function issueDevPeppolApCertificates(
  layout: DevPkiLayout,
  seats: Readonly<Record<string, string>>,
  options: { readonly clock?: Clock } = {},
): Promise<string[]> {
  for (const [ap, seat] of Object.entries(seats))
    if (!SEAT_ID.test(seat))
      throw new QerdsError(
        'PKI_BAD_NAME',
        `Peppol seat id of ${ap} must be P + two letters + six digits (POP000101), not ${JSON.stringify(seat)}`,
      );
  const now = (options.clock ?? systemClock).now();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const written: string[] = [];
  const files = layout.peppolApCa;
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    const key = await generateRsaKey(2048);
    const cert = await issueRootCa(
      key.keys,
      [
        { C: ['JP'] },
        { O: ['qerds-ap DEV ONLY'] },
        { OU: ['FOR TEST ONLY'] },
        { CN: ['qerds-ap DEV ONLY PEPPOL ACCESS POINT TEST CA - G3'] },
      ],
      notBefore,
      new Date(now.getTime() + CA_DAYS * DAY_MS),
    );
    const crl = await issueCrl(
      { cert, signingKey: key.keys.privateKey },
      {
        crlNumber: 1n,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + CRL_DAYS * DAY_MS),
        entries: [],
      },
    );
    write(files.cert, cert.toString('pem') + '\n');
    write(files.key, key.pkcs8Pem, true);
    write(files.crl, crlPem(crl));
    written.push(files.cert, files.key, files.crl);
  }
  const ca = {
    cert: new x509.X509Certificate(readFileSync(files.cert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(files.key, 'utf8')),
  };
  for (const [ap, seat] of Object.entries(seats)) {
    const as4 = layout.as4Signing(ap);
    const enc = layout.ap(ap);
    if (isCurrentApCertificate(as4.cert, seat, ca.cert) && existsSync(as4.key)) continue;
    const key = await generateRsaKey(2048);
    const cert = await issueLeaf(ca, key.keys.publicKey, {
      subject: [
        { C: ['JP'] },
        { O: [`qerds-ap DEV ONLY Peppol AP ${ap}`] },
        { OU: ['PEPPOL TEST AP'] },
        { CN: [seat] },
      ],
      notBefore,
      notAfter: new Date(now.getTime() + AP_DAYS * DAY_MS),
      keyUsage:
        x509.KeyUsageFlags.digitalSignature |
        x509.KeyUsageFlags.keyEncipherment |
        x509.KeyUsageFlags.dataEncipherment,
      extendedKeyUsage: { usages: [CLIENT_AUTH_EKU], critical: true },
    });
    for (const [path, data, secret] of [
      [as4.cert, cert.toString('pem') + '\n', false],
      [as4.key, key.pkcs8Pem, true],
      [enc.encCert, cert.toString('pem') + '\n', false],
      [enc.encKey, key.pkcs8Pem, true],
    ] as const) {
      write(path, data, secret);
      written.push(path);
    }
  }
  return written;
}

/** Whether `file` holds an AP certificate with CN `seat` issued by `ca`. */
function isCurrentApCertificate(file: string, seat: string, ca: x509.X509Certificate): boolean {
  if (!existsSync(file)) return false;
  const cert = new x509.X509Certificate(readFileSync(file, 'utf8'));
  return cert.issuer === ca.subject && cert.subjectName.getField('CN')[0] === seat;
}

function write(path: string, data: string, secret = false): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data, { mode: secret ? 0o600 : 0o644 });
}

/**
 * A Peppol dev PKI in `dir` built from `from` (tests, `qerds demo --profile peppol`): the CA, CRL, TSA, trusted list
 * and per AP the e-seal and TLS files of `from`, copied, then the dev Peppol AP CA and one AP certificate per seat
 * (issueDevPeppolApCertificates). DEV/TEST ONLY.
 */
export async function createDevPeppolPki(options: DevPeppolPkiOptions): Promise<DevPkiLayout> {
  const to = devPkiLayout(options.dir);
  const from = options.from;
  const copy = (src: string, dest: string) => {
    if (!existsSync(src)) return;
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(src, dest);
  };
  for (const [src, dest] of [
    [from.caCert, to.caCert],
    [from.caKey, to.caKey],
    [from.caCrl, to.caCrl],
    [from.tsaCert, to.tsaCert],
    [from.tsaKey, to.tsaKey],
    [from.tlSignerCert, to.tlSignerCert],
    [from.tlSignerKey, to.tlSignerKey],
    [from.trustList, to.trustList],
  ] as const) {
    copy(src, dest);
  }
  for (const ap of Object.keys(options.seats)) {
    const [src, dest] = [from.ap(ap), to.ap(ap)];
    for (const file of ['sealCert', 'sealKey', 'sealP12', 'tlsCert', 'tlsKey'] as const)
      copy(src[file], dest[file]);
  }
  await issueDevPeppolApCertificates(to, options.seats, options.clock ? { clock: options.clock } : {});
  return to;
}
