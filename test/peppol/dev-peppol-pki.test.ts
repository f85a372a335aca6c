import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePeppolApCertificate } from '../../src/access-point/peppol-peer-check.js';
import { peppolApAnchorFiles, peppolApCertificateFindings } from '../../src/peppol/index.js';
import { checkCertificateRole, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { certificateFacts } from '../../src/pki/certificate-facts.js';
import { CLIENT_AUTH_EKU } from '../../src/pki/extended-key-usages.js';
import { x509 } from '../../src/pki/x509.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * `qerds pki init --peppol-seat`: a Peppol AP certificate per AP, from a dev Peppol AP CA kept apart from the dev CA,
 * as the AS4 signing and encryption identity; the e-seal (the QSealC sealing the evidence) is left as it was.
 */
describe('qerds pki init --peppol-seat', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-dev-peppol-pki-'));
  let pki: DevPkiLayout;
  let sealBefore: string;
  let first: Awaited<ReturnType<typeof qerdsInProcess>>;
  beforeAll(async () => {
    // A complete dev PKI (copied): init adds only the Peppol part to it.
    pki = await devTestPki(join(work, 'pki'));
    sealBefore = readFileSync(pki.ap('c2').sealCert, 'utf8');
    first = await qerdsInProcess([
      'pki',
      'init',
      '--dir',
      pki.dir,
      '--peppol-seat',
      'c2=POP000101',
      'c3=POP000102',
    ]);
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('issues each AP a certificate in the Peppol AP profile (CN seat id, OU PEPPOL TEST AP, clientAuth) under the dev Peppol AP CA', async () => {
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`dev PKI in ${pki.dir} completed with:`);
    expect(first.stdout).toContain(`dir: ${pki.peppolApCa.anchorsDir}`);
    const cert = new X509Certificate(readFileSync(pki.as4Signing('c2').cert));
    expect(cert.subject.split('\n')).toEqual([
      'C=JP',
      'O=qerds-ap DEV ONLY Peppol AP c2',
      'OU=PEPPOL TEST AP',
      'CN=POP000101',
    ]);
    expect(peppolApCertificateFindings(cert, 'test')).toEqual([]);
    const facts = certificateFacts(cert);
    expect(facts.extendedKeyUsage).toEqual({ usages: [CLIENT_AUTH_EKU], critical: true });
    expect(facts.keyUsage).toBe(
      x509.KeyUsageFlags.digitalSignature |
        x509.KeyUsageFlags.keyEncipherment |
        x509.KeyUsageFlags.dataEncipherment,
    );
    // The AS4 encryption certificate is the same AP certificate (what a Peppol SMP publishes).
    expect(readFileSync(pki.ap('c2').encCert, 'utf8')).toBe(readFileSync(pki.as4Signing('c2').cert, 'utf8'));
    // Judged as a Peppol AP by the network's anchors, as pki.peppolAnchors selects them from anchorsDir.
    const anchors = peppolApAnchorFiles({
      network: 'test',
      generations: ['G3'],
      dir: pki.peppolApCa.anchorsDir,
    });
    expect(anchors).toEqual([pki.peppolApCa.cert]);
    await expect(
      requirePeppolApCertificate(cert, {
        network: 'test',
        trust: loadTrustStore([...anchors, pki.peppolApCa.crl]),
        at: new Date(),
      }),
    ).resolves.toBeUndefined();
    // …and never by the QERDS trust (the dev CA of the e-seals).
    expect(loadTrustStore([pki.caCert, pki.caCrl]).validate(cert).valid).toBe(false);
  });

  it('keeps the e-seal apart: unchanged, under the dev CA, and the AP certificate could not seal (TLS-only EKU)', () => {
    expect(readFileSync(pki.ap('c2').sealCert, 'utf8')).toBe(sealBefore);
    const cert = new X509Certificate(readFileSync(pki.as4Signing('c2').cert));
    expect(checkCertificateRole(cert, 'e-seal').map((f) => f.code)).toEqual(['PKI_ROLE_EXTENDED_KEY_USAGE']);
    // An AS4 signer only where TLS-EKU signers are taken (the Peppol profile).
    expect(checkCertificateRole(cert, 'as4-signer').map((f) => f.code)).toEqual([
      'PKI_ROLE_EXTENDED_KEY_USAGE',
    ]);
    expect(checkCertificateRole(cert, 'as4-signer', { tlsEkuSigners: true })).toEqual([]);
  });

  it('is idempotent, and refuses a seat id that is none', async () => {
    const before = readFileSync(pki.as4Signing('c3').cert, 'utf8');
    const again = await qerdsInProcess(['pki', 'init', '--dir', pki.dir, '--peppol-seat', 'c3=POP000102']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing changed');
    expect(readFileSync(pki.as4Signing('c3').cert, 'utf8')).toBe(before);
    const bad = await qerdsInProcess(['pki', 'init', '--dir', pki.dir, '--peppol-seat', 'c3=AP-3']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('PKI_BAD_NAME');
  });
});
