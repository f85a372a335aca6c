import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { definePMode, type Attachment } from '../../src/as4/index.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { compressPayloads } from '../../src/as4/message/compression.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { encryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  anchorTrustStore,
  errorCodeOf,
  opensslAs4v2Identities,
  postAs4,
  sampleMessage,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

/**
 * eDelivery AS4 2.0 crypto checked by an independent implementation: test/interop/edelivery2_peer.py
 * (Python standard library + pyca/cryptography, its own Exclusive C14N) opens what qerds-ap sends:
 * X25519 → HKDF-SHA256 → AES-128 key unwrap → AES-128-GCM per attachment, every ds:Reference digest
 * recomputed (eb:Messaging, Body, each attachment through the SwA content transform), the Ed25519
 * SignatureValue verified over its own canonical form of SignedInfo. And the reverse: the script builds a
 * signed and encrypted 2.0 message from scratch (its own XML, prefixes and MIME), which our endpoint accepts.
 */
const here = dirname(fileURLToPath(import.meta.url));
const pki = sharedTestPki();
const sender = opensslAs4v2Identities(pki, 'PyC2');
const receiver = opensslAs4v2Identities(pki, 'PyC3');

function sendToPython(attachments: Attachment[], tamper?: (mime: Buffer) => Buffer, compress = false) {
  const message = sampleMessage(`py-${randomBytes(4).toString('hex')}@qerds`, attachments);
  const payloads = compress ? compressPayloads(message, attachments) : { message, attachments };
  const doc = buildUserMessageEnvelope(payloads.message);
  signEnvelope(doc, payloads.attachments, sender.signing);
  const sent = encryptAttachments(doc, payloads.attachments, receiver.encryption.certificate);
  const mime = encodeMultipart(serializeAs4Xml(doc), sent);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-as4v2-py-'));
  writeFileSync(join(dir, 'message.mime'), tamper ? tamper(mime.body) : mime.body);
  const run = spawnSync(
    process.env.QERDS_PYTHON ?? 'python3',
    [
      join(here, 'edelivery2_peer.py'),
      'open',
      join(dir, 'message.mime'),
      mime.contentType,
      join(receiver.dir, 'enc.key.pem'),
      join(sender.dir, 'sig.crt.pem'),
      dir,
    ],
    { encoding: 'utf8' },
  );
  const report = JSON.parse(run.stdout || '{}') as {
    ok: boolean;
    signatureValid?: boolean;
    references?: Record<string, boolean>;
    decrypted?: Record<string, { sha256: string }>;
    error?: string;
  };
  return { status: run.status, stderr: run.stderr, report, dir, sent: payloads.attachments };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('eDelivery AS4 2.0: an independent Python receiver opens and verifies what qerds-ap sends', () => {
  const attachments: Attachment[] = [
    {
      contentId: 'doc@qerds',
      contentType: 'application/xml',
      body: Buffer.from('<?xml version="1.0"?>\n<doc a="1"   b="2">for <b>C3</b> only</doc>\n'),
    },
    { contentId: 'note@qerds', contentType: 'text/plain', body: Buffer.from('line one\nline two\n') },
    { contentId: 'bin@qerds', contentType: 'application/octet-stream', body: randomBytes(70_000) },
  ];

  it('derives the key (X25519 + HKDF + kw-aes128), decrypts every attachment, recomputes every digest and verifies Ed25519', () => {
    const { status, stderr, report, dir } = sendToPython(attachments);
    expect(status, `${stderr}\n${JSON.stringify(report)}`).toBe(0);
    expect(report.signatureValid).toBe(true);
    expect(Object.keys(report.references!)).toHaveLength(2 + attachments.length);
    expect(Object.values(report.references!).every(Boolean)).toBe(true);
    for (const a of attachments) {
      expect(readFileSync(join(dir, a.contentId)).equals(a.body)).toBe(true);
      expect(report.decrypted![a.contentId]!.sha256).toBe(sha256(a.body));
    }
  });

  it('also with GZIP compression (the digests cover the compressed octets)', () => {
    const { status, report, sent } = sendToPython(attachments.slice(2), undefined, true);
    expect(status, JSON.stringify(report)).toBe(0);
    expect(report.decrypted!['bin@qerds']!.sha256).toBe(sha256(sent[0]!.body));
  });

  it('one flipped ciphertext byte fails AES-GCM authentication; a changed header fails its digest', () => {
    const flipped = sendToPython(attachments.slice(2), (mime) => {
      const copy = Buffer.from(mime);
      const at = copy.length - 200;
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    });
    expect(flipped.status).toBe(1);
    expect(flipped.report.error).toMatch(/InvalidTag/);
    const changed = sendToPython(attachments.slice(2), (mime) =>
      Buffer.from(
        mime.toString('latin1').replace('<eb:Action>Deliver</eb:Action>', '<eb:Action>Delivex</eb:Action>'),
        'latin1',
      ),
    );
    expect(changed.status).toBe(1);
    expect(Object.values(changed.report.references!).filter((ok) => !ok)).toHaveLength(1);
    expect(changed.report.signatureValid).toBe(true);
  });
});

describe('eDelivery AS4 2.0: qerds-ap accepts a message the independent Python sender built from scratch', () => {
  const pmode = definePMode({
    id: 'v2-py',
    service: 'urn:qerds:service:erds',
    serviceType: 'urn:qerds:services',
    action: 'Deliver',
    security: { algorithmSet: 'edelivery-2.0', encrypt: true },
  });
  let server: As4TestServer | undefined;
  afterAll(() => server?.close());

  const build = (id: string, files: Buffer[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-as4v2-pyb-'));
    const paths = files.map((body, i) => {
      writeFileSync(join(dir, `in-${i}`), body);
      return join(dir, `in-${i}`);
    });
    const run = spawnSync(
      process.env.QERDS_PYTHON ?? 'python3',
      [
        join(here, 'edelivery2_peer.py'),
        'build',
        join(sender.dir, 'sig.key.pem'),
        join(sender.dir, 'sig.crt.pem'),
        join(receiver.dir, 'enc.crt.pem'),
        id,
        dir,
        ...paths,
      ],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    return {
      body: readFileSync(join(dir, 'message.mime')),
      contentType: readFileSync(join(dir, 'content-type'), 'utf8'),
    };
  };

  it('verifies the Ed25519 signature, unwraps the X25519/HKDF key, decrypts, delivers and answers with a signed receipt', async () => {
    server = await startAs4Server({
      identity: receiver.signing,
      decryptionKeys: [receiver.encryption],
      trust: anchorTrustStore(pki.caCert),
      pmodes: [pmode],
    });
    const files = [randomBytes(30_000), Buffer.from('plain bytes from python\n')];
    const mime = build('from-python@qerds', files);
    const answer = await postAs4(server.endpoint, mime.contentType, mime.body);
    expect(answer.status, answer.xml).toBe(200);
    expect(answer.signal.kind).toBe('receipt');
    const got = server.received.find((r) => r.message.messageId === 'from-python@qerds')!;
    expect(got.signer.subject).toMatch(/PyC2 Ed25519/);
    expect(got.attachments.map((a) => a.body.toString('hex'))).toEqual(files.map((f) => f.toString('hex')));
  });

  it('refuses the same Python message with one ciphertext byte changed (EBMS:0102) or the Action changed after signing (EBMS:0101)', async () => {
    server ??= await startAs4Server({
      identity: receiver.signing,
      decryptionKeys: [receiver.encryption],
      trust: anchorTrustStore(pki.caCert),
      pmodes: [pmode],
    });
    const mime = build('from-python-bad@qerds', [randomBytes(5_000)]);
    const flipped = Buffer.from(mime.body);
    const at = flipped.length - 100;
    flipped[at] = flipped[at]! ^ 0x01;
    expect(errorCodeOf((await postAs4(server.endpoint, mime.contentType, flipped)).signal)).toBe('EBMS:0102');
    const changed = Buffer.from(
      mime.body
        .toString('latin1')
        .replace('<eb3:Action>Deliver</eb3:Action>', '<eb3:Action>Delivex</eb3:Action>'),
      'latin1',
    );
    expect(errorCodeOf((await postAs4(server.endpoint, mime.contentType, changed)).signal)).toBe('EBMS:0101');
    expect(server.received.some((r) => r.message.messageId === 'from-python-bad@qerds')).toBe(false);
  });
});
