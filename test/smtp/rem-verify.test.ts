import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { proofVerifiers } from '../../src/api/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyAny, xadesSealer } from '../../src/evidence/index.js';
import { createTrustStore, loadSigningIdentity, loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import { buildRemMessage, isRemMessage } from '../../src/smtp/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * `qerds verify mail.eml`: a REM message as the recipient's mail client saved it is detected and verified —
 * the S/MIME signature (the AP's e-seal, to the trust store), each evidence part, REM-DigestValue against
 * the attached original. A changed byte in the signed part, a wrong digest header or an untrusted signer
 * make it INVALID.
 */
const root = join(import.meta.dirname, '../..');
const original = readFileSync(join(import.meta.dirname, '../fixtures/smtp/utf8-message.eml'));

describe('REM message verification (verifyAny with the REM verifier)', () => {
  const pki = sharedTestPki();
  let trust: TrustStore;
  let mail: Buffer;

  beforeAll(async () => {
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const seal = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const tsa = createLocalTsaClient(createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }));
    const sealer = xadesSealer({ identity: seal, tsa, clock: { now: () => new Date() }, idGenerator: sequentialIdGenerator() });
    const evidenceXml = (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml;
    mail = buildRemMessage({
      event: 'SubmissionAcceptance',
      evidenceXml,
      original,
      subject: '請求書 2026-0042',
      from: { address: 'rem@ap.example', name: 'qerds-ap C2' },
      to: [{ address: 'keiri@sample-trading.example' }],
      signer: seal,
    }).raw;
  });

  const verify = (bytes: Buffer, t = trust) => verifyAny(bytes, { trust: t, verifiers: proofVerifiers });

  it('VALID: signature, evidence and original digest; also after the CRLFs were lost', async () => {
    expect(isRemMessage(mail)).toBe(true);
    const r = await verify(mail);
    expect(r.kind).toBe('rem-message');
    expect(r.words).toMatch(/^VALID: REM message \(Dispatch\)/);
    const report = JSON.parse(r.json) as { evidence: { valid: boolean }[]; originalDigestMatches: boolean; findings: unknown[]; signer: { subject: string } };
    expect(report.findings).toEqual([]);
    expect(report.evidence).toHaveLength(1);
    expect(report.evidence[0]!.valid).toBe(true);
    expect(report.originalDigestMatches).toBe(true);
    expect(r.valid).toBe(true);
    const lf = Buffer.from(mail.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    expect((await verify(lf)).valid).toBe(true);
  });

  it('INVALID: a changed byte in the signed content, a wrong REM-DigestValue, an untrusted signer', async () => {
    const text = mail.toString('latin1');
    // Inside the signed multipart/mixed: one character of the introduction's base64 text.
    const at = text.indexOf('Content-Type: text/plain; charset=UTF-8');
    const bodyStart = text.indexOf('\r\n\r\n', at) + 4;
    const flipped = text.slice(0, bodyStart) + (text[bodyStart] === 'A' ? 'B' : 'A') + text.slice(bodyStart + 1);
    const tampered = await verify(Buffer.from(flipped, 'latin1'));
    expect(tampered.valid).toBe(false);
    expect(tampered.json).toContain('REM_SIGNATURE_INVALID');

    const wrongDigest = await verify(Buffer.from(text.replace(/REM-DigestValue: \S+/, `REM-DigestValue: ${Buffer.alloc(32).toString('base64')}`), 'latin1'));
    expect(wrongDigest.valid).toBe(false);
    expect(wrongDigest.json).toContain('REM_DIGEST_MISMATCH');

    const untrusted = await verify(mail, createTrustStore([]));
    expect(untrusted.valid).toBe(false);
  });

  it('qerds verify mail.eml: exit 0 and the verdict in words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-rem-verify-'));
    writeFileSync(join(dir, 'mail.eml'), mail);
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'verify', join(dir, 'mail.eml'), '--trust', pki.caCert, '--trust', pki.caCrl], { cwd: root });
    expect(stdout).toMatch(/^VALID: REM message/);
  }, 60_000);
});
