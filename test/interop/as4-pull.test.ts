import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePMode, verifyAs4Capture, type Attachment } from '../../src/as4/index.js';
import { buildPullRequestEnvelope } from '../../src/as4/message/envelope-build.js';
import { pullUserMessage } from '../../src/as4/http/pull-client.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import type { ParsedReceipt, PulledUserMessage } from '../../src/as4/model/types.js';
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
const MPC = 'urn:qerds:mpc:for-c2';
const attachments: Attachment[] = [
  {
    contentId: 'pulled@qerds',
    contentType: 'application/xml',
    body: Buffer.from(`<doc>${'pulled '.repeat(500)}</doc>`),
  },
];

/** C3 keeps messages for C2 on an MPC; C2 pulls them (C2 cannot be reached by push, e.g. behind a firewall). */
const waiting: PulledUserMessage[] = [];
const receipts: { receipt: ParsedReceipt; signer: string }[] = [];
const pulls: { mpc: string; signer: string }[] = [];
let server: As4TestServer;

beforeAll(async () => {
  server = await startAs4Server({
    identity: c3,
    trust,
    pmodes: [
      definePMode({
        id: 'pull-c2',
        mep: 'pull',
        mpc: MPC,
        service: 'urn:qerds:service:erds',
        serviceType: 'urn:qerds:services',
        action: 'Deliver',
      }),
    ],
    onPullRequest: async ({ mpc, signer }) => {
      pulls.push({ mpc, signer: signer.subject });
      return waiting.shift();
    },
    onReceipt: async (receipt, signer) => void receipts.push({ receipt, signer: signer.subject }),
  });
});
afterAll(() => server.close());

describe('AS4 one-way/pull', () => {
  it('pulls a signed, compressed, encrypted message, verifies it, and pushes back a signed NRR receipt', async () => {
    waiting.push({
      message: sampleMessage('m-pulled-1@qerds', attachments),
      attachments,
      compress: true,
      encryptFor: c2.certificate,
    });
    const got = await pullUserMessage({
      endpoint: server.endpoint,
      mpc: MPC,
      identity: c2,
      trust,
      senderCertificate: c3.certificate,
    });
    expect(got).toBeDefined();
    expect(got!.message.messageId).toBe('m-pulled-1@qerds');
    expect(got!.attachments).toEqual(attachments);
    expect(got!.signer.fingerprint256).toBe(c3.certificate.fingerprint256);
    expect(pulls.at(-1)).toEqual({ mpc: MPC, signer: c2.certificate.subject });
    expect(got!.receiptDelivered).toBe(true);
    const ack = receipts.find((r) => r.receipt.refToMessageId === 'm-pulled-1@qerds')!;
    expect(ack.signer).toBe(c2.certificate.subject);
    expect(ack.receipt.nonRepudiation.map((r) => r.uri)).toEqual([
      '#id-messaging',
      '#id-body',
      'cid:pulled@qerds',
    ]);
  });

  it('an empty MPC answers the EBMS:0006 warning: nothing pulled', async () => {
    expect(
      await pullUserMessage({ endpoint: server.endpoint, mpc: MPC, identity: c2, trust }),
    ).toBeUndefined();
  });

  it('refuses a pull from an MPC no pull P-Mode names (EBMS:0010), and an unsigned PullRequest (EBMS:0103)', async () => {
    await expect(
      pullUserMessage({ endpoint: server.endpoint, mpc: 'urn:qerds:mpc:someone-else', identity: c2, trust }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0010' });
    const unsigned = buildPullRequestEnvelope({
      messageId: `pr-${randomBytes(4).toString('hex')}@qerds`,
      timestamp: new Date(),
      mpc: MPC,
    });
    const res = await postAs4(
      server.endpoint,
      'application/soap+xml; charset=UTF-8',
      Buffer.from(serializeAs4Xml(unsigned)),
    );
    expect(errorCodeOf(res.signal)).toBe('EBMS:0103');
  });

  it('refuses a pulled message signed by someone else than the expected responder (AS4_EBMS_0101)', async () => {
    waiting.push({ message: sampleMessage('m-pulled-2@qerds', attachments), attachments });
    await expect(
      pullUserMessage({
        endpoint: server.endpoint,
        mpc: MPC,
        identity: c2,
        senderCertificate: c2.certificate,
      }),
    ).rejects.toMatchObject({ code: 'AS4_EBMS_0101' });
    expect(receipts.some((r) => r.receipt.refToMessageId === 'm-pulled-2@qerds')).toBe(false);
  });

  it('verifyAs4Capture recognises a signed PullRequest', () => {
    const doc = buildPullRequestEnvelope({ messageId: 'pr-cap@qerds', timestamp: new Date(), mpc: MPC });
    const r = verifyAs4Capture(Buffer.from(serializeAs4Xml(doc)), { trust });
    expect(r).toMatchObject({ messageType: 'PullRequest', mpc: MPC, verdict: 'INVALID' });
  });
});
