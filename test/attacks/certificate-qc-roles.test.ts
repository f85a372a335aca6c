import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/index.js';
import { formatReport, issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import {
  certificateFacts,
  certificateQcReport,
  checkCertificateRole,
  devApId,
  loadSigningIdentity,
  loadTrustStore,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * Issue 13, finding 2/3 follow-up: a certificate's role is judged by what its issuer states of it, not only by key
 * usages: EN 319 412-5 qcStatements (QcCompliance, QcType esign / eseal / web, QcSSCD) and EN 319 411 policies.
 * Certificates made by the openssl CLI (qcStatements written as raw DER) under the shared test CA, in this file's
 * own temporary directory.
 */
const pki = sharedTestPki();
const work = mkdtempSync(join(tmpdir(), 'qerds-attack-qc-roles-'));
const trust = loadTrustStore([pki.caCert, pki.caCrl]);
const tsa = createLocalTsaClient(
  createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
);
const sample = evidenceSamples().SubmissionAcceptance; // issuer: devApId('c2')

/** DER TLV (short and long length forms). */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
function oid(text: string): Buffer {
  const [a, b, ...rest] = text.split('.').map(Number);
  const octets = [a! * 40 + b!];
  for (const v of rest) {
    const base128 = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) base128.unshift((x & 0x7f) | 0x80);
    octets.push(...base128);
  }
  return der(0x06, Buffer.from(octets));
}
const statement = (id: string, info?: Buffer) => der(0x30, oid(id), ...(info ? [info] : []));
const qcType = (...types: string[]) => statement('0.4.0.1862.1.6', der(0x30, ...types.map(oid)));
const COMPLIANCE = statement('0.4.0.1862.1.1');
const SSCD = statement('0.4.0.1862.1.4');
const ESIGN = '0.4.0.1862.1.6.1';
const ESEAL = '0.4.0.1862.1.6.2';
const WEB = '0.4.0.1862.1.6.3';

interface Made {
  identity: SigningIdentity;
}

let serial = 0x5000;
/** An openssl-made end-entity certificate of the shared CA with the given extension lines, and its key. */
function issue(name: string, extensions: string[], organizationIdentifier?: string): Made {
  const key = join(work, `${name}.key.pem`);
  const csr = join(work, `${name}.csr`);
  const crt = join(work, `${name}.crt.pem`);
  const ext = join(work, `${name}.ext`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], {
    stdio: 'pipe',
  });
  const subject = `/C=JP/O=QC Test${organizationIdentifier ? `/organizationIdentifier=${organizationIdentifier}` : ''}/CN=${name}`;
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr], { stdio: 'pipe' });
  writeFileSync(ext, `[x]\nbasicConstraints=critical,CA:FALSE\n${extensions.join('\n')}\n`);
  execFileSync(
    'openssl',
    [
      ...['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey],
      // -set_serial, not -CAcreateserial: the shared CA's directory is read-only for tests.
      ...[
        '-set_serial',
        String(serial++),
        '-days',
        '2',
        '-sha256',
        '-extfile',
        ext,
        '-extensions',
        'x',
        '-out',
        crt,
      ],
    ],
    { stdio: 'pipe' },
  );
  return { identity: loadSigningIdentity(crt, key) };
}
const qcLine = (...statements: Buffer[]) =>
  `1.3.6.1.5.5.7.1.3=DER:${der(0x30, ...statements).toString('hex')}`;
const SEAL_KU = 'keyUsage=critical,digitalSignature,nonRepudiation';

const certs: Record<string, Made> = {};
beforeAll(() => {
  certs.qseal = issue(
    'qseal',
    [SEAL_KU, qcLine(COMPLIANCE, qcType(ESEAL), SSCD), 'certificatePolicies=0.4.0.194112.1.3'],
    devApId('c2'),
  );
  certs.qesign = issue(
    'qesign',
    [
      'keyUsage=critical,nonRepudiation',
      qcLine(COMPLIANCE, qcType(ESIGN), SSCD),
      'certificatePolicies=0.4.0.194112.1.2',
    ],
    devApId('c2'),
  );
  certs.qwac = issue(
    'qwac',
    [
      'keyUsage=critical,digitalSignature',
      qcLine(COMPLIANCE, qcType(WEB)),
      'certificatePolicies=0.4.0.194112.1.4',
    ],
    devApId('c2'),
  );
  certs.naturalPolicy = issue(
    'natural-policy',
    [SEAL_KU, 'certificatePolicies=0.4.0.194112.1.0'],
    devApId('c2'),
  );
  certs.esignTyped = issue('esign-typed', [SEAL_KU, qcLine(COMPLIANCE, qcType(ESIGN))], devApId('c2'));
  certs.mixed = issue('mixed', [SEAL_KU, qcLine(COMPLIANCE, qcType(ESIGN, ESEAL))], devApId('c2'));
  // A qcStatements extension that is a SEQUENCE of an INTEGER: not QCStatements.
  certs.malformed = issue('malformed', [SEAL_KU, '1.3.6.1.5.5.7.1.3=DER:3003020101'], devApId('c2'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const codes = (findings: readonly { code: string }[]) => findings.map((f) => f.code);
const role = (name: string, r: Parameters<typeof checkCertificateRole>[1], tls = false) =>
  codes(checkCertificateRole(certs[name]!.identity.certificate, r, { tlsEkuSigners: tls }));

async function sealedBy(name: string): Promise<string> {
  const sealer = xadesSealer({
    identity: certs[name]!.identity,
    tsa,
    clock: { now: () => new Date() },
    idGenerator: sequentialIdGenerator(),
  });
  return (await issueEvidence(sample, sealer)).xml;
}

describe('qcStatements and certificate policies are read (EN 319 412-5, EN 319 411)', () => {
  it('a QSealC: QcCompliance, QcType eseal, QcSSCD, QCP-l-qscd', () => {
    expect(certificateFacts(certs.qseal!.identity.certificate).qc).toEqual({
      compliance: true,
      qscd: true,
      types: ['eseal'],
      statements: ['0.4.0.1862.1.1', '0.4.0.1862.1.6', '0.4.0.1862.1.4'],
    });
    expect(certificateQcReport(certs.qseal!.identity.certificate)).toEqual({
      qualified: true,
      qscd: true,
      types: ['eseal'],
      policies: ['QCP-l-qscd'],
    });
    expect(certificateQcReport(certs.malformed!.identity.certificate)).toMatchObject({
      qualified: false,
      malformed: true,
    });
  });
});

describe('role checks use QcType and policies', () => {
  it('e-seal: a QSealC and a certificate typed esign+eseal pass; esign, web, a natural-person policy, an unreadable qcStatements are refused', () => {
    expect(role('qseal', 'e-seal')).toEqual([]);
    expect(role('mixed', 'e-seal')).toEqual([]);
    expect(role('qesign', 'e-seal')).toEqual(['PKI_ROLE_QC_TYPE', 'PKI_ROLE_POLICY']);
    expect(role('qwac', 'e-seal')).toEqual(['PKI_ROLE_QC_TYPE', 'PKI_ROLE_POLICY']);
    expect(role('esignTyped', 'e-seal')).toEqual(['PKI_ROLE_QC_TYPE']);
    expect(role('naturalPolicy', 'e-seal')).toEqual(['PKI_ROLE_POLICY']);
    expect(role('malformed', 'e-seal')).toEqual(['PKI_ROLE_QC_TYPE']);
    const message = checkCertificateRole(certs.qesign!.identity.certificate, 'e-seal')[0]!.message;
    expect(message).toMatch(/QcType is esign \(a natural person\), not eseal/);
  });

  it('AS4 signer: a natural person refused always; a website only where TLS-EKU signers are allowed (Peppol)', () => {
    expect(role('qseal', 'as4-signer')).toEqual([]);
    expect(role('qesign', 'as4-signer')).toEqual(['PKI_ROLE_QC_TYPE', 'PKI_ROLE_POLICY']);
    expect(role('qesign', 'as4-signer', true)).toEqual(['PKI_ROLE_QC_TYPE', 'PKI_ROLE_POLICY']);
    expect(role('qwac', 'as4-signer')).toEqual(['PKI_ROLE_QC_TYPE', 'PKI_ROLE_POLICY']);
    expect(role('qwac', 'as4-signer', true)).toEqual([]);
  });
});

describe('evidence sealed by such certificates', () => {
  it('a QSealC naming the issuer: TOTAL-PASSED, the report says it is stated qualified, eseal, QSCD, QCP-l-qscd', async () => {
    const report = await verifyEvidence(await sealedBy('qseal'), { trust });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.sealCertificate).toEqual({
      qualified: true,
      qscd: true,
      types: ['eseal'],
      policies: ['QCP-l-qscd'],
    });
    expect(formatReport(report)).toContain(
      'seal cert:  states it is EU qualified (QcCompliance); QcType eseal; key in a QSCD; policy QCP-l-qscd',
    );
  });

  it("a natural person's qualified signature certificate (QcType esign): INDETERMINATE CHAIN_CONSTRAINTS_FAILURE, EVIDENCE_SEAL_CERT_ROLE", async () => {
    const report = await verifyEvidence(await sealedBy('qesign'), { trust });
    expect([report.indication, report.subIndication]).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
    expect(codes(report.findings)).toContain('EVIDENCE_SEAL_CERT_ROLE');
    expect(report.sealCertificate).toMatchObject({ qualified: true, types: ['esign'] });
  });

  it('a QWAC (QcType web): refused alike', async () => {
    const report = await verifyEvidence(await sealedBy('qwac'), { trust });
    expect([report.indication, report.subIndication]).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
    expect(codes(report.findings)).toContain('EVIDENCE_SEAL_CERT_ROLE');
  });

  it('the dev seal (no qcStatements): TOTAL-PASSED and reported as not stated qualified', async () => {
    const c2 = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const sealer = xadesSealer({
      identity: c2,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    const report = await verifyEvidence((await issueEvidence(sample, sealer)).xml, { trust });
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.sealCertificate).toEqual({ qualified: false, qscd: false, types: [], policies: [] });
    expect(formatReport(report)).toContain('seal cert:  not stated qualified (no QcCompliance)');
  });
});
