import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { compressPayloads, decompressPayloads } from '../../src/as4/message/compression.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  anchorTrustStore,
  errorCodeOf,
  postAs4,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const xmlPayload = Buffer.from(
  `<?xml version="1.0"?>\n<doc>${'<line>compressible text</line>\n'.repeat(2000)}</doc>\n`,
);
const attachments: Attachment[] = [
  { contentId: 'xml@qerds', contentType: 'application/xml', body: xmlPayload },
  { contentId: 'bin@qerds', contentType: 'application/octet-stream', body: randomBytes(4096) },
];

let server: As4TestServer;
beforeAll(async () => {
  server = await startAs4Server({ identity: c3, trust, maxDecompressedBytes: 1_048_576 });
});
afterAll(() => server.close());

function signedCompressed(
  message = sampleMessage(`m-${randomBytes(4).toString('hex')}@qerds`, attachments),
  parts = attachments,
  corrupt?: (a: Attachment[]) => Attachment[],
) {
  const c = compressPayloads(message, parts);
  const sent = corrupt ? corrupt([...c.attachments]) : [...c.attachments];
  const doc = buildUserMessageEnvelope(c.message);
  signEnvelope(doc, sent, c2);
  return encodeMultipart(serializeAs4Xml(doc), sent);
}

describe('AS4 GZIP compression (AS4 profile §3.1)', () => {
  it('marks parts with CompressionType, keeps MimeType, and produces gzip that the system gzip tool inflates', () => {
    const message = sampleMessage('m-c@qerds', attachments);
    const c = compressPayloads(message, attachments);
    expect(c.attachments.map((a) => a.contentType)).toEqual(['application/gzip', 'application/gzip']);
    expect(c.message.payloads[0]!.mimeType).toBe('application/xml');
    expect(c.message.payloads[0]!.properties).toContainEqual({
      name: 'CompressionType',
      value: 'application/gzip',
    });
    expect(c.attachments[0]!.body.length).toBeLessThan(xmlPayload.length / 10);
    const dir = mkdtempSync(join(tmpdir(), 'qerds-gz-'));
    writeFileSync(join(dir, 'p.gz'), c.attachments[0]!.body);
    expect(execFileSync('gzip', ['-dc', join(dir, 'p.gz')]).equals(xmlPayload)).toBe(true);
  });

  it('inflates gzip made by the system gzip tool and restores the MimeType', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-gz-'));
    writeFileSync(join(dir, 'p'), xmlPayload);
    execFileSync('gzip', ['-9', join(dir, 'p')]);
    const body = readFileSync(join(dir, 'p.gz'));
    const message = compressPayloads(
      sampleMessage('m-c2@qerds', attachments.slice(0, 1)),
      attachments.slice(0, 1),
    ).message;
    const out = decompressPayloads(message, [
      { contentId: 'xml@qerds', contentType: 'application/gzip', body },
    ]);
    expect(out[0]!.contentType).toBe('application/xml');
    expect(out[0]!.body.equals(xmlPayload)).toBe(true);
  });

  it('refuses a decompression bomb while inflating (EBMS:0303), not after', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    const one: Attachment[] = [
      { contentId: 'bomb@qerds', contentType: 'application/octet-stream', body: Buffer.alloc(1) },
    ];
    const message = compressPayloads(sampleMessage('m-bomb@qerds', one), one).message;
    expect(() =>
      decompressPayloads(
        message,
        [{ contentId: 'bomb@qerds', contentType: 'application/gzip', body: bomb }],
        1_048_576,
      ),
    ).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0303', message: expect.stringContaining('inflates beyond') }),
    );
  });

  it('sends compressed over HTTP: the wire carries application/gzip parts, the receiver gets the original bytes and types', async () => {
    const message = sampleMessage('m-http-gzip@qerds', attachments);
    const result = await sendUserMessage({
      endpoint: server.endpoint,
      message,
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
      compress: true,
    });
    expect(result.httpStatus).toBe(200);
    const wire = server.wire.at(-1)!;
    const decoded = decodeMultipart(wire.contentType, wire.body);
    expect(decoded.attachments.map((a) => a.contentType)).toEqual(['application/gzip', 'application/gzip']);
    expect(decoded.envelope).toContain('<eb:Property name="CompressionType">application/gzip</eb:Property>');
    expect(decoded.envelope).toContain('<eb:Property name="MimeType">application/xml</eb:Property>');
    const got = server.received.find((r) => r.message.messageId === 'm-http-gzip@qerds')!;
    expect(got.attachments.map((a) => a.contentType)).toEqual([
      'application/xml',
      'application/octet-stream',
    ]);
    expect(got.attachments[0]!.body.equals(xmlPayload)).toBe(true);
    expect(got.attachments[1]!.body.equals(attachments[1]!.body)).toBe(true);
  });

  it('answers EBMS:0303 to a signed part that claims gzip but is not', async () => {
    const mime = signedCompressed(undefined, attachments, (a) => [
      { ...a[0]!, body: Buffer.from('not gzip at all') },
      a[1]!,
    ]);
    const { signal } = await postAs4(server.endpoint, mime.contentType, mime.body);
    expect(errorCodeOf(signal)).toBe('EBMS:0303');
  });

  it('answers EBMS:0303 to a signed bomb above the receiver limit', async () => {
    const one: Attachment[] = [
      {
        contentId: 'bomb@qerds',
        contentType: 'application/octet-stream',
        body: Buffer.alloc(8 * 1024 * 1024),
      },
    ];
    const mime = signedCompressed(sampleMessage('m-bomb-http@qerds', one), one);
    const { signal } = await postAs4(server.endpoint, mime.contentType, mime.body);
    expect(errorCodeOf(signal)).toBe('EBMS:0303');
    expect(server.received.some((r) => r.message.messageId === 'm-bomb-http@qerds')).toBe(false);
  });

  it('signs the compressed octets: one changed byte of the gzip part is EBMS:0101 before any inflation', async () => {
    const mime = signedCompressed(undefined, attachments);
    const body = Buffer.from(mime.body);
    const gz = body.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
    body[gz + 20] = body[gz + 20]! ^ 0xff;
    const { signal } = await postAs4(server.endpoint, mime.contentType, body);
    expect(errorCodeOf(signal)).toBe('EBMS:0101');
  });
});
