import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAs4Handler, definePMode, type Attachment } from '../../src/as4/index.js';
import { createAs4TlsClient } from '../../src/pki/index.js';
import { pullUserMessage } from '../../src/as4/http/pull-client.js';
import type { PulledUserMessage } from '../../src/as4/model/types.js';
import { sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from './as4-helpers.js';

/** One-way/pull over mutual TLS (certificates from the openssl-made shared PKI), with the responder pinned. */
const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const MPC = 'urn:qerds:mpc:tls';
const attachments: Attachment[] = [
  { contentId: 'tls@qerds', contentType: 'text/plain', body: Buffer.from('pulled over TLS\n') },
];
const waiting: PulledUserMessage[] = [];
const clientSubjects: string[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  const app = express();
  app.post(
    '/as4',
    (req, _res, next) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      clientSubjects.push(
        socket.authorized ? (socket.getPeerX509Certificate()?.subject ?? '') : 'unauthorized',
      );
      next();
    },
    createAs4Handler({
      identity: c3,
      trust,
      pmodes: [
        definePMode({
          id: 'pull-tls',
          mep: 'pull',
          mpc: MPC,
          service: 'urn:qerds:service:erds',
          serviceType: 'urn:qerds:services',
          action: 'Deliver',
          security: { encrypt: false },
        }),
      ],
      onUserMessage: async () => undefined,
      onPullRequest: async () => waiting.shift(),
      onReceipt: async () => undefined,
    }),
  );
  server = createServer(
    {
      cert: readFileSync(pki.ap('c3').tlsCert),
      key: readFileSync(pki.ap('c3').tlsKey),
      ca: readFileSync(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    app,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('AS4 pull over mutual TLS', () => {
  it('pulls with the AP client certificate from a pinned responder, and pushes the receipt back on the same TLS client', async () => {
    const tls = createAs4TlsClient({
      ca: [readFileSync(pki.caCert)],
      cert: readFileSync(pki.ap('c2').tlsCert),
      key: readFileSync(pki.ap('c2').tlsKey),
    });
    try {
      waiting.push({ message: sampleMessage('m-pull-tls@qerds', attachments), attachments });
      const got = await pullUserMessage({
        endpoint,
        mpc: MPC,
        identity: c2,
        trust,
        http: tls.forPeer({ certificates: [new X509Certificate(readFileSync(pki.ap('c3').tlsCert))] }),
      });
      expect(got?.attachments).toEqual(attachments);
      expect(got?.receiptDelivered).toBe(true);
      expect(clientSubjects.slice(-2)).toEqual([
        expect.stringContaining('CN=localhost'),
        expect.stringContaining('CN=localhost'),
      ]);
    } finally {
      tls.close();
    }
  });

  it('refuses a responder whose certificate is not the pinned one before sending the PullRequest (AS4_TLS_PIN_MISMATCH)', async () => {
    const tls = createAs4TlsClient({
      ca: [readFileSync(pki.caCert)],
      cert: readFileSync(pki.ap('c2').tlsCert),
      key: readFileSync(pki.ap('c2').tlsKey),
    });
    const before = clientSubjects.length;
    try {
      const pinnedElsewhere = tls.forPeer({ spki: ['sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='] });
      await expect(
        pullUserMessage({ endpoint, mpc: MPC, identity: c2, trust, http: pinnedElsewhere }),
      ).rejects.toMatchObject({ code: 'AS4_TLS_PIN_MISMATCH' });
      expect(clientSubjects.length).toBe(before);
    } finally {
      tls.close();
    }
  });
});
