import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createAs4Handler, sendUserMessage, type Attachment } from '../../src/as4/index.js';
import type { ReceivedUserMessage } from '../../src/as4/model/types.js';
import { loadTrustStore, revokeCertificate } from '../../src/pki/index.js';
import { foreignTestPki, privateCopy } from '../helpers/pki.js';
import { sampleMessage, sealIdentity, startAs4Server } from './as4-helpers.js';

const attachments: Attachment[] = [
  { contentId: 'p@qerds', contentType: 'text/plain', body: Buffer.from('reliable\n') },
];

describe('AS4 endpoint and AP certificates: expired, revoked, untrusted are refused', () => {
  it('accepts a current signer, then refuses it once the CA revoked it (trust store with the CRL, EBMS:0101)', async () => {
    const pki = privateCopy(foreignTestPki());
    const c2 = sealIdentity(pki, 'c2');
    const c3 = sealIdentity(pki, 'c3');
    const before = await startAs4Server({ identity: c3, trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    try {
      const ok = await sendUserMessage({
        endpoint: before.endpoint,
        message: sampleMessage('m-rev-1@qerds', attachments),
        attachments,
        identity: c2,
        receiverCertificate: c3.certificate,
      });
      expect(ok.httpStatus).toBe(200);
    } finally {
      await before.close();
    }
    await revokeCertificate(
      pki,
      readFileSync(pki.ap('c2').sealCert, 'utf8'),
      'keyCompromise',
      new Date(Date.now() - 60_000),
    );
    const after = await startAs4Server({ identity: c3, trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    try {
      const err = await sendUserMessage({
        endpoint: after.endpoint,
        message: sampleMessage('m-rev-2@qerds', attachments),
        attachments,
        identity: c2,
        receiverCertificate: c3.certificate,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'AS4_EBMS_0101',
        details: expect.objectContaining({ signalSigned: true }),
      });
      expect(JSON.stringify((err as { details: unknown }).details)).toMatch(/revoked/i);
      expect(after.received).toHaveLength(0);
    } finally {
      await after.close();
    }
  });

  it('refuses a signer whose certificate has expired at the time of reception (EBMS:0101)', async () => {
    const pki = foreignTestPki();
    const c2 = sealIdentity(pki, 'c2');
    const c3 = sealIdentity(pki, 'c3');
    const later = new Date(new Date(c2.certificate.validTo).getTime() + 86_400_000);
    const server = await startAs4Server({
      identity: c3,
      trust: loadTrustStore([pki.caCert]),
      clock: { now: () => later },
    });
    try {
      const err = await sendUserMessage({
        endpoint: server.endpoint,
        message: sampleMessage('m-exp@qerds', attachments),
        attachments,
        identity: c2,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_EBMS_0101' });
      expect(server.received).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('AS4 reliability at the protocol edge', () => {
  it('a receiver that drops the connection gives retryable AS4_EBMS_0005; once it answers, the same message goes through; the resent duplicate gets the original receipt and is not handed on again', async () => {
    const pki = foreignTestPki();
    const c2 = sealIdentity(pki, 'c2');
    const c3 = sealIdentity(pki, 'c3');
    const trust = loadTrustStore([pki.caCert]);
    // What reaches the application behind the handler: duplicate elimination must happen in the handler
    // (reception awareness), so this records every call and deduplicates nothing itself.
    const handedOn: ReceivedUserMessage[] = [];
    let up = false;
    const app = express();
    // Down: the process behind the port takes the connection and drops it without an answer (as a crashed
    // receiver does). The same server then comes up, so no port is released and taken again.
    app.use((req, _res, next) => (up ? next() : req.socket.destroy()));
    app.post(
      '/as4',
      createAs4Handler({ identity: c3, trust, onUserMessage: async (r) => void handedOn.push(r) }),
    );
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
    const message = sampleMessage('m-down-up@qerds', attachments);
    const send = () =>
      sendUserMessage({
        endpoint,
        message,
        attachments,
        identity: c2,
        trust,
        receiverCertificate: c3.certificate,
      });
    try {
      await expect(send()).rejects.toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });
      expect(handedOn).toHaveLength(0);

      up = true;
      const first = await send();
      const again = await send();
      expect(first.receipt.refToMessageId).toBe('m-down-up@qerds');
      // Within the duplicate detection window: the original receipt again, byte for byte (P-Mode reliability).
      expect(again.receiptXml).toBe(first.receiptXml);
      expect(handedOn.map((r) => r.message.messageId)).toEqual(['m-down-up@qerds']);
      expect(handedOn[0]!.attachments[0]!.body.toString()).toBe('reliable\n');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
