import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSignedData } from '../../src/crypto/signed-data-read.js';
import { formatCadesReport } from '../../src/evidence/format-report.js';
import { verifyCadesFile } from '../../src/evidence/verify-token.js';
import { createTrustStore, loadTrustStore } from '../../src/pki/index.js';
import { foreignTestPki, sharedTestPki } from '../helpers/pki.js';

/**
 * Several signatures in one CMS SignedData (RFC 5652): parallel SignerInfos made by `openssl cms -sign` with two
 * `-signer`s, and a genuine countersignature (RFC 5652 §11.4) from EU DSS's test resources. Each is verified
 * and reported on its own; the document's verdict is that of its weakest signature.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-cms-parallel-'));
const pki = sharedTestPki();
const foreign = foreignTestPki();
const trust = () => loadTrustStore([pki.caCert, pki.caCrl]);
const doc = Buffer.from('<Invoice>signed by two</Invoice>');

function opensslSign(signers: { cert: string; key: string }[], name: string): Buffer {
  writeFileSync(join(work, 'doc.xml'), doc);
  execFileSync(
    'openssl',
    [
      'cms',
      '-sign',
      '-binary',
      '-nodetach',
      '-cades',
      '-md',
      'sha256',
      '-outform',
      'DER',
      '-in',
      join(work, 'doc.xml'),
      '-out',
      join(work, name),
      ...signers.flatMap((s) => ['-signer', s.cert, '-inkey', s.key]),
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(join(work, name));
}
let both: Buffer;
beforeAll(() => {
  both = opensslSign(
    [
      { cert: pki.ap('c2').sealCert, key: pki.ap('c2').sealKey },
      { cert: pki.ap('c3').sealCert, key: pki.ap('c3').sealKey },
    ],
    'both.p7m',
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('parallel CMS signers (openssl cms -sign, two -signer)', () => {
  it('both verified and reported: TOTAL-PASSED, two signers named', async () => {
    expect(readSignedData(both).signerInfos).toHaveLength(2);
    const r = await verifyCadesFile(both, { trust: trust() });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.indication).toBe('TOTAL-PASSED');
    expect(r.level).toBe('CAdES-B-B');
    expect(r.signers?.map((s) => [s.label, s.level, s.contentChecked])).toEqual([
      ['signer 1', 'CAdES-B-B', true],
      ['signer 2', 'CAdES-B-B', true],
    ]);
    const names = r.signers!.map((s) => s.signer?.subject ?? '');
    expect(names.some((n) => n.includes(readSubjectCn(pki.ap('c2').sealCert)))).toBe(true);
    expect(names.some((n) => n.includes(readSubjectCn(pki.ap('c3').sealCert)))).toBe(true);
    const text = formatCadesReport(r);
    expect(text).toMatch(/^signer 1: VALID/m);
    expect(text).toMatch(/^signer 2: VALID/m);
  });

  it('one signer outside the trust anchors: the document is INDETERMINATE, that signer named', async () => {
    const mixed = opensslSign(
      [
        { cert: pki.ap('c2').sealCert, key: pki.ap('c2').sealKey },
        { cert: foreign.ap('c2').sealCert, key: foreign.ap('c2').sealKey },
      ],
      'mixed.p7m',
    );
    const r = await verifyCadesFile(mixed, { trust: trust() });
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
    const own = r.signers!.map((s) => s.findings.filter((f) => f.severity === 'error').length);
    expect(own.filter((n) => n === 0)).toHaveLength(1);
    expect(
      r.findings
        .filter((f) => f.severity === 'error')
        .every((f) => /^signer 2: /.test(f.message) || r.signers![0]!.findings.includes(f)),
    ).toBe(true);
  });

  it('one character of the signed content changed: TOTAL-FAILED/HASH_FAILURE', async () => {
    const forged = Buffer.from(both);
    const at = forged.indexOf('signed by two');
    forged[at] = 'S'.charCodeAt(0);
    const r = await verifyCadesFile(forged, { trust: trust() });
    expect(r.indication).toBe('TOTAL-FAILED');
    expect(r.subIndication).toBe('HASH_FAILURE');
    expect(r.signers?.every((s) => s.findings.some((f) => f.code === 'SEAL_DIGEST_MISMATCH'))).toBe(true);
  });
});

describe('a CAdES countersignature made by another product (EU DSS test resources: counterSig.p7m)', () => {
  it('the countersignature is found, read and verified over the signature value: its own signer; SHA-1 digests are not implemented, so INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE', async () => {
    const bytes = readFileSync(
      new URL('../fixtures/crypto/foreign/esig-dss/counterSig.p7m', import.meta.url),
    );
    const sd = readSignedData(bytes);
    // The signers' own certificates (the file carries no CA) pinned as anchors.
    const r = await verifyCadesFile(bytes, {
      trust: createTrustStore(sd.certificates),
      at: new Date('2007-03-09T00:00:00Z'),
    });
    expect(r.unsignedAttributes).toEqual(['signature-time-stamp', 'countersignature']);
    expect(r.signers?.map((s) => s.label)).toEqual(['signer 1']);
    const counter = r.signers![0]!.countersignatures;
    expect(counter.map((c) => [c.label, c.role])).toEqual([
      ['countersignature 1 of signer 1', 'countersignature'],
    ]);
    expect(counter[0]!.signer?.subject).toContain('CN=EST-COUNTER-SIGNATURE1-OK-EE2');
    expect(r.signer?.subject.endsWith('CN=EST-COUNTER-SIGNATURE1-OK-EE')).toBe(true);
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.subIndication).toBe('CRYPTO_CONSTRAINTS_FAILURE');
    expect(
      r.findings.some(
        (f) =>
          f.code === 'CMS_ALGORITHM_UNSUPPORTED' && f.message.startsWith('countersignature 1 of signer 1: '),
      ),
    ).toBe(true);
    expect(formatCadesReport(r)).toMatch(
      /^countersignature 1 of signer 1: INDETERMINATE\/CRYPTO_CONSTRAINTS_FAILURE — .*EE2$/m,
    );
  });
});

function readSubjectCn(certFile: string): string {
  const subject = execFileSync(
    'openssl',
    ['x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'multiline'],
    {
      encoding: 'utf8',
    },
  );
  return /commonName\s*=\s*(.+)/.exec(subject)![1]!.trim();
}
