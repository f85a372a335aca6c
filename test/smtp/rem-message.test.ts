import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore, type SigningIdentity } from '../../src/pki/index.js';
import { buildRemMessage } from '../../src/smtp/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

const fixtures = join(import.meta.dirname, '../fixtures/smtp');

describe('REM message (EN 319 532-3): S/MIME signed by the AP, checked with openssl', () => {
  const pki = sharedTestPki();
  const work = mkdtempSync(join(tmpdir(), 'qerds-rem-'));
  const original = readFileSync(join(fixtures, 'utf8-message.eml'));
  let seal: SigningIdentity;
  let evidenceXml: string;
  let mail: Buffer;
  let mailFile: string;

  beforeAll(async () => {
    seal = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const tsa = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
    const clock = { now: () => new Date() };
    const issued = await issueEvidence(
      evidenceSamples().SubmissionAcceptance,
      xadesSealer({
        identity: seal,
        tsa: createLocalTsaClient(tsa),
        clock,
        idGenerator: sequentialIdGenerator(),
      }),
    );
    evidenceXml = issued.xml;
    mail = buildRemMessage({
      event: 'SubmissionAcceptance',
      evidenceXml,
      original,
      subject: '請求書 2026-0042',
      from: { address: 'rem@ap.example', name: 'qerds-ap C2' },
      to: [{ address: 'keiri@sample-trading.example', name: 'サンプル商事 経理部' }],
      policies: ['urn:qerds-ap:policy:dev:v1'],
      extensions: [
        {
          contentType: 'application/json',
          filename: 'meta.json',
          content: Buffer.from('{"messageId":"msg-1"}'),
        },
      ],
      signer: seal,
    }).raw;
    mailFile = join(work, 'mail.eml');
    writeFileSync(mailFile, mail);
  });

  function openssl(...args: string[]) {
    return spawnSync('openssl', args, { encoding: 'utf8' });
  }

  it('openssl cms -verify and openssl smime -verify accept it against the dev CA', () => {
    const cms = openssl(
      'cms',
      '-verify',
      '-CAfile',
      pki.caCert,
      '-in',
      mailFile,
      '-out',
      join(work, 'content.mime'),
    );
    expect(cms.status, cms.stderr).toBe(0);
    expect(cms.stderr).toMatch(/Verification successful/);
    const smime = openssl('smime', '-verify', '-CAfile', pki.caCert, '-in', mailFile, '-out', '/dev/null');
    expect(smime.status, smime.stderr).toBe(0);
    // The signer is the AP's e-seal: openssl names it.
    const signer = openssl(
      'cms',
      '-verify',
      '-CAfile',
      pki.caCert,
      '-in',
      mailFile,
      '-out',
      '/dev/null',
      '-signer',
      join(work, 'signer.pem'),
    );
    expect(signer.status).toBe(0);
    expect(readFileSync(join(work, 'signer.pem'), 'utf8')).toBe(
      seal.certificate.toString().replace(/\r?\n$/, '') + '\n',
    );
  });

  it('a one-byte change in the signed content makes verification fail', () => {
    const at = mail.indexOf(Buffer.from('請求書を添付します。', 'utf8')); // in the embedded original's body
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(mail);
    tampered[at + 1] = tampered[at + 1]! ^ 0x01;
    const file = join(work, 'tampered.eml');
    writeFileSync(file, tampered);
    const cms = openssl('cms', '-verify', '-CAfile', pki.caCert, '-in', file, '-out', '/dev/null');
    expect(cms.status).not.toBe(0);
    expect(cms.stderr).toMatch(/digest failure|content verify error|Verification failure/i);
  });

  it('is a REM message: REM-* headers, REM subject, sections in order with their REM-Section-Type', async () => {
    const head = mail.subarray(0, mail.indexOf('\r\n\r\n')).toString('utf8');
    expect(head).toMatch(
      /^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256; boundary="/m,
    );
    expect(head).toMatch(/^REM-MetadataVersion: \S+/m);
    expect(head).toMatch(/^REM-MessageType: Dispatch$/m);
    expect(head).toMatch(/^REM-EventIdentifier: \S+/m);
    expect(head).toMatch(/^REM-DigestAlgorithm: http:\/\/www\.w3\.org\/2001\/04\/xmlenc#sha256$/m);
    expect(head).toContain(`REM-DigestValue: ${createHash('sha256').update(original).digest('base64')}`);
    expect(head).toMatch(/^REM-ApplicablePolicy: urn:qerds-ap:policy:dev:v1$/m);
    const sectionTypes = [...mail.toString('latin1').matchAll(/^REM-Section-Type: (\S+)$/gm)].map(
      (m) => m[1],
    );
    expect(sectionTypes).toEqual([
      'rem_message/introduction',
      'rem_message/original',
      'rem_message/xml_evidence',
      'rem_message/extension',
    ]);
    const parsed = await simpleParser(mail);
    expect(parsed.subject).toBe('REM SubmissionAcceptance: 請求書 2026-0042');
    expect(parsed.text).toContain('送信されたメッセージを受け付けました。');
    expect(parsed.text).toContain('Your message has been accepted for registered delivery.');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.name : undefined).toBe(
      'サンプル商事 経理部',
    );
  });

  it('the original travels byte for byte, and the attached evidence verifies with verifyEvidence', async () => {
    // The signed content as openssl extracted it: our own parse of the raw MIME is not what we test here.
    const content = readFileSync(join(work, 'content.mime'));
    const boundary = /boundary="([^"]+)"/.exec(content.toString('latin1'))![1]!;
    const parts = content.toString('latin1').split(`--${boundary}`);
    const originalPart = parts.find((p) => p.includes('REM-Section-Type: rem_message/original'))!;
    const body = Buffer.from(originalPart.slice(originalPart.indexOf('\r\n\r\n') + 4, -2), 'latin1');
    expect(body.equals(original)).toBe(true);

    const parsed = await simpleParser(mail);
    const attachment = parsed.attachments.find((a) => a.filename === 'SubmissionAcceptance.xml');
    expect(attachment?.contentType).toBe('application/xml');
    expect(attachment!.content.toString('utf8')).toBe(evidenceXml);
    const report = await verifyEvidence(attachment!.content.toString('utf8'), {
      trust: loadTrustStore([pki.caCert, pki.caCrl]),
    });
    expect(report.indication).toBe('TOTAL-PASSED');
  });

  it('a receipt without the original says so and still verifies', () => {
    const receipt = buildRemMessage({
      event: 'ContentHandoverFailure',
      evidenceXml,
      originalSha256: createHash('sha256').update(original).digest('hex'),
      subject: 'Invoice',
      reason: 'RE04 MessageHandoverTimeout',
      from: { address: 'rem@ap.example' },
      to: [{ address: 'keiri@sample-trading.example' }],
      signer: seal,
    });
    const file = join(work, 'receipt.eml');
    writeFileSync(file, receipt.raw);
    expect(receipt.raw.toString('utf8')).toMatch(/^REM-MessageType: Receipt$/m);
    expect(receipt.raw.toString('utf8')).not.toContain('rem_message/original');
    expect(receipt.raw.toString('utf8')).toMatch(/^Subject: REM ContentHandoverFailure: Invoice$/m);
    const cms = openssl('cms', '-verify', '-CAfile', pki.caCert, '-in', file, '-out', '/dev/null');
    expect(cms.status, cms.stderr).toBe(0);
  });
});
