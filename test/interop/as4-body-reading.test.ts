import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAs4Handler, sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { packUserMessage } from '../../src/as4/message/user-message-pack.js';
import type { ReceivedUserMessage } from '../../src/as4/model/types.js';
import { sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from './as4-helpers.js';

/**
 * How /as4 reads a request body of a declared small length (whole, from 'data' events, not by the stream's async
 * iterator), and how sendUserMessage keeps its deadline (a timer of its own, not AbortSignal.timeout).
 */
const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);

let server: Server;
let port: number;
let received: ReceivedUserMessage[] = [];
/** Requests whose handler has finished (answered or given up). */
let settled = 0;

beforeAll(async () => {
  const handler = createAs4Handler({
    identity: c3,
    trust,
    onUserMessage: async (r) => {
      received.push(r);
    },
  });
  const app = express();
  app.post('/as4', (req, res, next) => {
    void Promise.resolve(handler(req, res, next)).finally(() => settled++);
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  settled = 0;
});

function packed(id: string, payload: Buffer) {
  const attachments: Attachment[] = [
    { contentId: 'payload-1@qerds', contentType: 'application/octet-stream', body: payload },
  ];
  return packUserMessage({ message: sampleMessage(id, attachments), attachments, identity: c2 });
}

/** An HTTP/1.1 POST to /as4 written by hand: its head, then `body` in the pieces given, each written once the previous was. */
async function rawPost(
  contentType: string,
  declaredLength: number,
  pieces: readonly Buffer[],
): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head =
    `POST /as4 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${declaredLength}\r\nConnection: close\r\n\r\n`;
  await new Promise<void>((resolve, reject) => socket.write(head, (e) => (e ? reject(e) : resolve())));
  for (const piece of pieces)
    await new Promise<void>((resolve, reject) => socket.write(piece, (e) => (e ? reject(e) : resolve())));
  return socket;
}

describe('/as4 reading a small body', () => {
  it('takes a body that arrives in several pieces whole: the message is received and answered with a receipt', async () => {
    const payload = randomBytes(3000);
    const mime = packed('m-pieces@qerds', payload);
    const body = mime.body;
    const third = Math.floor(body.length / 3);
    const socket = await rawPost(mime.contentType, body.length, [
      body.subarray(0, third),
      body.subarray(third, 2 * third),
      body.subarray(2 * third),
    ]);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'end');
    const answer = Buffer.concat(chunks).toString('utf8');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('Receipt');
    expect(received).toHaveLength(1);
    expect(received[0]!.attachments[0]!.body.equals(payload)).toBe(true);
  });

  it('gives up on a body that ends before its declared length (the peer went away): nothing received, no handler left waiting', async () => {
    const mime = packed('m-cut@qerds', randomBytes(3000));
    const socket = await rawPost(mime.contentType, mime.body.length, [mime.body.subarray(0, 1000)]);
    socket.destroy();
    await vi.waitFor(() => expect(settled).toBe(1), { timeout: 10_000, interval: 20 });
    expect(received).toHaveLength(0);
  });
});

describe('/as4 behind something that already read the body', () => {
  it('answers (a MIME error: nothing left to read) instead of waiting for a body that will not come', async () => {
    const handler = createAs4Handler({ identity: c3, trust, onUserMessage: async () => {} });
    const app = express();
    app.post('/as4', express.text({ type: () => true }), (req, res, next) => {
      void handler(req, res, next);
    });
    const consumed = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const mime = packed('m-consumed@qerds', randomBytes(100));
      const res = await fetch(`http://127.0.0.1:${(consumed.address() as AddressInfo).port}/as4`, {
        method: 'POST',
        headers: { 'content-type': mime.contentType },
        body: new Uint8Array(mime.body),
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain('EBMS:0007');
    } finally {
      consumed.closeAllConnections();
      await new Promise<void>((resolve) => consumed.close(() => resolve()));
    }
  });
});

describe('sendUserMessage deadline', () => {
  it('an endpoint that never answers fails the exchange after timeoutMs as AS4_EBMS_0005 (retryable)', async () => {
    const silent = createServer(() => {}); // takes the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const attachments: Attachment[] = [
        { contentId: 'payload-1@qerds', contentType: 'application/octet-stream', body: randomBytes(100) },
      ];
      await expect(
        sendUserMessage({
          endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/as4`,
          message: sampleMessage('m-silent@qerds', attachments),
          attachments,
          identity: c2,
          trust,
          timeoutMs: 300,
        }),
      ).rejects.toMatchObject({
        code: 'AS4_EBMS_0005',
        message: expect.stringMatching(/timeout/i),
        details: { retryable: true },
      });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
