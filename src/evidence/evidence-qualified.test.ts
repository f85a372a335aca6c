import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../core/ids.js';
import { loadSigningIdentity, loadTrustStore, type SigningIdentity, type TrustStore } from '../pki/index.js';
import { buildTrustList, loadTrustList, type TrustListServiceInput } from '../trust-list/index.js';
import { evidenceSamples } from '../../test/fixtures/evidence/load-samples.js';
import { opensslTsa } from '../../test/helpers/openssl-tsa.js';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { formatReport, issueEvidence, reportToJson, verifyEvidence, xadesSealer } from './index.js';

/** A trusted list signer made by openssl: self-signed, EKU id-tsl-kp-tslSigning, trusted directly. */
function opensslListSigner(): { identity: SigningIdentity; cert: X509Certificate } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-tl-signer-'));
  const [key, crt] = [join(dir, 'tl.key.pem'), join(dir, 'tl.crt.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '30',
      '-subj',
      '/C=JP/O=Test/CN=Test TL signer',
      '-addext',
      'keyUsage=critical,digitalSignature,nonRepudiation',
      '-addext',
      'extendedKeyUsage=0.4.0.2231.3.0',
    ],
    { stdio: 'pipe' },
  );
  const identity = loadSigningIdentity(crt, key);
  return { identity, cert: identity.certificate };
}

describe('evidence verification against a trusted list', () => {
  const pki = sharedTestPki();
  let trust: TrustStore;
  let sealedXml: string;
  let signer: ReturnType<typeof opensslListSigner>;
  const cert = (file: string) => new X509Certificate(readFileSync(file));
  const list = async (services: TrustListServiceInput[]) =>
    loadTrustList(
      await buildTrustList({
        schemeOperator: 'Test operator',
        services,
        signer: signer.identity,
        issued: new Date(),
        nextUpdate: new Date(Date.now() + 86_400_000),
      }),
      { signerAnchors: [signer.cert] },
    );

  beforeAll(async () => {
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    signer = opensslListSigner();
    const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const sealer = xadesSealer({
      identity,
      tsa: opensslTsa(pki),
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    sealedXml = (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml;
  });

  it('says the seal (QERDS) and the TSA (QTST) are qualified when the list grants both', async () => {
    const since = new Date('2020-01-01T00:00:00Z');
    const tl = await list([
      {
        type: 'QTST',
        name: 'Shared TSA',
        certificate: cert(pki.tsaCert),
        status: 'granted',
        statusStartingTime: since,
      },
      {
        type: 'QERDS',
        name: 'Shared AP c2',
        certificate: cert(pki.ap('c2').sealCert),
        status: 'granted',
        statusStartingTime: since,
      },
    ]);
    const report = await verifyEvidence(sealedXml, { trust, trustList: tl });
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.qualified?.seal).toMatchObject({
      qualified: true,
      serviceType: 'QERDS',
      status: 'granted',
    });
    expect(report.qualified?.tsa).toMatchObject({ qualified: true, serviceType: 'QTST', status: 'granted' });
    expect(report.qualified?.at.getTime()).toBe(report.seal?.timestamp?.genTime.getTime());
    expect(formatReport(report)).toContain(
      'qualified:  seal QUALIFIED (QERDS "Shared AP c2", granted); TSA QUALIFIED (QTST "Shared TSA", granted)',
    );
    expect(JSON.parse(reportToJson(report)).qualified.tsa.qualified).toBe(true);
  });

  it('says neither is qualified when the TSA was withdrawn before the timestamp and the AP is not listed', async () => {
    const tl = await list([
      {
        type: 'QTST',
        name: 'Shared TSA',
        certificate: cert(pki.tsaCert),
        status: 'withdrawn',
        statusStartingTime: new Date(Date.now() - 3_600_000),
        history: [{ status: 'granted', statusStartingTime: new Date('2020-01-01T00:00:00Z') }],
      },
      {
        type: 'QERDS',
        name: 'Shared AP c3',
        certificate: cert(pki.ap('c3').sealCert),
        status: 'granted',
        statusStartingTime: new Date('2020-01-01T00:00:00Z'),
      },
    ]);
    const report = await verifyEvidence(sealedXml, { trust, trustList: tl });
    // Qualification is reported, not enforced: the seal itself still verifies.
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.qualified?.tsa).toMatchObject({ qualified: false, status: 'withdrawn' });
    expect(report.qualified?.seal).toEqual({ qualified: false });
    expect(formatReport(report)).toContain(
      'qualified:  seal NOT qualified (not in the list); TSA NOT qualified (QTST',
    );
    expect((await verifyEvidence(sealedXml, { trust })).qualified).toBeUndefined();
  });
});
