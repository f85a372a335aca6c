import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemoteSealSigners } from '../../src/access-point/remote-seal-binding.js';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { isQerdsError } from '../../src/core/errors.js';
import { decryptCms } from '../../src/crypto/index.js';
import { parseEvidenceXml } from '../../src/evidence/index.js';
import { createSoftHsmSealToken, devPkiLayout, type SoftHsmSealResult } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Forwarded use, for a sender without its own tooling: C2 holds the sender's e-seal key in a
 * PKCS#11 token (softhsm2, token store in a temp dir) and seals the sender's unsealed content with it before
 * encrypting it end to end. C4 picks the content up at C3, decrypts it, and the seal verifies with xmlsec1
 * (XAdES) and `openssl cms -verify` (CAdES) alone, against the dev CA: no AP is needed to prove the origin.
 */

const work = mkdtempSync(join(tmpdir(), 'qerds-remote-seal-'));
const pkiDir = join(work, 'pki');
const PIN = 'remote-seal-pin-4711';
const PIN_ENV = 'QERDS_SENDER_SEAL_PIN';
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const INVOICE = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"><cbc:ID>INV-2026-000777</cbc:ID><cbc:IssueDate>2026-11-24</cbc:IssueDate><cbc:PayableAmount currencyID="JPY">110000</cbc:PayableAmount></Invoice>`;
const RECEIPT = Buffer.concat([
  Buffer.from('%PDF-1.7\n% expense receipt\n'),
  Buffer.from([0, 1, 2, 0xff, 0xfe]),
  Buffer.from('\n%%EOF\n'),
]);

let token: SoftHsmSealResult;

/** C2's config for the sender: an account with its API key and its remote e-seal in the token. */
function senderAccount(pinEnv = PIN_ENV) {
  return {
    participant: SENDER.id,
    name: SENDER.name,
    credentials: [{ kind: 'apiKey' as const, keySha256: sha256(SENDER.key) }],
    remoteSeal: {
      pkcs11: { module: token.module, tokenLabel: 'sender-seal', keyLabel: 'sender-seal-key', pinEnv },
      certificate: token.certificateFile,
    },
  };
}

beforeAll(async () => {
  await devTestPki(pkiDir);
  token = await createSoftHsmSealToken({
    pkiDir,
    dir: join(work, 'softhsm'),
    sender: SENDER.id,
    tokenLabel: 'sender-seal',
    keyLabel: 'sender-seal-key',
    pin: PIN,
    soPin: 'so-pin-4711',
  });
}, 60_000);

describe('remote e-seal on the sender’s behalf, key in a softhsm2 token', () => {
  let net: TwoAccessPoints;
  let messageId = '';
  const delivered = new Map<string, { contentType: string; bytes: Buffer }>();
  const alice = devPkiLayout(pkiDir).recipient('alice');

  beforeAll(async () => {
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      recipientEncryptionCertificate: alice.cert,
      overrides: (name) => (name === 'c2' ? { accounts: [senderAccount()] } : {}),
      env: { [PIN_ENV]: PIN },
    });
    const form = new FormData();
    form.set(
      'metadata',
      JSON.stringify({
        recipient: RECIPIENT.id,
        subject: 'Invoice and receipt, sealed by C2 for the sender',
      }),
    );
    form.append('payload', new Blob([INVOICE], { type: 'application/xml' }), 'invoice.xml');
    form.append('payload', new Blob([new Uint8Array(RECEIPT)], { type: 'application/pdf' }), 'receipt.pdf');
    const submitted = await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    messageId = String(submitted.id);

    // C4 picks both parts up at C3 (E2E ciphertext for alice) and decrypts them with alice's key.
    const item = await waitFor(
      async () => {
        const inbox = await api<
          Array<{ id: string; parts: Array<{ partId: string; originalContentType?: string }> }>
        >(net.c3.url, RECIPIENT.key, '/api/v1/inbox');
        return inbox.find((m) => m.parts.length === 2);
      },
      { timeoutMs: 40_000, what: 'the message in C4’s inbox' },
    );
    const privateKey = createPrivateKey(readFileSync(alice.key));
    const certificate = new X509Certificate(readFileSync(alice.cert));
    for (const part of item.parts) {
      const response = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${part.partId}`, {
        headers: { authorization: `Bearer ${RECIPIENT.key}` },
      });
      expect(response.status).toBe(200);
      const ciphertext = Buffer.from(await response.arrayBuffer());
      delivered.set(part.partId, {
        contentType: part.originalContentType ?? '',
        bytes: decryptCms(ciphertext, { privateKey, certificate }),
      });
    }
  }, 90_000);
  afterAll(() => net?.stop());

  it('the delivered XML invoice carries the sender’s XAdES seal, which xmlsec1 verifies alone against the dev CA', () => {
    const xml = [...delivered.values()].find((p) => p.contentType === 'application/xml');
    expect(xml).toBeDefined();
    const text = xml!.bytes.toString('utf8');
    expect(text).toContain('INV-2026-000777');
    expect(text).toContain('SignatureTimeStamp');
    const verdict = xmlsecVerify(text, devPkiLayout(pkiDir).caCert);
    expect(verdict.output).toContain('OK');
    expect(verdict.ok).toBe(true);
    // Signed with the sender's token certificate, not with C2's own e-seal.
    const signer = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(text)![1]!;
    expect(new X509Certificate(Buffer.from(signer, 'base64')).fingerprint256).toBe(
      token.certificate.fingerprint256,
    );
    // Changed after sealing, it no longer verifies.
    expect(xmlsecVerify(text.replace('110000', '990000'), devPkiLayout(pkiDir).caCert).ok).toBe(false);
  });

  it('the delivered receipt is an enveloping CAdES that openssl cms -verify checks alone and opens to the original bytes', () => {
    const p7m = [...delivered.values()].find((p) => p.contentType.startsWith('application/pkcs7-mime'));
    expect(p7m?.contentType).toBe('application/pkcs7-mime; smime-type=signed-data');
    const dir = mkdtempSync(join(tmpdir(), 'qerds-remote-seal-cms-'));
    writeFileSync(join(dir, 'receipt.pdf.p7m'), p7m!.bytes);
    const r = spawnSync('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      join(dir, 'receipt.pdf.p7m'),
      '-CAfile',
      devPkiLayout(pkiDir).caCert,
      '-purpose',
      'any',
      '-out',
      join(dir, 'receipt.pdf'),
    ]);
    expect(`${r.stdout}${r.stderr}`).toContain('Verification successful');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'receipt.pdf')).equals(RECEIPT)).toBe(true);
    const signer = spawnSync(
      'openssl',
      ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'receipt.pdf.p7m')],
      { encoding: 'utf8' },
    ).stdout;
    expect(signer).toContain('remote e-seal of 0188:1234567890123');
  });

  it('SubmissionAcceptance records that C2 sealed each part on the sender’s behalf, with which certificate, over which bytes', async () => {
    const chain = await api<Array<{ event: string; href: string }>>(
      net.c2.url,
      SENDER.key,
      `/api/v1/messages/${messageId}/evidence`,
    );
    const acceptance = chain.find((e) => e.event === 'SubmissionAcceptance')!;
    const data = parseEvidenceXml(await apiText(net.c2.url, SENDER.key, acceptance.href));
    const certificateSha256 = sha256(token.certificate.raw);
    const byFormat = new Map(data.parts.map((p) => [p.sealedOnBehalf?.format, p]));
    expect(byFormat.get('XAdES')?.sealedOnBehalf).toEqual({
      format: 'XAdES',
      submittedSha256: sha256(INVOICE),
      certificateSha256,
    });
    expect(byFormat.get('CAdES')?.sealedOnBehalf).toEqual({
      format: 'CAdES',
      submittedSha256: sha256(RECEIPT),
      certificateSha256,
    });
    // The plaintext digest the evidence binds is that of the sealed content C4 decrypted.
    const sealedDigests = [...delivered.values()].map((p) => sha256(p.bytes)).sort();
    expect(data.parts.map((p) => p.plaintextSha256).sort()).toEqual(sealedDigests);
  });

  it('the key the AP seals with is not extractable and sensitive (attributes read from the token through PKCS#11)', async () => {
    const signers = await openRemoteSealSigners(net.c2.config.accounts, { [PIN_ENV]: PIN });
    try {
      expect(signers.get(SENDER.id)!.keyAttributes()).toEqual({
        extractable: false,
        sensitive: true,
        neverExtractable: true,
      });
    } finally {
      for (const s of signers.values()) s.close();
    }
  });
});

describe('a remote e-seal the AP cannot open', () => {
  it('a wrong PIN: the AP refuses to start, saying which sender and why', async () => {
    const err = await startTwoAccessPoints({
      outDir: join(work, 'wrong-pin'),
      pkiDir,
      overrides: (name) => (name === 'c2' ? { accounts: [senderAccount()] } : {}),
      env: { [PIN_ENV]: 'not-the-pin' },
    }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'PKI_PKCS11_PIN_INCORRECT')).toBe(true);
    expect((err as Error).message).toContain(`accounts[${SENDER.id}].remoteSeal`);
  });

  it('an unset PIN variable: the AP refuses to start', async () => {
    const err = await startTwoAccessPoints({
      outDir: join(work, 'no-pin'),
      pkiDir,
      overrides: (name) => (name === 'c2' ? { accounts: [senderAccount('QERDS_UNSET_PIN_VARIABLE')] } : {}),
      env: {},
    }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('QERDS_UNSET_PIN_VARIABLE');
  });
});
