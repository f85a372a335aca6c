import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { proofVerifiers } from '../../src/api/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyAny, xadesSealer } from '../../src/evidence/index.js';
import {
  createTrustStore,
  loadSigningIdentity,
  loadTrustStore,
  type TrustStore,
} from '../../src/pki/index.js';
import { buildRemMessage, isRemMessage } from '../../src/smtp/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * `qerds verify mail.eml`: a REM message as the recipient's mail client saved it is detected and verified —
 * the S/MIME signature (the AP's e-seal, to the trust store), each evidence part, REM-DigestValue against
 * the attached original. A changed byte in the signed part, a wrong digest header or an untrusted signer
 * make it INVALID.
 */
const original = readFileSync(join(import.meta.dirname, '../fixtures/smtp/utf8-message.eml'));

describe('REM message verification (verifyAny with the REM verifier)', () => {
  const pki = sharedTestPki();
  let trust: TrustStore;
  let mail: Buffer;

  beforeAll(async () => {
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const seal = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const sealer = xadesSealer({
      identity: seal,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
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
    const report = JSON.parse(r.json) as {
      evidence: { valid: boolean }[];
      originalDigestMatches: boolean;
      findings: unknown[];
      signer: { subject: string };
    };
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
    const flipped =
      text.slice(0, bodyStart) + (text[bodyStart] === 'A' ? 'B' : 'A') + text.slice(bodyStart + 1);
    const tampered = await verify(Buffer.from(flipped, 'latin1'));
    expect(tampered.valid).toBe(false);
    expect(tampered.json).toContain('REM_SIGNATURE_INVALID');

    // The outer REM-DigestValue no longer equals its signed copy (the signed one still matches the original).
    const wrongDigest = await verify(
      Buffer.from(
        text.replace(/REM-DigestValue: \S+/, `REM-DigestValue: ${Buffer.alloc(32).toString('base64')}`),
        'latin1',
      ),
    );
    expect(wrongDigest.valid).toBe(false);
    expect(wrongDigest.json).toContain('REM_HEADER_TAMPERED');

    const untrusted = await verify(mail, createTrustStore([]));
    expect(untrusted.valid).toBe(false);
  });

  it('REM headers are under the signature: one byte changed outside or inside, or one added, is caught and named', async () => {
    const text = mail.toString('latin1');
    const outerEnd = text.indexOf('\r\n\r\n');
    const outerId = text.indexOf('REM-EventIdentifier: ') + 'REM-EventIdentifier: '.length;
    expect(outerId).toBeLessThan(outerEnd);
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'x' ? 'y' : 'x') + s.slice(at + 1);

    // Outside: the signature still holds, the outer header no longer equals its signed copy.
    const outside = await verify(Buffer.from(flip(text, outerId), 'latin1'));
    expect(outside.valid).toBe(false);
    expect(outside.words).toMatch(
      /REM_HEADER_TAMPERED: REM-EventIdentifier: ".+" differs from the signed ".+"/,
    );
    expect(outside.words).not.toContain('REM_SIGNATURE_INVALID');

    // Inside (the signed copy in the multipart/mixed header): the S/MIME signature fails.
    const innerId = text.indexOf('REM-EventIdentifier: ', outerEnd) + 'REM-EventIdentifier: '.length;
    expect(innerId).toBeGreaterThan(outerEnd);
    const inside = await verify(Buffer.from(flip(text, innerId), 'latin1'));
    expect(inside.valid).toBe(false);
    expect(inside.words).toContain('REM_SIGNATURE_INVALID');

    // A REM header added in transit has no signed copy.
    const added = await verify(
      Buffer.from(
        text.slice(0, outerEnd) + '\r\nREM-ModeOfConsignment: basic' + text.slice(outerEnd),
        'latin1',
      ),
    );
    expect(added.valid).toBe(false);
    expect(added.words).toContain(
      'REM_HEADER_UNSIGNED: REM-ModeOfConsignment is not among the signed REM headers',
    );

    // Re-folded by an MTA: still VALID (white space is not content).
    const refolded = text.slice(0, outerEnd).replace(/^(Subject: \S+) /m, '$1\r\n\t') + text.slice(outerEnd);
    expect((await verify(Buffer.from(refolded, 'latin1'))).valid).toBe(true);
  });

  it('qerds verify mail.eml: exit 0 and the verdict in words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-rem-verify-'));
    writeFileSync(join(dir, 'mail.eml'), mail);
    const text = mail.toString('latin1');
    const at = text.indexOf('REM-MessageType: ') + 'REM-MessageType: '.length;
    writeFileSync(
      join(dir, 'tampered.eml'),
      Buffer.from(`${text.slice(0, at)}R${text.slice(at + 1)}`, 'latin1'),
    );
    // In this process: the one real launch of `qerds verify` is in test/cli/verify-command.test.ts.
    const cli = (name: string) =>
      qerdsInProcess(['verify', join(dir, name), '--trust', pki.caCert, '--trust', pki.caCrl]);
    const good = await cli('mail.eml');
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^VALID: REM message[\s\S]*REM headers: signed copies match/);
    // One header byte changed: exit 1, the reason names the header.
    const bad = await cli('tampered.eml');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(
      /^INVALID: REM message \(Rispatch\)[\s\S]*REM_HEADER_TAMPERED: REM-MessageType: "Rispatch" differs from the signed "Dispatch"/,
    );
  }, 60_000);
});
