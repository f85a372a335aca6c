import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { buildRemMessage, encryptRemMessage } from '../../src/smtp/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { qerdsInProcess } from '../helpers/cli.js';

/**
 * An encrypted REM Dispatch (RFC 8551 signed-then-enveloped, AuthEnvelopedData AES-256-GCM, RSA-OAEP) as the
 * recipient's mail server receives it, checked with independent tools: `openssl cms -decrypt` with the
 * recipient's key opens it, `openssl smime -verify` verifies what comes out against the dev CA, and the
 * evidence inside verifies with the `qerds verify` CLI. `qerds verify mail.eml` says whom the mail is
 * encrypted for without a key, verifies it with the recipient's key, and refuses another recipient's key.
 */
const original = readFileSync(join(import.meta.dirname, '../fixtures/smtp/utf8-message.eml'));

/** `qerds <args>` in-process (test/helpers/cli.ts); the real launch of `qerds verify` is in verify-command.test.ts. */
async function qerds(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await qerdsInProcess(args);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A signed REM Dispatch (hp="cipher") carrying a sealed ContentHandover, as the C3 mail binding builds it. */
async function signedRemDispatch(pki: ReturnType<typeof sharedTestPki>): Promise<Buffer> {
  const seal = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
  );
  const sealer = xadesSealer({
    identity: seal,
    tsa,
    clock: { now: () => new Date() },
    idGenerator: sequentialIdGenerator(),
  });
  const evidenceXml = (await issueEvidence(evidenceSamples().ContentHandover, sealer)).xml;
  return buildRemMessage({
    event: 'ContentHandover',
    evidenceXml,
    original,
    subject: '請求書 2026-0042',
    from: { address: 'rem@c3.example', name: 'qerds-ap C3' },
    to: [{ address: 'soumu@test-works.example' }],
    messageType: 'Dispatch',
    headerProtection: 'cipher',
    signer: seal,
  }).raw;
}

describe('encrypted REM message (S/MIME signed then enveloped)', () => {
  const pki = sharedTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'qerds-rem-encrypt-'));
  const alice = pki.recipient('alice');
  // Another recipient of the shared PKI: its key must not open what is encrypted for alice.
  const bob = pki.recipient('bob');
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    writeFileSync(
      file('mail.eml'),
      await encryptRemMessage(await signedRemDispatch(pki), [new X509Certificate(readFileSync(alice.cert))]),
    );
  });

  it('is application/pkcs7-mime AuthEnvelopedData (AES-256-GCM, RSA-OAEP) with the REM headers outside', () => {
    const text = readFileSync(file('mail.eml'), 'latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).toMatch(
      /^Content-Type: application\/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"$/m,
    );
    expect(head).toMatch(/^REM-MessageType: Dispatch$/m);
    expect(head).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    expect(head).not.toMatch(/multipart\/signed/);
    const printed = spawnSync(
      'openssl',
      ['cms', '-cmsout', '-print', '-inform', 'SMIME', '-in', file('mail.eml')],
      { encoding: 'utf8' },
    );
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/contentType: id-smime-ct-authEnvelopedData/);
    expect(printed.stdout).toMatch(/aes-256-gcm/);
    expect(printed.stdout).toMatch(/rsaesOaep/);
  });

  it('openssl cms -decrypt opens it with the recipient key; openssl smime -verify verifies the result; qerds verify the evidence', async () => {
    const decrypted = spawnSync(
      'openssl',
      [
        'cms',
        '-decrypt',
        '-in',
        file('mail.eml'),
        '-inkey',
        alice.key,
        '-recip',
        alice.cert,
        '-out',
        file('signed.eml'),
      ],
      { encoding: 'utf8' },
    );
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(readFileSync(file('signed.eml'), 'latin1')).toMatch(
      /^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"/,
    );
    const verified = spawnSync(
      'openssl',
      ['smime', '-verify', '-CAfile', pki.caCert, '-in', file('signed.eml'), '-out', file('content.mime')],
      { encoding: 'utf8' },
    );
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/Verification successful/);
    // The signed entity carries the signed copies of the REM headers (RFC 9788, hp="cipher").
    const content = readFileSync(file('content.mime'), 'latin1');
    expect(content.slice(0, content.indexOf('\r\n\r\n'))).toMatch(
      /hp="cipher"[\s\S]*^REM-MessageType: Dispatch$/m,
    );
    const evidence = (await simpleParser(readFileSync(file('content.mime')))).attachments.find(
      (a) => a.filename === 'ContentHandover.xml',
    );
    expect(evidence).toBeDefined();
    writeFileSync(file('evidence.xml'), evidence!.content);
    const bad = spawnSync(
      'openssl',
      ['cms', '-decrypt', '-in', file('mail.eml'), '-inkey', bob.key, '-recip', bob.cert],
      { encoding: 'utf8' },
    );
    expect(bad.status).not.toBe(0);

    const result = await qerds('verify', file('evidence.xml'), '--trust', pki.caCert, '--trust', pki.caCrl);
    expect(result.stdout).toMatch(/^VALID\nevent: +ContentHandover /);
    expect(result.code).toBe(0);
  }, 60_000);

  it('qerds verify mail.eml: says whom it is encrypted for; VALID with the recipient key; refused with another', async () => {
    const trust = ['--trust', pki.caCert, '--trust', pki.caCrl];
    const [noKey, withKey, otherKey] = await Promise.all([
      qerds('verify', file('mail.eml'), ...trust),
      qerds('verify', file('mail.eml'), ...trust, '--decrypt-key', alice.key, '--decrypt-cert', alice.cert),
      qerds('verify', file('mail.eml'), ...trust, '--decrypt-key', bob.key, '--decrypt-cert', bob.cert),
    ]);
    const aliceSerial = new X509Certificate(readFileSync(alice.cert)).serialNumber
      .toLowerCase()
      .replace(/^0+/, '');
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/^INVALID: REM message \(Dispatch\)/);
    expect(noKey.stdout).toMatch(
      new RegExp(`REM_ENCRYPTED: the message is encrypted for serial 0*${aliceSerial} of C=JP`),
    );
    expect(withKey.stdout).toMatch(/^VALID: REM message \(Dispatch\)/);
    expect(withKey.stdout).toContain('encrypted: aes256-gcm with rsaes-oaep');
    expect(withKey.stdout).toContain('REM headers: signed copies match');
    expect(withKey.code).toBe(0);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stdout, otherKey.stderr).toContain('not for the certificate given');
  }, 90_000);
});

/**
 * The form Outlook and Thunderbird open (`deliveryEncryption: aes256-cbc`): EnvelopedData, AES-256-CBC, RSA
 * PKCS#1 v1.5 key transport, smime-type=enveloped-data. Opened by the classic PKCS#7 tool `openssl smime
 * -decrypt` (which cannot read AuthEnvelopedData or RSA-OAEP key transport), verified by `openssl smime
 * -verify`, the evidence inside by `qerds verify`, and the whole mail by `qerds verify --decrypt-key`.
 */
describe('encrypted REM message for mail clients (EnvelopedData AES-256-CBC)', () => {
  const pki = sharedTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'qerds-rem-cbc-'));
  const alice = pki.recipient('alice');
  const bob = pki.recipient('bob');
  const file = (name: string) => join(dir, name);
  const trust = ['--trust', pki.caCert, '--trust', pki.caCrl];

  beforeAll(async () => {
    const mail = await encryptRemMessage(
      await signedRemDispatch(pki),
      [new X509Certificate(readFileSync(alice.cert))],
      { encryption: 'aes256-cbc' },
    );
    writeFileSync(file('mail.eml'), mail);
  });

  it('is application/pkcs7-mime enveloped-data: EnvelopedData, aes-256-cbc, rsaEncryption key transport', () => {
    const text = readFileSync(file('mail.eml'), 'latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).toMatch(
      /^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"$/m,
    );
    expect(head).toMatch(/^REM-MessageType: Dispatch$/m);
    const printed = spawnSync(
      'openssl',
      ['cms', '-cmsout', '-print', '-inform', 'SMIME', '-in', file('mail.eml')],
      { encoding: 'utf8' },
    );
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/contentType: pkcs7-envelopedData/);
    expect(printed.stdout).toMatch(/contentEncryptionAlgorithm:\s*\n\s*algorithm: aes-256-cbc/);
    expect(printed.stdout).toMatch(/keyEncryptionAlgorithm:\s*\n\s*algorithm: rsaEncryption/);
    expect(printed.stdout).not.toMatch(/rsaesOaep|authEnvelopedData/);
  });

  it('openssl smime -decrypt opens it; openssl smime -verify verifies the result; qerds verify the evidence inside', async () => {
    const decrypted = spawnSync(
      'openssl',
      [
        'smime',
        '-decrypt',
        '-in',
        file('mail.eml'),
        '-inkey',
        alice.key,
        '-recip',
        alice.cert,
        '-out',
        file('signed.eml'),
      ],
      { encoding: 'utf8' },
    );
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(readFileSync(file('signed.eml'), 'latin1')).toMatch(
      /^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"/,
    );
    const verified = spawnSync(
      'openssl',
      ['smime', '-verify', '-CAfile', pki.caCert, '-in', file('signed.eml'), '-out', file('content.mime')],
      { encoding: 'utf8' },
    );
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/Verification successful/);
    const evidence = (await simpleParser(readFileSync(file('content.mime')))).attachments.find(
      (a) => a.filename === 'ContentHandover.xml',
    );
    expect(evidence).toBeDefined();
    writeFileSync(file('evidence.xml'), evidence!.content);
    const other = spawnSync(
      'openssl',
      ['smime', '-decrypt', '-in', file('mail.eml'), '-inkey', bob.key, '-recip', bob.cert],
      { encoding: 'utf8' },
    );
    expect(other.status).not.toBe(0);

    const result = await qerds('verify', file('evidence.xml'), ...trust);
    expect(result.stdout).toMatch(/^VALID\nevent: +ContentHandover /);
    expect(result.code).toBe(0);
  }, 60_000);

  it('qerds verify --decrypt-key/--decrypt-cert opens the CBC form; a changed ciphertext block or another key → INVALID', async () => {
    // One bit of the last ciphertext block flipped: CBC padding breaks, or the signature inside does (EFAIL).
    const text = readFileSync(file('mail.eml'), 'latin1');
    const bodyAt = text.indexOf('\r\n\r\n') + 4;
    const der = Buffer.from(text.slice(bodyAt).replace(/\s+/g, ''), 'base64');
    der[der.length - 20] = (der[der.length - 20] ?? 0) ^ 0x01;
    const folded = der.toString('base64').replace(/.{1,76}/g, '$&\r\n');
    writeFileSync(file('altered.eml'), Buffer.from(text.slice(0, bodyAt) + folded, 'latin1'));
    const keys = ['--decrypt-key', alice.key, '--decrypt-cert', alice.cert];
    const [noKey, withKey, altered, otherKey] = await Promise.all([
      qerds('verify', file('mail.eml'), ...trust),
      qerds('verify', file('mail.eml'), ...trust, ...keys),
      qerds('verify', file('altered.eml'), ...trust, ...keys),
      qerds('verify', file('mail.eml'), ...trust, '--decrypt-key', bob.key, '--decrypt-cert', bob.cert),
    ]);
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/REM_ENCRYPTED: the message is encrypted for serial [0-9a-f]+ of C=JP/);
    expect(withKey.stdout, withKey.stderr).toMatch(/^VALID: REM message \(Dispatch\)/);
    expect(withKey.stdout).toContain('encrypted: aes256-cbc with rsaes-pkcs1-v1_5');
    expect(withKey.stdout).toContain('REM headers: signed copies match');
    expect(withKey.code).toBe(0);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(/^INVALID: REM message/);
    // CBC has no integrity of its own: a changed block decrypts to garbage (and flips bits in the next), so what
    // breaks depends on where the block falls — the padding, the MIME structure, or the signed bytes.
    expect(altered.stdout).toMatch(/REM_DECRYPT_FAILED|REM_SIGNATURE_INVALID|REM_MALFORMED/);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stdout).toContain('not for the certificate given');
  }, 90_000);
});
