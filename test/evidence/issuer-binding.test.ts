import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAccessPoint } from '../../src/access-point.js';
import { checkSealNamesAp } from '../../src/access-point/seal-names-ap.js';
import { loadConfig } from '../../src/config/index.js';
import { isQerdsError, sequentialIdGenerator } from '../../src/core/index.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { generateRsaKey, importRsaSigningKey, issueLeaf } from '../../src/pki/cert-factory.js';
import {
  certificateFacts,
  devApId,
  loadSigningIdentity,
  loadTrustStore,
  x509,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { augmentXmlSeal } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';

const samples = evidenceSamples();
const clock = { now: () => new Date() };
const pki = sharedTestPki();
const withCrl = () => loadTrustStore([pki.caCert, pki.caCrl]);
const tsa = createLocalTsaClient(
  createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
);
const sealer = (identity: SigningIdentity) =>
  xadesSealer({ identity, tsa, clock, idGenerator: sequentialIdGenerator() });
const c2 = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
const errorCodes = (r: { findings: readonly { code: string; severity: string }[] }) =>
  r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

/** An e-seal (digitalSignature + nonRepudiation) of the shared CA whose subject has no organizationIdentifier. */
async function sealWithoutOrganizationIdentifier(): Promise<SigningIdentity> {
  const ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  const key = await generateRsaKey(2048);
  const cert = await issueLeaf(ca, key.keys.publicKey, {
    subject: [{ C: ['JP'] }, { O: ['Shared Dev'] }, { CN: ['seal without organizationIdentifier'] }],
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
  });
  const dir = mkdtempSync(join(tmpdir(), 'qerds-unbound-seal-'));
  writeFileSync(join(dir, 'seal.crt.pem'), cert.toString('pem') + '\n');
  writeFileSync(join(dir, 'seal.key.pem'), key.pkcs8Pem, { mode: 0o600 });
  return loadSigningIdentity(join(dir, 'seal.crt.pem'), join(dir, 'seal.key.pem'));
}

describe("the evidence's issuer and its seal certificate's organizationIdentifier", () => {
  it('the test PKI seals name their AP (organizationIdentifier = devApId)', () => {
    expect(certificateFacts(c2.certificate).organizationIdentifier).toBe(devApId('c2'));
    expect(samples.SubmissionAcceptance.issuer.id).toBe(devApId('c2'));
  });

  it('genuine: C2 evidence sealed by C2 is TOTAL-PASSED', async () => {
    const { xml } = await issueEvidence(samples.SubmissionAcceptance, sealer(c2));
    const report = await verifyEvidence(xml, { trust: withCrl() });
    expect(errorCodes(report)).toEqual([]);
    expect(report).toMatchObject({ indication: 'TOTAL-PASSED', seal: { level: 'B-T' } });
  });

  it("an evidence naming C3 as issuer, sealed by C2's own certificate: the seal is sound (xmlsec1 agrees) but the verdict is TOTAL-FAILED", async () => {
    const { xml } = await issueEvidence(
      { ...samples.SubmissionAcceptance, issuer: { name: 'Example ERDS C3 K.K.', id: devApId('c3') } },
      sealer(c2),
    );
    expect(xmlsecVerify(xml, pki.caCert).ok).toBe(true);
    const report = await verifyEvidence(xml, { trust: withCrl() });
    expect(report).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'SIG_CONSTRAINTS_FAILURE' });
    expect(errorCodes(report)).toEqual(['EVIDENCE_ISSUER_MISMATCH']);
    expect(report.findings.find((f) => f.code === 'EVIDENCE_ISSUER_MISMATCH')?.message).toContain(
      `"${devApId('c2')}"`,
    );
  });

  it('a seal certificate without organizationIdentifier: INDETERMINATE CHAIN_CONSTRAINTS_FAILURE (nothing binds issuer and seal)', async () => {
    const { xml } = await issueEvidence(
      samples.SubmissionAcceptance,
      sealer(await sealWithoutOrganizationIdentifier()),
    );
    const report = await verifyEvidence(xml, { trust: withCrl() });
    expect(errorCodes(report)).toEqual(['EVIDENCE_ISSUER_UNBOUND']);
    expect(report).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' });
  });
});

describe("the seal certificate's revocation status", () => {
  it('no CRL given and none in the evidence: INDETERMINATE TRY_LATER; the CRL given: TOTAL-PASSED; B-LT carrying it: TOTAL-PASSED offline', async () => {
    const { xml } = await issueEvidence(samples.SubmissionAcceptance, sealer(c2));
    const anchorsOnly = loadTrustStore([pki.caCert]);
    const unknown = await verifyEvidence(xml, { trust: anchorsOnly });
    expect(unknown).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
    // The shared TSA is under the same CA: its status is as unknown as the seal's (evidence/tsa-revocation.test.ts).
    expect(errorCodes(unknown)).toEqual(['SIGNER_REVOCATION_UNKNOWN', 'TSA_REVOCATION_UNKNOWN']);
    expect((await verifyEvidence(xml, { trust: withCrl() })).indication).toBe('TOTAL-PASSED');
    const lt = await augmentXmlSeal(xml, { level: 'B-LT', crls: [readFileSync(pki.caCrl)] });
    const offline = await verifyEvidence(lt, { trust: anchorsOnly });
    expect(errorCodes(offline)).toEqual([]);
    expect(offline).toMatchObject({ indication: 'TOTAL-PASSED', seal: { level: 'B-LT' } });
  });
});

describe('start-up: the AP checks that its e-seal names ap.id', () => {
  const log = () => {
    const warnings: string[] = [];
    return { warnings, warn: (_: unknown, message: string) => void warnings.push(message) };
  };

  it('the same id: silent; another id: refused (CONFIG_INVALID naming both); no organizationIdentifier: a warning', async () => {
    const quiet = log();
    checkSealNamesAp(c2.certificate, devApId('c2'), quiet as never);
    expect(quiet.warnings).toEqual([]);
    expect(() => checkSealNamesAp(c2.certificate, devApId('c3'), log() as never)).toThrow(
      /urn:qerds-ap:ap:c3.*urn:qerds-ap:ap:c2/,
    );
    const warned = log();
    checkSealNamesAp((await sealWithoutOrganizationIdentifier()).certificate, devApId('c2'), warned as never);
    expect(warned.warnings).toHaveLength(1);
    expect(warned.warnings[0]).toMatch(/no organizationIdentifier/);
  });

  it("createAccessPoint refuses a config whose ap.id is not its seal's", async () => {
    const work = mkdtempSync(join(tmpdir(), 'qerds-seal-names-ap-'));
    const config = loadConfig({
      env: {},
      overrides: {
        ap: { id: 'urn:qerds-ap:ap:someone-else' },
        http: { port: 0 },
        store: { sqliteFile: ':memory:', blobDir: join(work, 'blobs') },
        pki: { dir: pki.dir, apName: 'c2' },
        log: { level: 'silent' },
      },
    });
    const refused = await createAccessPoint(config).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'CONFIG_INVALID'), String(refused)).toBe(true);
    expect((refused as Error).message).toContain('organizationIdentifier is "urn:qerds-ap:ap:c2"');
  });
});
