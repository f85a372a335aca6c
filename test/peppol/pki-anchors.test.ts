import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PEPPOL_AP_CA_FINGERPRINTS,
  PEPPOL_CERTS_DIR,
  PEPPOL_SMP_CA_FINGERPRINTS,
  peppolApAnchorFiles,
  peppolApCaFile,
  peppolApCertificateFindings,
  PEPPOL_AP_OU,
  peppolSmpAnchorFiles,
  peppolSmpCaFile,
  type PeppolNetwork,
  type PeppolPkiGeneration,
} from '../../src/peppol/index.js';
import { loadTrustStore } from '../../src/pki/index.js';

const cert = (file: string) => new X509Certificate(readFileSync(file));
const as4Foreign = join(import.meta.dirname, '..', 'fixtures', 'as4', 'foreign', 'phase4');
const peppolForeign = join(import.meta.dirname, '..', 'fixtures', 'peppol', 'foreign', 'phase4');
const networks: readonly PeppolNetwork[] = ['test', 'production'];
const generations: readonly PeppolPkiGeneration[] = ['G2', 'G3'];

describe('the Peppol AP CA anchor sets shipped in certs/peppol', () => {
  it('each file is the AP CA its name says, with the fingerprint pinned in the code', () => {
    for (const network of networks) {
      for (const g of generations) {
        const ca = cert(peppolApCaFile(PEPPOL_CERTS_DIR, network, g));
        expect(ca.fingerprint256, `${network} ${g}`).toBe(PEPPOL_AP_CA_FINGERPRINTS[network][g]);
        expect(ca.ca).toBe(true);
        expect(ca.subject).toContain(`CN=PEPPOL ACCESS POINT ${network === 'test' ? 'TEST ' : ''}CA - ${g}`);
      }
    }
  });

  it('the SMP CA files too, each with its pinned fingerprint; SMP and AP anchor sets share no certificate', () => {
    for (const network of networks) {
      for (const g of generations) {
        const ca = cert(peppolSmpCaFile(PEPPOL_CERTS_DIR, network, g));
        expect(ca.fingerprint256, `${network} ${g}`).toBe(PEPPOL_SMP_CA_FINGERPRINTS[network][g]);
        expect(ca.subject).toContain(
          `CN=PEPPOL SERVICE METADATA PUBLISHER ${network === 'test' ? 'TEST ' : ''}CA - ${g}`,
        );
        const root = join(
          PEPPOL_CERTS_DIR,
          'roots',
          `peppol-root-${network === 'test' ? 'test-' : ''}ca-${g.toLowerCase()}.pem`,
        );
        expect(
          spawnSync('openssl', ['verify', '-CAfile', root, peppolSmpCaFile(PEPPOL_CERTS_DIR, network, g)], {
            encoding: 'utf8',
          }).status,
        ).toBe(0);
      }
      const ap = new Set(peppolApAnchorFiles({ network }).map((f) => cert(f).fingerprint256));
      expect(
        peppolSmpAnchorFiles({ network })
          .map((f) => cert(f).fingerprint256)
          .filter((p) => ap.has(p)),
      ).toEqual([]);
    }
  });

  it('openssl verifies each AP CA under the Peppol root of its network and generation, and not under the other network', () => {
    for (const network of networks) {
      for (const g of generations) {
        const root = join(
          PEPPOL_CERTS_DIR,
          'roots',
          `peppol-root-${network === 'test' ? 'test-' : ''}ca-${g.toLowerCase()}.pem`,
        );
        const other = join(
          PEPPOL_CERTS_DIR,
          'roots',
          `peppol-root-${network === 'test' ? '' : 'test-'}ca-${g.toLowerCase()}.pem`,
        );
        const ca = peppolApCaFile(PEPPOL_CERTS_DIR, network, g);
        const ok = spawnSync('openssl', ['verify', '-CAfile', root, ca], { encoding: 'utf8' });
        expect(ok.status, ok.stdout + ok.stderr).toBe(0);
        expect(spawnSync('openssl', ['verify', '-CAfile', other, ca], { encoding: 'utf8' }).status).not.toBe(
          0,
        );
      }
    }
  });

  it('peppolApAnchorFiles selects by network and generation; the default is both generations', () => {
    expect(peppolApAnchorFiles({ network: 'test' }).map((f) => cert(f).fingerprint256)).toEqual([
      PEPPOL_AP_CA_FINGERPRINTS.test.G2,
      PEPPOL_AP_CA_FINGERPRINTS.test.G3,
    ]);
    expect(
      peppolApAnchorFiles({ network: 'production', generations: ['G3'] }).map((f) => cert(f).fingerprint256),
    ).toEqual([PEPPOL_AP_CA_FINGERPRINTS.production.G3]);
    expect(peppolApAnchorFiles({ network: 'test', generations: ['G3'], dir: '/elsewhere' })).toEqual([
      '/elsewhere/ap-test/peppol-ap-test-ca-g3.pem',
    ]);
  });

  it('real Peppol test AP certificates (phase4, Governikus; G2 and G3) chain to the test anchors of their generation only, never to production', () => {
    const cases = [
      { file: join(as4Foreign, 'helger-pop000306-2023.cert.pem'), g: 'G2', at: '2022-03-07T17:45:00Z' },
      { file: join(as4Foreign, 'governikus-pop000260.cert.pem'), g: 'G2', at: '2022-03-07T17:45:00Z' },
      { file: join(as4Foreign, 'helger-pop000306-2027.cert.pem'), g: 'G3', at: '2026-01-29T15:40:00Z' },
    ] as const;
    for (const c of cases) {
      const at = new Date(c.at);
      const leaf = cert(c.file);
      const own = loadTrustStore(peppolApAnchorFiles({ network: 'test', generations: [c.g] })).validate(
        leaf,
        { at },
      );
      expect(own.valid, `${c.file}: ${JSON.stringify(own.findings)}`).toBe(true);
      // No CRL of the Peppol CAs is stored here: the status is reported as not checked, never as good.
      expect(own.findings.map((f) => f.code)).toContain('PKI_REVOCATION_NOT_CHECKED');
      const otherGeneration = loadTrustStore(
        peppolApAnchorFiles({ network: 'test', generations: [c.g === 'G2' ? 'G3' : 'G2'] }),
      ).validate(leaf, { at });
      expect(otherGeneration.findings.map((f) => f.code)).toEqual(['PKI_PATH_NOT_FOUND']);
      const production = loadTrustStore(peppolApAnchorFiles({ network: 'production' })).validate(leaf, {
        at,
      });
      expect(production.findings.map((f) => f.code)).toEqual(['PKI_PATH_NOT_FOUND']);
    }
  });

  it("phase4's expired test AP certificate (POP000306, 2019–2021): valid in 2020, expired now", () => {
    const leaf = cert(join(peppolForeign, 'pop000306-2021-expired.cert.pem'));
    const trust = loadTrustStore(peppolApAnchorFiles({ network: 'test' }));
    expect(trust.validate(leaf, { at: new Date('2020-06-01T00:00:00Z') }).valid).toBe(true);
    const now = trust.validate(leaf, { at: new Date('2026-12-01T00:00:00Z') });
    expect(now.valid).toBe(false);
    expect(now.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'PKI_CERT_EXPIRED',
    ]);
  });
});

describe('the Peppol AP certificate profile', () => {
  it('the real test AP certificates fit it on the test network', () => {
    for (const file of [
      'helger-pop000306-2023.cert.pem',
      'governikus-pop000260.cert.pem',
      'helger-pop000306-2027.cert.pem',
    ]) {
      expect(peppolApCertificateFindings(cert(join(as4Foreign, file)), 'test'), file).toEqual([]);
    }
  });

  it('production: the real production AP certificates published in signed SMP answers (PNO000070, PNL000052; G2) fit it, carry OU PEPPOL PRODUCTION AP and chain to the production anchors; their SMP certificates do not fit', () => {
    const smpFixtures = join(import.meta.dirname, '..', 'fixtures', 'smp');
    /** The certificates an SMP answer holds: the endpoint's (smp:Certificate) and the signer's (ds:X509Certificate). */
    const certificatesIn = (file: string, tag: string) =>
      [
        ...readFileSync(join(smpFixtures, file), 'utf8').matchAll(
          new RegExp(`<(?:\\w+:)?${tag}>([^<]+)<`, 'g'),
        ),
      ].map((m) => new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
    const files = ['signed-service-metadata2.xml', 'signed-service-metadata3-c14n-inclusive.xml'];
    const aps = files.flatMap((f) => certificatesIn(f, 'Certificate'));
    const smps = files.flatMap((f) => certificatesIn(f, 'X509Certificate'));
    expect(aps.map((c) => /CN=(\w+)/.exec(c.subject)?.[1]).sort()).toEqual([
      'PNL000052',
      'PNL000052',
      'PNO000070',
    ]);
    const production = loadTrustStore(peppolApAnchorFiles({ network: 'production', generations: ['G2'] }));
    for (const ap of aps) {
      expect(ap.subject).toContain(`OU=${PEPPOL_AP_OU.production}`);
      expect(peppolApCertificateFindings(ap, 'production')).toEqual([]);
      expect(peppolApCertificateFindings(ap, 'test').map((f) => f.message)).toEqual([
        'subject OU "PEPPOL PRODUCTION AP" lacks PEPPOL TEST AP, which the test network\'s AP certificates carry',
      ]);
      expect(production.validate(ap, { at: new Date('2019-06-01T00:00:00Z') }).valid).toBe(true);
    }
    expect(smps).toHaveLength(2);
    for (const smp of smps)
      expect(peppolApCertificateFindings(smp, 'production').map((f) => f.message)).toEqual([
        'subject OU "PEPPOL PRODUCTION SMP" lacks PEPPOL PRODUCTION AP, which the production network\'s AP certificates carry',
      ]);
  });

  it('a CA certificate, or a certificate whose CN is no seat id, does not', () => {
    const ca = cert(peppolApCaFile(PEPPOL_CERTS_DIR, 'test', 'G3'));
    const messages = peppolApCertificateFindings(ca, 'test').map((f) => f.message);
    expect(messages).toEqual([
      'subject CN "PEPPOL ACCESS POINT TEST CA - G3" is not one Peppol seat id (POP000000)',
      'subject OU "FOR TEST ONLY" lacks PEPPOL TEST AP, which the test network\'s AP certificates carry',
      'a CA certificate is not an AP certificate',
    ]);
  });
});
