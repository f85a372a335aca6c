import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { loadConfig } from '../../src/config/index.js';
import { parseEvidenceXml } from '../../src/evidence/index.js';
import { devPkiLayout, revokeCertificate } from '../../src/pki/index.js';
import { makeCertificate, submissionBody } from '../helpers/identification.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * REQ2 at C2: the recipient's encryption certificate that the directory names is trust-checked before C2
 * encrypts for it (trust anchor, validity, CRL, key usage), and the policy `policy.endToEnd` refuses
 * plaintext relaying for the recipients it names. Each refusal is a 422 problem+json, a stored
 * SubmissionRejection (RA05) saying why, and no relay job; the pre-send check says why too.
 */

const work = mkdtempSync(join(tmpdir(), 'qerds-enc-trust-'));
const pkiDir = join(work, 'pki');
const SENDER = { id: '0188:1111111111111', key: 'enc-trust-sender-key-0123456789' };
const NOWHERE = 'http://127.0.0.1:9/as4';
let ap: AccessPoint;

const recipients = {
  good: '0188:2000000000001',
  expired: '0188:2000000000002',
  untrusted: '0188:2000000000003',
  signingOnly: '0188:2000000000004',
  revoked: '0188:2000000000005',
  noCertificate: '0188:2000000000006',
  noCertificateFree: '0188:2000000000007',
};

beforeAll(async () => {
  await devTestPki(pkiDir);
  const pki = devPkiLayout(pkiDir);
  const certs = join(work, 'certs');
  mkdirSync(certs);
  const good = makeCertificate(pki, certs, 'good', '/C=JP/O=Recipient/CN=good encryption', {
    usage: 'encryption',
  });
  const expired = makeCertificate(pki, certs, 'expired', '/C=JP/O=Recipient/CN=expired encryption', {
    usage: 'encryption',
    expired: true,
  });
  const untrusted = makeCertificate(pki, certs, 'untrusted', '/C=JP/O=Recipient/CN=self-signed encryption', {
    usage: 'encryption',
    selfSigned: true,
  });
  const signingOnly = makeCertificate(pki, certs, 'signing', '/C=JP/O=Recipient/CN=signing only', {
    usage: 'seal',
  });
  const revoked = makeCertificate(pki, certs, 'revoked', '/C=JP/O=Recipient/CN=revoked encryption', {
    usage: 'encryption',
  });
  await revokeCertificate(
    pki,
    readFileSync(revoked.cert, 'utf8'),
    'keyCompromise',
    new Date(Date.now() - 60_000),
  );
  const entry = (id: string, encryptionCertificate?: string) => ({
    id,
    name: `recipient ${id}`,
    endpoint: NOWHERE,
    encryptionCertificate,
  });
  ap = await createAccessPoint(
    loadConfig({
      env: {},
      baseDir: work,
      overrides: {
        http: { port: 0 },
        store: { sqliteFile: join(work, 'c2.sqlite'), blobDir: join(work, 'blobs') },
        pki: { dir: pkiDir, apName: 'c2' },
        log: { level: 'silent' },
        relay: { maxAttempts: 1 },
        directory: {
          participants: [
            entry(recipients.good, good.cert),
            entry(recipients.expired, expired.cert),
            entry(recipients.untrusted, untrusted.cert),
            entry(recipients.signingOnly, signingOnly.cert),
            entry(recipients.revoked, revoked.cert),
            entry(recipients.noCertificate),
            entry(recipients.noCertificateFree),
          ],
        },
        apiKeys: [{ key: SENDER.key, participant: SENDER.id, name: 'Sender' }],
        policy: { endToEnd: { recipients: [recipients.noCertificate] } },
      },
    }),
  );
  await ap.start();
}, 60_000);
afterAll(() => ap?.stop());

/** A JSON answer read loosely: the assertions say what it must hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

async function submit(recipient: string) {
  const { body, contentType } = await submissionBody({ recipient }, '<Invoice>confidential</Invoice>');
  const response = await fetch(`${ap.url}/api/v1/messages`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': contentType, authorization: `Bearer ${SENDER.key}` },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Json,
  };
}

async function lookup(recipient: string) {
  const response = await fetch(`${ap.url}/api/v1/recipients/${recipient}`, {
    headers: { authorization: `Bearer ${SENDER.key}` },
  });
  return (await response.json()) as Json;
}

describe('recipient encryption certificate trust check (REQ2) at C2', () => {
  const refusals: [string, string, RegExp][] = [
    ['expired', recipients.expired, /PKI_CERT_EXPIRED/],
    ['not issued by a trusted CA', recipients.untrusted, /PKI_PATH_NOT_FOUND/],
    ['without keyEncipherment/keyAgreement usage', recipients.signingOnly, /PKI_KEY_USAGE_NOT_ENCRYPTION/],
    ['revoked (CRL of the trust store)', recipients.revoked, /PKI_CERT_REVOKED/],
  ];

  it.each(refusals)(
    'refuses a submission for a certificate %s: 422 problem, SubmissionRejection RA05, no relay',
    async (_name, recipient, finding) => {
      const answer = await submit(recipient);
      expect(answer.status).toBe(422);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA05' });
      expect(answer.body.detail).toMatch(finding);
      const stored = await accessPointInternals(ap).context.store.getMessage(answer.body.message.id);
      expect(stored?.state).toBe('rejected');
      // Nothing was encrypted for the bad certificate: the stored part is the plaintext as submitted.
      expect(stored?.parts[0]?.plaintextSha256).toBeUndefined();
      const evidence = await accessPointInternals(ap).context.store.listEvidence(answer.body.message.id);
      expect(evidence.map((e) => e.event)).toEqual(['SubmissionRejection']);
      const data = parseEvidenceXml(evidence[0]!.xml);
      expect(evidence[0]!.xml).toContain('http://uri.etsi.org/19522/EventReason/S_ERDS_PolicyViolation');
      expect(data.reason).toMatchObject({ code: 'RA05', details: expect.stringMatching(finding) });
      // No job was ever queued for it (completed jobs are deleted, but AUTOINCREMENT ids are never reused:
      // the outbox holds no row for the message and the message never left `rejected`).
      const db = new Database(join(work, 'c2.sqlite'), { readonly: true });
      try {
        expect(db.prepare('select count(*) as n from outbox where message_id = ?').get(stored!.id)).toEqual({
          n: 0,
        });
      } finally {
        db.close();
      }
    },
  );

  it.each(refusals)(
    'says why in the pre-send check (GET /api/v1/recipients) for a certificate %s',
    async (_name, recipient, finding) => {
      const check = await lookup(recipient);
      expect(check.verdict).toBe('untrusted');
      expect(check.encryptionCertificate.trusted).toBe(false);
      expect(check.grounds.join('\n')).toMatch(finding);
    },
  );

  it('accepts and encrypts for a certificate that chains, is valid and is an encryption key', async () => {
    const answer = await submit(recipients.good);
    expect(answer.status).toBe(201);
    expect(answer.body.parts[0]).toMatchObject({
      contentType: 'application/pkcs7-mime; smime-type=authEnveloped-data',
    });
    expect((await lookup(recipients.good)).verdict).toBe('reachable');
  });
});

describe('require-E2E policy (policy.endToEnd)', () => {
  it('refuses plaintext for a recipient the policy names when no encryption certificate is known', async () => {
    const answer = await submit(recipients.noCertificate);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA05' });
    expect(answer.body.detail).toMatch(/end-to-end encryption is required/);
    const evidence = await accessPointInternals(ap).context.store.listEvidence(answer.body.message.id);
    expect(evidence.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(evidence[0]!.xml).toMatch(/end-to-end encryption is required/);
  });

  it('relays plaintext as before for a recipient the policy does not name', async () => {
    const answer = await submit(recipients.noCertificateFree);
    expect(answer.status).toBe(201);
    expect(answer.body.parts[0].contentType).toBe('application/xml');
  });
});
