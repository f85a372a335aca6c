import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { initDevPki, loadSigningIdentity, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

const curveOf = (file: string) =>
  new X509Certificate(readFileSync(file)).publicKey.asymmetricKeyDetails?.namedCurve;
const typeOf = (file: string) => new X509Certificate(readFileSync(file)).publicKey.asymmetricKeyType;

/** `qerds pki init --key ec`: P-256 signing identities under the RSA CA; encryption stays RSA. */
describe('dev PKI with EC signing keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-dev-pki-ec-'));
  let layout: DevPkiLayout;
  beforeAll(async () => {
    layout = (await initDevPki({ dir: join(dir, 'pki'), aps: ['c2'], recipients: ['alice'], key: 'ec' }))
      .layout;
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues P-256 e-seal, TSA, TLS and list signer certificates, RSA encryption ones, all chaining to the CA (openssl verify)', () => {
    const ap = layout.ap('c2');
    for (const cert of [ap.sealCert, layout.tsaCert, ap.tlsCert, layout.tlSignerCert])
      expect(curveOf(cert), cert).toBe('prime256v1');
    for (const cert of [ap.encCert, layout.recipient('alice').cert, layout.caCert])
      expect(typeOf(cert), cert).toBe('rsa');
    expect(createPrivateKey(readFileSync(ap.sealKey)).asymmetricKeyType).toBe('ec');
    const verify = spawnSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        layout.caCert,
        '-crl_check',
        '-CRLfile',
        layout.caCrl,
        ap.sealCert,
        layout.tsaCert,
        ap.tlsCert,
      ],
      { encoding: 'utf8' },
    );
    expect(verify.status, verify.stderr).toBe(0);
  });

  it("writes the e-seal's PKCS#12 with the EC key and the chain, opened by openssl with the dev password", () => {
    const ap = layout.ap('c2');
    const opened = spawnSync(
      'openssl',
      ['pkcs12', '-in', ap.sealP12, '-passin', 'pass:qerds-dev', '-nodes'],
      { encoding: 'utf8' },
    );
    expect(opened.status, opened.stderr).toBe(0);
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(opened.stdout)?.[0];
    expect(createPrivateKey(keyPem!).export({ format: 'jwk' })).toEqual(
      createPrivateKey(readFileSync(ap.sealKey)).export({ format: 'jwk' }),
    );
    expect(opened.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });

  it('an evidence sealed with the EC e-seal and timestamped by the EC TSA verifies TOTAL-PASSED; altered, it fails', async () => {
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
    );
    const sealer = xadesSealer({
      identity: loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey),
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    const { xml } = await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer);
    expect(xml).toContain('xmldsig-more#ecdsa-sha256');
    const trust = loadTrustStore([layout.caCert, layout.caCrl]);
    expect((await verifyEvidence(xml, { trust })).indication).toBe('TOTAL-PASSED');
    expect((await verifyEvidence(xml.replace('msg-3f2a', 'msg-3f2b'), { trust })).indication).not.toBe(
      'TOTAL-PASSED',
    );
  });

  it('refuses a key type it does not know', async () => {
    await expect(initDevPki({ dir: join(dir, 'other'), key: 'dsa' as 'ec' })).rejects.toThrow(/rsa or ec/);
  });
});
