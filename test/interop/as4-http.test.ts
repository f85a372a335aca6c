import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/index.js';
import { createAs4Handler, sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import type { ReceivedUserMessage } from '../../src/as4/model/types.js';
import { sharedTestPki, foreignTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity, wrapSignedMessaging } from './as4-helpers.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const payload = randomBytes(1024);
const attachments: Attachment[] = [
  { contentId: 'payload-1@qerds', contentType: 'application/octet-stream', body: payload },
];

let server: Server;
let endpoint: string;
/** Beside `endpoint`: the same handler behind a server that drops the connection of its next `drops` requests unanswered. */
let droppingEndpoint: string;
let droppingServer: Server;
let drops = 0;
let dropped = 0;
let received: ReceivedUserMessage[] = [];
let failWith: Error | undefined;

let app: express.Express;
/** A PKI the trust store does not know; made once here, as openssl takes seconds on a loaded machine. */
let foreignPki: ReturnType<typeof foreignTestPki>;
beforeAll(async () => {
  foreignPki = foreignTestPki();
  app = express();
  app.post(
    '/as4',
    createAs4Handler({
      identity: c3,
      trust,
      maxMessageBytes: 64 * 1024,
      onUserMessage: async (r) => {
        if (failWith) throw failWith;
        received.push(r);
      },
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
  droppingServer = createServer((req, res) => {
    if (drops > 0) {
      drops -= 1;
      dropped += 1;
      // What a keep-alive socket the server closed just as the client reused it looks like: no answer at all.
      req.socket.destroy();
      return;
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => droppingServer.listen(0, '127.0.0.1', resolve));
  droppingEndpoint = `http://127.0.0.1:${(droppingServer.address() as AddressInfo).port}/as4`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => droppingServer.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  failWith = undefined;
  drops = 0;
  dropped = 0;
});

/** POST raw bytes and return the parsed answer (which must be a signal signed by C3). */
async function post(contentType: string, body: Buffer) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
  });
  const xml = await res.text();
  expect(res.headers.get('content-type')).toMatch(/^application\/soap\+xml/);
  const doc = parseAs4Xml(xml);
  expect(verifyEnvelope(doc, [], { trust, expectedCertificate: c3.certificate }).valid).toBe(true);
  return { status: res.status, signal: parseEnvelope(doc) };
}

function errorCodeOf(signal: ReturnType<typeof parseEnvelope>): string | undefined {
  return signal.kind === 'error' ? signal.errors[0]?.errorCode : undefined;
}

function signedMime(atts: Attachment[], signer = c2, mutate?: (doc: Document) => void, sentAtts = atts) {
  const doc = buildUserMessageEnvelope(sampleMessage(`m-${randomBytes(4).toString('hex')}@qerds`, atts));
  signEnvelope(doc, atts, signer);
  mutate?.(doc);
  return encodeMultipart(serializeAs4Xml(doc), sentAtts);
}

describe('AS4 over HTTP: sendUserMessage → createAs4Handler', () => {
  it('delivers a 1 KiB payload and returns a verified NRR receipt', async () => {
    const message = sampleMessage('m-roundtrip@qerds', attachments);
    const result = await sendUserMessage({
      endpoint,
      message,
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
    });
    expect(result.httpStatus).toBe(200);
    expect(result.receipt.refToMessageId).toBe('m-roundtrip@qerds');
    expect(result.receipt.nonRepudiation.map((r) => r.uri)).toEqual([
      '#id-messaging',
      '#id-body',
      'cid:payload-1@qerds',
    ]);
    expect(received).toHaveLength(1);
    expect(received[0]!.attachments[0]!.body.equals(payload)).toBe(true);
    expect(received[0]!.message).toEqual(message);
    expect(received[0]!.signer.fingerprint256).toBe(c2.certificate.fingerprint256);
  });

  it('answers an unsigned message with a signed EBMS:0103 error and never calls onUserMessage', async () => {
    const doc = buildUserMessageEnvelope(sampleMessage('m-unsigned@qerds', attachments));
    const mime = encodeMultipart(serializeAs4Xml(doc), attachments);
    const { status, signal } = await post(mime.contentType, mime.body);
    expect(status).toBe(500);
    expect(errorCodeOf(signal)).toBe('EBMS:0103');
    expect(signal.kind === 'error' && signal.errors[0]?.refToMessageInError).toBe('m-unsigned@qerds');
    expect(received).toHaveLength(0);
  });

  it('answers EBMS:0101 when one attachment byte changed in transit', async () => {
    const changed = Buffer.from(payload);
    changed[100] = changed[100]! ^ 1;
    const mime = signedMime(attachments, c2, undefined, [{ ...attachments[0]!, body: changed }]);
    const { signal } = await post(mime.contentType, mime.body);
    expect(errorCodeOf(signal)).toBe('EBMS:0101');
    expect(received).toHaveLength(0);
  });

  it('answers EBMS:0101 to signature wrapping (signed Messaging moved into a wrapper header, forged one in place)', async () => {
    const mime = signedMime(attachments, c2, wrapSignedMessaging);
    const { signal } = await post(mime.contentType, mime.body);
    expect(errorCodeOf(signal)).toBe('EBMS:0101');
    expect(received).toHaveLength(0);
  });

  it('answers EBMS:0007 to malformed MIME', async () => {
    const { signal } = await post(
      'multipart/related; boundary=b; type="application/soap+xml"',
      Buffer.from('--b\r\nContent-Type: application/soap+xml\r\n\r\n<x/>'),
    );
    expect(errorCodeOf(signal)).toBe('EBMS:0007');
  });

  it('answers EBMS:0009 to an envelope that is not XML', async () => {
    const { signal } = await post('application/soap+xml; charset=UTF-8', Buffer.from('<env:Envelope'));
    expect(errorCodeOf(signal)).toBe('EBMS:0009');
  });

  it('a connection closed before any answer is tried once more at once (receipt verified); twice is AS4_EBMS_0005', async () => {
    drops = 1;
    const message = sampleMessage('m-dropped-once@qerds', attachments);
    const result = await sendUserMessage({
      endpoint: droppingEndpoint,
      message,
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
    });
    expect(result.receipt.refToMessageId).toBe('m-dropped-once@qerds');
    expect(dropped).toBe(1);
    expect(received).toHaveLength(1);

    drops = 2;
    dropped = 0;
    const again = sampleMessage('m-dropped-twice@qerds', attachments);
    const err = await sendUserMessage({
      endpoint: droppingEndpoint,
      message: again,
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });
    // One second try, not more: the relay's back-off takes it from there.
    expect(dropped).toBe(2);
    expect(received).toHaveLength(1);
  });

  it('refuses a signer outside the trust store (client sees AS4_EBMS_0101)', async () => {
    const foreign = sealIdentity(foreignPki, 'c2');
    const message = sampleMessage('m-foreign@qerds', attachments);
    const err = await sendUserMessage({
      endpoint,
      message,
      attachments,
      identity: foreign,
      receiverCertificate: c3.certificate,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QerdsError);
    expect((err as QerdsError).code).toBe('AS4_EBMS_0101');
    expect((err as QerdsError).details).toMatchObject({
      retryable: false,
      httpStatus: 500,
      signalSigned: true,
    });
    expect(received).toHaveLength(0);
  });

  it('turns onUserMessage failures into error signals (QerdsError code kept, others EBMS:0004)', async () => {
    const message = sampleMessage('m-fail@qerds', attachments);
    failWith = new QerdsError('AS4_EBMS_0010', 'no P-Mode for this service');
    await expect(
      sendUserMessage({ endpoint, message, attachments, identity: c2, trust }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0010' });
    failWith = new Error('database down');
    await expect(
      sendUserMessage({ endpoint, message, attachments, identity: c2, trust }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0004', details: expect.objectContaining({ retryable: true }) });
  });

  it('refuses a receipt signed by someone else than the expected receiver (AS4_EBMS_0302)', async () => {
    const message = sampleMessage('m-wrong-receiver@qerds', attachments);
    await expect(
      sendUserMessage({ endpoint, message, attachments, identity: c2, receiverCertificate: c2.certificate }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0302' });
  });

  it('does not follow a redirect (as over HTTPS): AS4_EBMS_0005 naming it, nothing replayed to the other URL', async () => {
    // Answers every request with a 307 to the real endpoint: a client following it would deliver the message there.
    const redirecting = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: endpoint }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const port = (redirecting.address() as AddressInfo).port;
      const message = sampleMessage('m-redirected@qerds', attachments);
      const err = await sendUserMessage({
        endpoint: `http://127.0.0.1:${port}/as4`,
        message,
        attachments,
        identity: c2,
        receiverCertificate: c3.certificate,
        trust,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });
      expect((err as QerdsError).message).toMatch(/redirect/);
      expect(received).toHaveLength(0);
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });

  it('an answer cut off midway is AS4_EBMS_0005, and the message is not posted a second time', async () => {
    // Unlike a reused socket closed before any answer, the peer took the message and began its answer.
    let posts = 0;
    const cutting = createServer((req, res) => {
      posts += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/soap+xml', 'content-length': '5000' });
        res.write('<env:Envelope', () => res.socket?.destroy());
      });
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    try {
      const port = (cutting.address() as AddressInfo).port;
      const err = await sendUserMessage({
        endpoint: `http://127.0.0.1:${port}/as4`,
        message: sampleMessage('m-cut@qerds', attachments),
        attachments,
        identity: c2,
        trust,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });
      expect((err as QerdsError).message).toMatch(/before the answer was complete/);
      expect(posts).toBe(1);
    } finally {
      await new Promise<void>((resolve) => cutting.close(() => resolve()));
    }
  });

  it('reports an unreachable endpoint as AS4_EBMS_0005 (retryable)', async () => {
    const closed = express().listen(0, '127.0.0.1');
    await new Promise((r) => closed.once('listening', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const message = sampleMessage('m-down@qerds', attachments);
    await expect(
      sendUserMessage({
        endpoint: `http://127.0.0.1:${port}/as4`,
        message,
        attachments,
        identity: c2,
        trust,
        timeoutMs: 2000,
      }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });
  });

  it('refuses a message above maxMessageBytes', async () => {
    const big: Attachment[] = [
      { contentId: 'big@qerds', contentType: 'application/octet-stream', body: randomBytes(70 * 1024) },
    ];
    const mime = signedMime(big);
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': mime.contentType },
      body: new Uint8Array(mime.body),
    });
    expect(res.status).toBe(413);
    expect(received).toHaveLength(0);
  });
});
