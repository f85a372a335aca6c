import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/index.js';
import { formatReport, issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { augmentXmlSeal } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { foreignTestPki, sharedTestPki } from '../helpers/pki.js';

/**
 * Issue 13 follow-up: the revocation status of the TSA certificate of an evidence's SignatureTimeStamp is required,
 * as the seal certificate's is. The seal is the shared PKI's C2 seal; the TSA is the foreign PKI's, under another CA,
 * so that the two statuses are given (or not) separately.
 */
const shared = sharedTestPki();
const foreign = foreignTestPki();
const tsa = createLocalTsaClient(
  createTimestampAuthority({ identity: loadSigningIdentity(foreign.tsaCert, foreign.tsaKey) }),
);
const c2 = loadSigningIdentity(shared.ap('c2').sealCert, shared.ap('c2').sealKey);
const sample = evidenceSamples().SubmissionAcceptance;
const errors = (r: { findings: readonly { code: string; severity: string }[] }) =>
  r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

async function sealed(): Promise<string> {
  const sealer = xadesSealer({
    identity: c2,
    tsa,
    clock: { now: () => new Date() },
    idGenerator: sequentialIdGenerator(),
  });
  return (await issueEvidence(sample, sealer)).xml;
}

describe("the SignatureTimeStamp's TSA certificate: its revocation status is required", () => {
  it("B-T, the seal's CRL given but not the TSA CA's: INDETERMINATE TRY_LATER, TSA_REVOCATION_UNKNOWN naming the TSA", async () => {
    const xml = await sealed();
    const report = await verifyEvidence(xml, {
      trust: loadTrustStore([shared.caCert, shared.caCrl, foreign.caCert]),
    });
    expect(errors(report)).toEqual(['TSA_REVOCATION_UNKNOWN']);
    expect(report).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
    const finding = report.findings.find((f) => f.code === 'TSA_REVOCATION_UNKNOWN')!;
    expect(finding.message).toContain('CN=Foreign TSA');
    expect(formatReport(report).split('\n')[0]).toMatch(
      /^INVALID \(INDETERMINATE\): TRY_LATER — .*TSA certificate/,
    );
  });

  it('B-T with both CRLs given: TOTAL-PASSED', async () => {
    const report = await verifyEvidence(await sealed(), {
      trust: loadTrustStore([shared.caCert, shared.caCrl, foreign.caCert, foreign.caCrl]),
    });
    expect(errors(report)).toEqual([]);
    expect(report.indication).toBe('TOTAL-PASSED');
  });

  it("B-LT carrying only the seal CA's CRL: still TSA_REVOCATION_UNKNOWN offline; carrying both: TOTAL-PASSED offline", async () => {
    const xml = await sealed();
    const anchorsOnly = loadTrustStore([shared.caCert, foreign.caCert]);
    const sealCrlOnly = await augmentXmlSeal(xml, { level: 'B-LT', crls: [readFileSync(shared.caCrl)] });
    const half = await verifyEvidence(sealCrlOnly, { trust: anchorsOnly });
    expect(errors(half)).toEqual(['TSA_REVOCATION_UNKNOWN']);
    expect(half).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });

    const both = await augmentXmlSeal(xml, {
      level: 'B-LT',
      crls: [readFileSync(shared.caCrl), readFileSync(foreign.caCrl)],
    });
    const offline = await verifyEvidence(both, { trust: anchorsOnly });
    expect(errors(offline)).toEqual([]);
    expect(offline).toMatchObject({ indication: 'TOTAL-PASSED', seal: { level: 'B-LT' } });
  });
});
