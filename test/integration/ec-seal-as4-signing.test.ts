import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAs4Security } from '../../src/access-point/as4-security.js';
import { loadConfig } from '../../src/config/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { runDemo } from '../../src/harness/demo.js';
import {
  devApId,
  initDevPki,
  loadSigningIdentity,
  loadTrustStore,
  type DevPkiLayout,
} from '../../src/pki/index.js';
import { devTrustListXml } from '../../src/trust-list/index.js';
import { thrownCode } from '../helpers/thrown-code.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Access points whose e-seals are ECDSA P-256 (`qerds pki init --key ec`): the AS4 P-Modes sign with RSA
 * (eDelivery AS4 1.15), so each AP signs AS4 with the RSA AS4 signing certificate the EC dev PKI issues beside
 * the e-seal, and peers pin both (`apCertificate` for AS4, `apSealCertificate` for the evidence).
 */
describe('two access points with EC e-seals and RSA AS4 signing keys', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-ec-as4-'));
  const pkiDir = join(work, 'pki');
  const outDir = join(work, 'demo-out');
  const lines: string[] = [];
  let layout: DevPkiLayout;
  let invalid = -1;

  beforeAll(async () => {
    // Building an EC dev PKI is what this file is about: the shared dev PKI is RSA.
    layout = (await initDevPki({ dir: pkiDir, key: 'ec', trustList: devTrustListXml })).layout;
    invalid = await runDemo({
      outDir,
      pkiDir,
      invoice: join(root, 'examples/ubl-invoice-jp.xml'),
      timeoutMs: 60_000,
      print: (l) => lines.push(l),
    });
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the EC dev PKI issues each AP an RSA AS4 signing certificate beside its P-256 e-seal', () => {
    for (const ap of ['c2', 'c3']) {
      const seal = new X509Certificate(readFileSync(layout.ap(ap).sealCert));
      const as4 = new X509Certificate(readFileSync(layout.as4Signing(ap).cert));
      expect(seal.publicKey.asymmetricKeyType).toBe('ec');
      expect(as4.publicKey.asymmetricKeyType).toBe('rsa');
      expect(as4.checkIssued(new X509Certificate(readFileSync(layout.caCert)))).toBe(true);
    }
  });

  it('relays a message end to end and returns the whole evidence chain, each ECDSA-sealed and TOTAL-PASSED', async () => {
    expect(invalid, lines.join('\n')).toBe(0);
    const files = readdirSync(join(outDir, 'evidence')).sort();
    // 2-4 were sealed by C3 and accepted by C2 over AS4: carried by C3's RSA AS4 signature, sealed with its EC e-seal.
    expect(files).toEqual([
      '1-SubmissionAcceptance.xml',
      '2-RelayAcceptance.xml',
      '3-ContentConsignment.xml',
      '4-ContentHandover.xml',
    ]);
    const trust = loadTrustStore([layout.caCert, layout.caCrl]);
    for (const file of files) {
      const xml = readFileSync(join(outDir, 'evidence', file), 'utf8');
      expect(xml, file).toContain('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
      const report = await verifyEvidence(xml, { trust });
      expect(report.indication, `${file}: ${JSON.stringify(report.findings)}`).toBe('TOTAL-PASSED');
      const sealer = file === '1-SubmissionAcceptance.xml' ? 'c2' : 'c3';
      expect(report.seal?.signer?.fingerprint256, file).toBe(
        new X509Certificate(readFileSync(layout.ap(sealer).sealCert)).fingerprint256,
      );
    }
  });

  const configOf = (as4: Record<string, string> = {}) =>
    loadConfig({
      env: {},
      overrides: { ap: { id: devApId('c2') }, pki: { dir: pkiDir, apName: 'c2' }, as4 },
    });
  const sealOf = () => loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey);

  it("signs AS4 with the dev PKI's AS4 signing key by default, and knows it as its own", () => {
    const as4 = loadAs4Security(configOf(), sealOf());
    expect(as4.signing.certificate.publicKey.asymmetricKeyType).toBe('rsa');
    expect(as4.peers.ownFingerprints).toEqual([
      new X509Certificate(readFileSync(layout.as4Signing('c2').cert)).fingerprint256,
    ]);
  });

  it('refuses to start when the AS4 signing key is the EC e-seal, and when only one of the pair is set', () => {
    const ap = layout.ap('c2');
    let message = '';
    expect(
      thrownCode(() => {
        try {
          loadAs4Security(configOf({ signingCert: ap.sealCert, signingKey: ap.sealKey }), sealOf());
        } catch (error) {
          message = (error as Error).message;
          throw error;
        }
      }),
    ).toBe('CONFIG_INVALID');
    expect(message).toMatch(/needs a rsa AS4 signing key \(as4\.signingCert\), not ec/);
    expect(thrownCode(() => loadAs4Security(configOf({ signingCert: ap.sealCert }), sealOf()))).toBe(
      'CONFIG_INVALID',
    );
  });

  it('an RSA dev PKI keeps signing AS4 with the e-seal (no AS4 signing files)', async () => {
    const rsaDir = join(work, 'rsa-pki');
    // The RSA PKI is re-made over the EC one with --force: the old CA's AS4 signer must not stay behind.
    await initDevPki({ dir: rsaDir, key: 'ec', aps: ['c2'], recipients: [] });
    await initDevPki({ dir: rsaDir, aps: ['c2'], recipients: [], force: true });
    const config = loadConfig({
      env: {},
      overrides: { ap: { id: devApId('c2') }, pki: { dir: rsaDir, apName: 'c2' } },
    });
    const seal = loadSigningIdentity(join(rsaDir, 'c2', 'seal.crt.pem'), join(rsaDir, 'c2', 'seal.key.pem'));
    expect(loadAs4Security(config, seal).signing).toBe(seal);
  }, 120_000);
});
