import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createAs4Handler, sendUserMessage, type Attachment, type ReceivedUserMessage } from '../../src/as4/index.js';
import { loadTrustStore, revokeCertificate } from '../../src/pki/index.js';
import { foreignTestPki, privateCopy } from '../helpers/pki.js';
import { sampleMessage, sealIdentity, startAs4Server } from './as4-helpers.js';

const attachments: Attachment[] = [{ contentId: 'p@qerds', contentType: 'text/plain', body: Buffer.from('reliable\n') }];

describe('AS4 endpoint and AP certificates: expired, revoked, untrusted are refused', () => {
  it('accepts a current signer, then refuses it once the CA revoked it (trust store with the CRL, EBMS:0101)', async () => {
    const pki = privateCopy(foreignTestPki());
    const c2 = sealIdentity(pki, 'c2');
    const c3 = sealIdentity(pki, 'c3');
    const before = await startAs4Server({ identity: c3, trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    try {
      const ok = await sendUserMessage({ endpoint: before.endpoint, message: sampleMessage('m-rev-1@qerds', attachments), attachments, identity: c2, receiverCertificate: c3.certificate });
      expect(ok.httpStatus).toBe(200);
    } finally {
      await before.close();
    }
    await revokeCertificate(pki, readFileSync(pki.ap('c2').sealCert, 'utf8'), 'keyCompromise', new Date(Date.now() - 60_000));
    const after = await startAs4Server({ identity: c3, trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    try {
      const err = await sendUserMessage({ endpoint: after.endpoint, message: sampleMessage('m-rev-2@qerds', attachments), attachments, identity: c2, receiverCertificate: c3.certificate })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_EBMS_0101', details: expect.objectContaining({ signalSigned: true }) });
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
    const server = await startAs4Server({ identity: c3, trust: loadTrustStore([pki.caCert]), clock: { now: () => later } });
    try {
      const err = await sendUserMessage({ endpoint: server.endpoint, message: sampleMessage('m-exp@qerds', attachments), attachments, identity: c2 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AS4_EBMS_0101' });
      expect(server.received).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('AS4 reliability at the protocol edge', () => {
  it('a receiver that is down gives retryable AS4_EBMS_0005; when it comes back the same message goes through; a resent duplicate gets the original receipt again', async () => {
    const pki = foreignTestPki();
    const c2 = sealIdentity(pki, 'c2');
    const c3 = sealIdentity(pki, 'c3');
    const trust = loadTrustStore([pki.caCert]);
    const probe = express().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const endpoint = `http://127.0.0.1:${port}/as4`;
    const message = sampleMessage('m-down-up@qerds', attachments);
    const send = () => sendUserMessage({ endpoint, message, attachments, identity: c2, trust, receiverCertificate: c3.certificate, timeoutMs: 3000 });

    await expect(send()).rejects.toMatchObject({ code: 'AS4_EBMS_0005', details: { retryable: true } });

    // Back up on the same port. Duplicate elimination by MessageId is the store's job at C3 (pipeline); the
    // handler must still answer the duplicate with a receipt so the sender stops retrying (reception awareness).
    const seen = new Map<string, ReceivedUserMessage>();
    const app = express();
    app.post('/as4', createAs4Handler({ identity: c3, trust, onUserMessage: async (r) => void (seen.has(r.message.messageId) || seen.set(r.message.messageId, r)) }));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    try {
      const first = await send();
      const again = await send();
      expect(first.receipt.refToMessageId).toBe('m-down-up@qerds');
      expect(again.receipt.refToMessageId).toBe('m-down-up@qerds');
      // Within the duplicate detection window: the original receipt again, byte for byte (P-Mode reliability).
      expect(again.receiptXml).toBe(first.receiptXml);
      expect(seen.size).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
