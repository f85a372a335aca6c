import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isIso3166Alpha2 } from './country-codes.js';
import { SEAT_ID } from './as4-profile.js';

/**
 * The Peppol PKI as an access point needs it: which CA certificates a peer AP's certificate must chain to.
 *
 * The anchors are the OpenPeppol **Access Point CAs** (test or production, generation G2 of 2018–2028 and G3 of
 * 2025–2035), not the Peppol roots: the roots also issue the SMP CA, and an SMP certificate must never pass
 * for an AP (phase4 checks the issuer against the AP CAs for the same reason). The files sit in
 * `certs/peppol/` (see its README: sources and SHA-256 fingerprints; the roots are kept beside them for
 * `openssl verify` of the AP CAs, not as anchors).
 */
export type PeppolNetwork = 'test' | 'production';
export type PeppolPkiGeneration = 'G2' | 'G3';

export const PEPPOL_PKI_GENERATIONS: readonly PeppolPkiGeneration[] = Object.freeze(['G2', 'G3']);

/** The directory of the anchor files shipped with qerds-ap (`certs/peppol`, from src/ and from dist/ alike). */
export const PEPPOL_CERTS_DIR = fileURLToPath(new URL('../../certs/peppol/', import.meta.url));

/**
 * SHA-256 fingerprints of the AP CA certificates, as found alike in phax/peppol-commons (truststore/2018 and
 * truststore/2025) and OxalisCommunity/Oxalis-AS4 (peppol_trust_g2_and_g3.jks): what the shipped files must be.
 */
export const PEPPOL_AP_CA_FINGERPRINTS: Readonly<
  Record<PeppolNetwork, Readonly<Record<PeppolPkiGeneration, string>>>
> = Object.freeze({
  test: Object.freeze({
    G2: '03:9A:30:FF:CA:41:44:46:80:2A:F0:22:BB:B7:EE:61:4E:98:6A:12:B9:2E:95:2C:B4:92:C8:EF:62:C9:62:E6',
    G3: 'D2:44:5A:0F:11:5E:E6:4C:C1:41:A8:49:FE:14:29:27:FE:57:01:B7:D9:B5:8D:3E:6F:53:99:31:62:11:5C:C0',
  }),
  production: Object.freeze({
    G2: 'FB:64:6E:15:1D:72:85:E7:6C:F8:92:66:C1:AB:29:54:DC:2E:55:D9:C2:BC:7C:C3:AC:80:03:E1:58:F0:5D:CD',
    G3: 'B6:5E:37:5A:58:26:AD:A1:65:17:B2:AA:8A:88:1B:6F:CA:FF:5E:48:E7:55:9B:9E:96:BB:A5:C6:49:21:F9:00',
  }),
});

/**
 * SHA-256 fingerprints of the SMP CA certificates (phax/peppol-commons truststore/2018 smp-*-truststore.jks and
 * truststore/2025 smp-*-truststore.p12; G2 also as in phase4's complete-truststore.jks): the anchors an SMP
 * response's signer must chain to (`directory.smp.trust`), never an AP's.
 */
export const PEPPOL_SMP_CA_FINGERPRINTS: Readonly<
  Record<PeppolNetwork, Readonly<Record<PeppolPkiGeneration, string>>>
> = Object.freeze({
  test: Object.freeze({
    G2: '5F:C0:B1:29:BB:BD:9D:45:12:4F:9B:59:B2:B2:D3:2E:EB:B9:29:28:37:83:BF:6F:01:1C:4A:FD:EF:2D:D8:2C',
    G3: 'EB:78:DA:BB:62:2B:BC:70:15:92:F0:85:BC:27:AB:81:7F:E1:C0:D4:75:3A:E8:29:68:2E:81:27:B3:B0:0C:E7',
  }),
  production: Object.freeze({
    G2: '52:89:5F:D6:36:65:2C:19:4A:CD:5C:4D:B8:28:A4:C9:04:16:B5:4E:AA:5B:1D:3F:3C:66:C6:7C:8E:65:D8:47',
    G3: 'D9:E1:74:67:C6:9E:51:FC:4F:5C:52:63:54:2F:C6:8D:2A:BB:A5:DF:AA:E6:2E:87:FB:D6:82:9F:1D:E6:21:C4',
  }),
});

export interface PeppolAnchorSetOptions {
  readonly network: PeppolNetwork;
  /** Generations accepted; both while G2 certificates are still in use. @defaultValue ['G2', 'G3'] */
  readonly generations?: readonly PeppolPkiGeneration[];
  /**
   * Directory laid out like `certs/peppol` (`ap-test/peppol-ap-test-ca-g2.pem`, `ap-production/peppol-ap-ca-g3.pem`…):
   * a stand-in PKI for tests, or an operator's copy. @defaultValue PEPPOL_CERTS_DIR
   */
  readonly dir?: string;
}

/** The file of one AP CA certificate in a `certs/peppol`-shaped directory. */
export function peppolApCaFile(dir: string, network: PeppolNetwork, generation: PeppolPkiGeneration): string {
  const g = generation.toLowerCase();
  return network === 'test'
    ? join(dir, 'ap-test', `peppol-ap-test-ca-${g}.pem`)
    : join(dir, 'ap-production', `peppol-ap-ca-${g}.pem`);
}

/** The file of one SMP CA certificate in a `certs/peppol`-shaped directory. */
export function peppolSmpCaFile(
  dir: string,
  network: PeppolNetwork,
  generation: PeppolPkiGeneration,
): string {
  const g = generation.toLowerCase();
  return network === 'test'
    ? join(dir, 'smp-test', `peppol-smp-test-ca-${g}.pem`)
    : join(dir, 'smp-production', `peppol-smp-ca-${g}.pem`);
}

/** The SMP CA files of a Peppol network: the anchors of SMP response signers (`directory.smp.trust`). */
export function peppolSmpAnchorFiles(options: PeppolAnchorSetOptions): string[] {
  const generations = options.generations ?? PEPPOL_PKI_GENERATIONS;
  return [...new Set(generations)].map((g) =>
    peppolSmpCaFile(options.dir ?? PEPPOL_CERTS_DIR, options.network, g),
  );
}

/** The anchor files of a Peppol network: what `pki.peppolAnchors` adds to the trust files. */
export function peppolApAnchorFiles(options: PeppolAnchorSetOptions): string[] {
  const generations = options.generations ?? PEPPOL_PKI_GENERATIONS;
  return [...new Set(generations)].map((g) =>
    peppolApCaFile(options.dir ?? PEPPOL_CERTS_DIR, options.network, g),
  );
}

/** One way a certificate departs from the Peppol AP certificate profile. */
export interface PeppolCertificateFinding {
  readonly code: 'PEPPOL_AP_CERT_PROFILE';
  readonly message: string;
}

/** `C=AT\nO=…\nOU=…\nCN=…` (X509Certificate#subject) → attribute → values. */
function nameAttributes(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

/**
 * The OU of an AP certificate on each network, as the certificates at hand show it: `PEPPOL TEST AP` (phase4's and
 * Governikus' POP000306 / POP000260, test G2 and G3), `PEPPOL PRODUCTION AP` (NetEDI's PNO000070 and eConnect's
 * PNL000052, production G2, published in the signed SMP answers of test/fixtures/smp; their SMP certificates carry
 * `PEPPOL PRODUCTION SMP`). No production G3 AP certificate was at hand: that G3 kept the production OU is inferred
 * from G3 keeping the test one, not seen.
 */
export const PEPPOL_AP_OU: Readonly<Record<PeppolNetwork, string>> = Object.freeze({
  test: 'PEPPOL TEST AP',
  production: 'PEPPOL PRODUCTION AP',
});

/**
 * The Peppol AP certificate profile as the certificates of both networks show it: subject `CN=<seat id>` (`P` + two
 * letters + six digits), the OU of its network (`PEPPOL_AP_OU`), `O` the provider, `C` its country; an end-entity
 * certificate. The OpenPeppol certificate policy itself is not among the stored sources. Key usages (pki `checkCertificateRole` 'as4-signer' with
 * TLS EKUs allowed: Peppol AP certificates carry clientAuth only), chaining to the AP CA, validity and revocation
 * are checked elsewhere (access-point/peppol-peer-check.ts).
 */
export function peppolApCertificateFindings(
  cert: X509Certificate,
  network: PeppolNetwork,
): PeppolCertificateFinding[] {
  const out: PeppolCertificateFinding[] = [];
  const bad = (message: string) => out.push({ code: 'PEPPOL_AP_CERT_PROFILE', message });
  const subject = nameAttributes(cert.subject);
  const cn = subject.get('CN') ?? [];
  if (cn.length !== 1 || !SEAT_ID.test(cn[0]!))
    bad(`subject CN ${cn.length ? `"${cn.join('", "')}"` : 'absent'} is not one Peppol seat id (POP000000)`);
  if ((subject.get('O') ?? []).length !== 1) bad('subject O (the service provider) must appear once');
  const c = subject.get('C') ?? [];
  if (c.length !== 1 || !isIso3166Alpha2(c[0]!))
    bad(`subject C ${c.length ? `"${c.join('", "')}"` : 'absent'} is not one ISO 3166-1 alpha-2 country`);
  const ou = subject.get('OU') ?? [];
  if (!ou.includes(PEPPOL_AP_OU[network]))
    bad(
      `subject OU ${ou.length ? `"${ou.join('", "')}"` : 'absent'} lacks ${PEPPOL_AP_OU[network]}, which the ${network} network's AP certificates carry`,
    );
  if (cert.ca) bad('a CA certificate is not an AP certificate');
  return out;
}
