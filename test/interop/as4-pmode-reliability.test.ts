import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { definePMode, sendUserMessage, type Attachment, type PModeInput } from '../../src/as4/index.js';
import {
  api,
  SENDER,
  RECIPIENT,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { sharedTestPki, devTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import {
  anchorTrustStore,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { claimPort } from '../helpers/ports.js';

/** The P-Mode fields of reliability and receipt handling, each with the effect it must have. */
const pki = sharedTestPki();
const trust = anchorTrustStore(pki.caCert);
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const attachments: Attachment[] = [
  { contentId: 'p@qerds', contentType: 'text/plain', body: Buffer.from('once only\n') },
];
const base: PModeInput = {
  id: 'rel',
  service: 'urn:qerds:service:erds',
  serviceType: 'urn:qerds:services',
  action: 'Deliver',
  security: { algorithmSet: 'edelivery-1.15', encrypt: false },
};

let server: As4TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('P-Mode duplicate detection window and receipt flags (AS4 endpoint)', () => {
  it('a duplicate within the window gets the original receipt byte for byte and is not processed again', async () => {
    server = await startAs4Server({
      identity: c3,
      trust,
      pmodes: [definePMode({ ...base, reliability: { duplicateDetectionWindowSeconds: 3600 } })],
    });
    const send = () =>
      sendUserMessage({
        endpoint: server!.endpoint,
        message: sampleMessage('dup-in-window@qerds', attachments),
        attachments,
        identity: c2,
        trust,
        receiverCertificate: c3.certificate,
      });
    const first = await send();
    const again = await send();
    expect(server.received).toHaveLength(1);
    expect(again.receiptXml).toBe(first.receiptXml);
  });

  it('a rebuilt resend (same MessageId, new signed digests) within the window gets a receipt of its own digests, not the stored one', async () => {
    server = await startAs4Server({
      identity: c3,
      trust,
      pmodes: [definePMode({ ...base, reliability: { duplicateDetectionWindowSeconds: 3600 } })],
    });
    const message = sampleMessage('dup-rebuilt@qerds', attachments);
    const send = (timestamp: Date) =>
      sendUserMessage({
        endpoint: server!.endpoint,
        message: { ...message, timestamp },
        attachments,
        identity: c2,
        trust,
        receiverCertificate: c3.certificate,
      });
    const first = await send(new Date('2025-01-02T03:04:05.000Z'));
    // The sender checks that the receipt acknowledges its own digests (NRR): the stored receipt would fail that.
    const rebuilt = await send(new Date('2025-01-02T03:09:05.000Z'));
    expect(rebuilt.receiptXml).not.toBe(first.receiptXml);
    expect(rebuilt.receipt.refToMessageId).toBe('dup-rebuilt@qerds');
    // Handed on again: the AP's reception drops it by MessageId (test/pipeline, test/scale crash tests).
    expect(server.received).toHaveLength(2);
  });

  it('after the window the MessageId is forgotten by the MSH: processed again (the AP store drops it) with a new receipt', async () => {
    let now = new Date();
    server = await startAs4Server({
      identity: c3,
      trust,
      clock: { now: () => now },
      pmodes: [definePMode({ ...base, reliability: { duplicateDetectionWindowSeconds: 60 } })],
    });
    const send = () =>
      sendUserMessage({
        endpoint: server!.endpoint,
        message: sampleMessage('dup-after-window@qerds', attachments),
        attachments,
        identity: c2,
        trust,
        receiverCertificate: c3.certificate,
      });
    const first = await send();
    now = new Date(now.getTime() + 30_000);
    expect((await send()).receiptXml).toBe(first.receiptXml);
    expect(server.received).toHaveLength(1);
    now = new Date(now.getTime() + 31_000);
    const late = await send();
    expect(server.received).toHaveLength(2);
    expect(late.receiptXml).not.toBe(first.receiptXml);
    expect(late.receipt.refToMessageId).toBe('dup-after-window@qerds');
  });

  it('receipt.nonRepudiation false: the receiver answers without NonRepudiationInformation; a sender that wants NRR refuses it (EBMS:0302), one that does not takes it', async () => {
    server = await startAs4Server({
      identity: c3,
      trust,
      pmodes: [definePMode({ ...base, receipt: { nonRepudiation: false } })],
    });
    const send = (id: string, requireNonRepudiation: boolean) =>
      sendUserMessage({
        endpoint: server!.endpoint,
        message: sampleMessage(id, attachments),
        attachments,
        identity: c2,
        trust,
        receiverCertificate: c3.certificate,
        requireNonRepudiation,
      });
    await expect(send('nrr-wanted@qerds', true)).rejects.toMatchObject({
      code: 'AS4_EBMS_0302',
      message: expect.stringMatching(/does not acknowledge/),
    });
    const taken = await send('nrr-not-wanted@qerds', false);
    expect(taken.receipt.nonRepudiation).toEqual([]);
    expect(taken.receiptXml).not.toContain('NonRepudiationInformation');
    expect(taken.receiptXml).toMatch(/<eb:Receipt[^>]*>\s*<eb:UserMessage/);
  });

  it('receipt.nonRepudiation true (default): the receipt acknowledges every signed part', async () => {
    server = await startAs4Server({ identity: c3, trust, pmodes: [definePMode(base)] });
    const done = await sendUserMessage({
      endpoint: server.endpoint,
      message: sampleMessage('nrr-default@qerds', attachments),
      attachments,
      identity: c2,
      trust,
      receiverCertificate: c3.certificate,
    });
    expect(done.receipt.nonRepudiation.map((r) => r.uri)).toEqual(expect.arrayContaining(['cid:p@qerds']));
  });

  it('receipt.replyPattern: only "response" (synchronous) is accepted; "callback" is a P-Mode error', () => {
    expect(definePMode(base).receipt.replyPattern).toBe('response');
    expect(() => definePMode({ ...base, receipt: { replyPattern: 'callback' as 'response' } })).toThrow(
      /only the \\"response\\" reply pattern/,
    );
  });
});

describe('P-Mode retries and retry interval drive the relay (two APs, C3 unreachable)', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-pmode-rel-'));
  let net: TwoAccessPoints | undefined;
  afterAll(() => net?.stop());

  it('retries: 1 and retryIntervalMs: 1500 → exactly 2 attempts, the second ≥ 750 ms after the first (equal jitter; seen ≥ 600 ms through 100 ms polling), then RelayFailure', async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    // Claimed, not port 0: nothing may listen on it (a dead peer), and the claim keeps other tests off it.
    const dead = await claimPort();
    const pmodes = ['Dispatch', 'Evidence'].map((action) => ({
      id: `erds-${action}`,
      service: 'urn:qerds-ap:service:erds',
      action,
      reliability: { retries: 1, retryIntervalMs: 1500 },
    }));
    net = await startTwoAccessPoints({
      outDir: work,
      pkiDir,
      // relay.maxAttempts 9 and baseDelayMs 50 would apply without the P-Mode's ReceptionAwareness.
      overrides: { as4: { pmodes }, relay: { maxAttempts: 9, baseDelayMs: 50, maxDelayMs: 5000 } },
      as4Endpoint: (name, own) => (name === 'c3' ? `http://127.0.0.1:${dead}/as4` : own),
    });
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['to nowhere'], { type: 'text/plain' }), 'n.txt');
    const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });
    const firstAttempt = await waitFor(
      async () =>
        ((await accessPointInternals(net!.c2).context.store.getMessage(id))?.attempts ?? 0) >= 1
          ? Date.now()
          : undefined,
      { timeoutMs: 20_000 },
    );
    const failed = await waitFor(
      async () => {
        const m = await accessPointInternals(net!.c2).context.store.getMessage(id);
        return m?.state === 'failed' ? { m, at: Date.now() } : undefined;
      },
      { timeoutMs: 20_000, what: 'RelayFailure' },
    );
    expect(failed.m.attempts).toBe(2);
    expect(failed.at - firstAttempt).toBeGreaterThanOrEqual(600);
    const chain = await api<Array<{ event: string }>>(
      net.c2.url,
      SENDER.key,
      `/api/v1/messages/${id}/evidence`,
    );
    expect(chain.map((e) => e.event)).toEqual(['SubmissionAcceptance', 'RelayFailure']);
  }, 60_000);
});
