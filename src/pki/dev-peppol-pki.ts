import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../core/ports.js';
import { generateRsaKey, importRsaSigningKey, issueLeaf } from './cert-factory.js';
import { devApId, ORGANIZATION_IDENTIFIER_OID } from './dev-ap-id.js';
import { devPkiLayout } from './layout.js';
import type { DevPkiLayout } from './types.js';
import { x509 } from './x509.js';

export interface DevPeppolPkiOptions {
  /** A dev PKI (`qerds pki init`, or the tests' shared one) whose CA issues the Peppol AP certificates. */
  readonly from: DevPkiLayout;
  /** Directory of the Peppol dev PKI (created). */
  readonly dir: string;
  /** Seat id (the AP certificate's CN, `P` + two letters + six digits) of each AP, e.g. `{ c2: 'POP000101' }`. */
  readonly seats: Readonly<Record<string, string>>;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
}

const DAY_MS = 86_400_000;

/**
 * A dev PKI for access points on the Peppol AS4 profile, in the layout of `devPkiLayout`: the CA, CRL, TSA and
 * TLS files of `from`, and per AP one Peppol-like AP certificate (CN = its seat id, RSA 2048, keyUsage
 * digitalSignature + keyEncipherment) written both as its e-seal and as its AS4 encryption certificate: a Peppol AP
 * signs and decrypts AS4 with its one AP certificate. DEV/TEST ONLY. Unlike an OpenPEPPOL AP certificate it carries
 * no TLS extended key usage, because here it also seals the evidence (an e-seal must not be a TLS-only certificate,
 * pki/certificate-roles.ts); keeping a Peppol AP certificate apart from the QSealC needs a second pin per peer.
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
  ] as const) {
    copy(src, dest);
  }
  const ca = {
    cert: new x509.X509Certificate(readFileSync(from.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(from.caKey, 'utf8')),
  };
  const now = (options.clock ?? systemClock).now();
  for (const [ap, seat] of Object.entries(options.seats)) {
    copy(from.ap(ap).tlsCert, to.ap(ap).tlsCert);
    copy(from.ap(ap).tlsKey, to.ap(ap).tlsKey);
    const key = await generateRsaKey(2048);
    const cert = await issueLeaf(ca, key.keys.publicKey, {
      subject: [
        { C: ['JP'] },
        { O: ['qerds-ap DEV ONLY Peppol AP'] },
        { OU: ['PEPPOL TEST AP'] },
        // The certificate also seals the evidence: it names its AP as every dev e-seal does (dev-ap-id.ts).
        { [ORGANIZATION_IDENTIFIER_OID]: [devApId(ap)] },
        { CN: [seat] },
      ],
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + 365 * DAY_MS),
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    });
    const files = to.ap(ap);
    for (const [path, data, secret] of [
      [files.sealCert, cert.toString('pem') + '\n', false],
      [files.sealKey, key.pkcs8Pem, true],
      [files.encCert, cert.toString('pem') + '\n', false],
      [files.encKey, key.pkcs8Pem, true],
    ] as const) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data, { mode: secret ? 0o600 : 0o644 });
    }
  }
  return to;
}
