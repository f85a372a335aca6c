import { execFileSync } from 'node:child_process';
import { createDecipheriv, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { ACTION_DISPATCH, ERDS_SERVICE } from '../../src/profiles/index.js';
import { sendUserMessage, verifyAs4Capture, type Attachment, type UserMessage } from '../../src/as4/index.js';
import { ALG as AS4_ALG } from '../../src/as4/model/namespaces.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { GZIP_MEDIA_TYPE } from '../../src/as4/message/compression.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { loadConfig } from '../../src/config/index.js';
import { isQerdsError } from '../../src/core/index.js';
import { devPkiLayout, loadSigningIdentity } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';
import { capturingProxy, httpMessages } from '../helpers/capturing-proxy.js';

/**
 * The access points' AS4 security with encryption on (secure by default): what C2 puts on the
 * wire between the APs (captured by a TCP proxy in front of C3) and what C3's /as4 endpoint refuses.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-as4sec-'));
const pkiDir = join(work, 'pki');
const MARKER = `PLAINTEXT-MARKER-${randomBytes(6).toString('hex')}`;

function dispatchMessage(overrides: { service?: string } = {}): {
  message: UserMessage;
  attachments: Attachment[];
} {
  const messageId = `${randomBytes(8).toString('hex')}@as4-security.test`;
  const attachments: Attachment[] = [
    {
      contentId: 'part-1@test',
      contentType: 'text/plain',
      body: Buffer.from(`${MARKER} sent by the test itself\n`),
    },
  ];
  return {
    attachments,
    message: {
      messageId,
      timestamp: new Date(),
      from: {
        partyId: 'urn:qerds-ap:ap:c2',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
      },
      to: {
        partyId: 'urn:qerds-ap:ap:c3',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
      },
      collaboration: {
        service: overrides.service ?? ERDS_SERVICE,
        action: ACTION_DISPATCH,
        conversationId: messageId,
      },
      messageProperties: [
        { name: 'originalSender', value: SENDER.id, type: 'urn:qerds-ap:participant-id' },
        { name: 'finalRecipient', value: RECIPIENT.id, type: 'urn:qerds-ap:participant-id' },
      ],
      payloads: [
        { href: 'cid:part-1@test', mimeType: 'text/plain', properties: [{ name: 'PartId', value: 'body' }] },
      ],
    },
  };
}

beforeAll(async () => {
  await devTestPki(pkiDir);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('two access points with AS4 encryption on (default P-Modes)', () => {
  let net: TwoAccessPoints;
  let proxy: Awaited<ReturnType<typeof capturingProxy>>;
  const dev = () => devPkiLayout(pkiDir);
  const storedAtC3 = async (ebmsMessageId: string) =>
    (await accessPointInternals(net.c3).context.store.listMessages({ limit: 1000 })).some(
      (m) => m.ebmsMessageId === ebmsMessageId,
    );

  beforeAll(async () => {
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      // C2 reaches C3 through the capturing proxy; C3 reaches C2 directly.
      as4Endpoint: async (name, endpoint) => {
        if (name === 'c2') return endpoint;
        proxy = await capturingProxy(Number(new URL(endpoint).port));
        return `http://127.0.0.1:${proxy.port}/as4`;
      },
    });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
    proxy?.server.close();
  });

  it('a relayed message is GZIP-compressed and encrypted on the wire, and still delivered', async () => {
    const payload = Buffer.from(`<Invoice>${MARKER.repeat(50)}</Invoice>\n`);
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'wire check' }));
    form.append('payload', new Blob([new Uint8Array(payload)], { type: 'application/xml' }), 'invoice.xml');
    const submitted = await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    const relayed = await waitFor(
      async () => {
        const m = await accessPointInternals(net.c2).context.store.getMessage(String(submitted.id));
        return m && !['submitted', 'relaying'].includes(m.state) ? m : undefined;
      },
      { what: 'the relay receipt' },
    );
    expect(relayed.state).not.toBe('failed');

    // C4 gets the plaintext at C3: what was encrypted on the wire was decrypted and inflated there.
    const inbox = await api<Array<{ id: string; parts: Array<{ partId: string }> }>>(
      net.c3.url,
      RECIPIENT.key,
      '/api/v1/inbox',
    );
    const item = inbox.find((m) => m.parts.length > 0)!;
    const handed = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(Buffer.from(await handed.arrayBuffer()).equals(payload)).toBe(true);

    const wire = Buffer.concat(proxy.sent.flat());
    expect(wire.length).toBeGreaterThan(1000);
    expect(wire.includes(MARKER)).toBe(false);
    const requests = proxy.sent.flatMap((c) => httpMessages(Buffer.concat(c)));
    const request = requests.find((r) => r.body.includes(relayed.ebmsMessageId))!;
    expect(request.head).toMatch(/^POST \/as4 HTTP\/1\.1\r\n/);

    // Independent check of the wire format: openssl unwraps the content key (RSA-OAEP, SHA-256, MGF1-SHA-256)
    // with C3's encryption key; AES-128-GCM over IV ‖ ciphertext ‖ tag; gzip -d inflates the result.
    const mime = decodeMultipart(request.contentType, request.body);
    expect(mime.envelope).toContain(`Algorithm="${AS4_ALG.rsaOaep}"`);
    expect(mime.envelope).toContain(`Algorithm="${AS4_ALG.aes128Gcm}"`);
    expect(mime.envelope).toContain(`<eb:Property name="CompressionType">${GZIP_MEDIA_TYPE}</eb:Property>`);
    expect(mime.attachments).toHaveLength(1);
    expect(mime.attachments[0]!.contentType).toBe('application/octet-stream');
    const wrappedKey = /<xenc:EncryptedKey[\s\S]*?<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/.exec(
      mime.envelope,
    )![1]!;
    writeFileSync(join(work, 'ek.bin'), Buffer.from(wrappedKey, 'base64'));
    const cek = execFileSync('openssl', [
      'pkeyutl',
      '-decrypt',
      '-inkey',
      dev().ap('c3').encKey,
      '-in',
      join(work, 'ek.bin'),
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha256',
      '-pkeyopt',
      'rsa_mgf1_md:sha256',
    ]);
    expect(cek).toHaveLength(16);
    const sealed = mime.attachments[0]!.body;
    const decipher = createDecipheriv('aes-128-gcm', cek, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const gzipped = Buffer.concat([
      decipher.update(sealed.subarray(12, sealed.length - 16)),
      decipher.final(),
    ]);
    expect(gzipped.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(execFileSync('gzip', ['-dc'], { input: gzipped }).equals(payload)).toBe(true);

    // The capture verifies as an AS4 exchange: signed by C2, payload compressed and encrypted.
    const c3Key = loadSigningIdentity(dev().ap('c3').encCert, dev().ap('c3').encKey);
    const report = verifyAs4Capture(request.raw, {
      trust: accessPointInternals(net.c2).trust,
      expectedCertificate: accessPointInternals(net.c2).identity.certificate,
      decryptionKeys: [c3Key],
    });
    expect(report.verdict, JSON.stringify(report.findings)).toBe('VALID');
    expect(report.payloads).toEqual([expect.objectContaining({ compressed: true, encrypted: true })]);
  }, 60_000);

  it('C3 refuses a signed but unencrypted UserMessage with EBMS:0103 and stores nothing', async () => {
    const { message, attachments } = dispatchMessage();
    const error = await sendUserMessage({
      endpoint: `${net.c3.url}/as4`,
      message,
      attachments,
      identity: accessPointInternals(net.c2).identity,
      trust: accessPointInternals(net.c2).trust,
      compress: true,
    }).catch((e: unknown) => e);
    expect(isQerdsError(error, 'AS4_EBMS_0103'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/not encrypted/);
    expect(await storedAtC3(message.messageId)).toBe(false);
  });

  it('C3 refuses a message encrypted for another key with EBMS:0102 and stores nothing', async () => {
    const { message, attachments } = dispatchMessage();
    const c2Cert = new X509Certificate(readFileSync(dev().ap('c2').encCert));
    const error = await sendUserMessage({
      endpoint: `${net.c3.url}/as4`,
      message,
      attachments,
      identity: accessPointInternals(net.c2).identity,
      trust: accessPointInternals(net.c2).trust,
      encryptFor: c2Cert,
    }).catch((e: unknown) => e);
    expect(isQerdsError(error, 'AS4_EBMS_0102'), String(error)).toBe(true);
    expect(await storedAtC3(message.messageId)).toBe(false);
  });

  it('C3 refuses a service no P-Mode names with EBMS:0010, even encrypted', async () => {
    const { message, attachments } = dispatchMessage({ service: 'urn:example:service:other' });
    const c3Cert = new X509Certificate(readFileSync(dev().ap('c3').encCert));
    const error = await sendUserMessage({
      endpoint: `${net.c3.url}/as4`,
      message,
      attachments,
      identity: accessPointInternals(net.c2).identity,
      trust: accessPointInternals(net.c2).trust,
      encryptFor: c3Cert,
      compress: true,
    }).catch((e: unknown) => e);
    expect(isQerdsError(error, 'AS4_EBMS_0010'), String(error)).toBe(true);
    expect(await storedAtC3(message.messageId)).toBe(false);
  });

  it('the same message, compressed and encrypted for C3, is accepted with a receipt and stored (control)', async () => {
    const { message, attachments } = dispatchMessage();
    const c3Cert = new X509Certificate(readFileSync(dev().ap('c3').encCert));
    const result = await sendUserMessage({
      endpoint: `${net.c3.url}/as4`,
      message,
      attachments,
      identity: accessPointInternals(net.c2).identity,
      trust: accessPointInternals(net.c2).trust,
      encryptFor: c3Cert,
      compress: true,
    });
    expect(result.receipt.refToMessageId).toBe(message.messageId);
    expect(await storedAtC3(message.messageId)).toBe(true);
  });
});

describe('a sending AP whose directory names no AS4 encryption certificate for the peer', () => {
  let ap: AccessPoint;
  beforeAll(async () => {
    ap = await createAccessPoint(
      loadConfig({
        env: {},
        overrides: {
          ap: { id: devApId('c2'), name: 'no-enc-cert C2' },
          http: { port: 0 },
          store: { sqliteFile: join(work, 'lone', 'qerds.sqlite'), blobDir: join(work, 'lone', 'blobs') },
          pki: { dir: pkiDir, apName: 'c2' },
          queue: { pollIntervalMs: 50 },
          relay: { baseDelayMs: 50, maxDelayMs: 100 },
          directory: {
            participants: [
              {
                id: SENDER.id,
                name: SENDER.name,
                endpoint: 'http://127.0.0.1:9/as4',
                apEncryptionCertificate: devPkiLayout(pkiDir).ap('c2').encCert,
              },
              // Port 9 (discard): nothing listens. The send must fail before any connection is tried.
              { id: RECIPIENT.id, name: RECIPIENT.name, endpoint: 'http://127.0.0.1:9/as4' },
            ],
          },
          apiKeys: [{ key: SENDER.key, participant: SENDER.id, name: SENDER.name }],
        },
      }),
      { logger: pino({ level: 'silent' }) },
    );
    await ap.start();
  }, 30_000);
  afterAll(async () => ap?.stop());

  it('fails the relay for good with RelayFailure (RB02) after one attempt, nothing sent in plaintext', async () => {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob([MARKER], { type: 'text/plain' }), 'note.txt');
    const submitted = await api(ap.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    const failed = await waitFor(
      async () => {
        const m = await accessPointInternals(ap).context.store.getMessage(String(submitted.id));
        return m?.state === 'failed' ? m : undefined;
      },
      { what: 'the relay failure' },
    );
    expect(failed.lastError).toBe('RB02');
    expect(failed.attempts).toBe(1);
    const chain = await api<Array<{ event: string }>>(
      ap.url,
      SENDER.key,
      `/api/v1/messages/${String(submitted.id)}/evidence`,
    );
    expect(chain.map((e) => e.event)).toEqual(['SubmissionAcceptance', 'RelayFailure']);
  }, 30_000);
});
