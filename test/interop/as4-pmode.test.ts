import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  definePMode,
  sendUserMessage,
  type Attachment,
  type PModeInput,
  type UserMessage,
} from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { encryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { matchPMode } from '../../src/as4/model/pmode.js';
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
const attachments: Attachment[] = [
  { contentId: 'p1@qerds', contentType: 'text/plain', body: Buffer.from('hello\n') },
];
const base = sampleMessage('x', attachments);
const INITIATOR = base.from;
const RESPONDER = base.to;

const pmodeInput: PModeInput = {
  id: 'erds-deliver',
  agreement: 'urn:qerds:agreement:test',
  initiator: { ...INITIATOR, partyIdType: INITIATOR.partyIdType! },
  responder: { ...RESPONDER, partyIdType: RESPONDER.partyIdType! },
  service: 'urn:qerds:service:erds',
  serviceType: 'urn:qerds:services',
  action: 'Deliver',
};
const encrypted = definePMode(pmodeInput);
const plain = definePMode({
  ...pmodeInput,
  id: 'erds-notify',
  action: 'Notify',
  security: { encrypt: false },
});
const v2 = definePMode({
  ...pmodeInput,
  id: 'erds-v2',
  action: 'DeliverV2',
  security: { algorithmSet: 'edelivery-2.0', encrypt: false },
});

let server: As4TestServer;
beforeAll(async () => {
  server = await startAs4Server({ identity: c3, trust, pmodes: [encrypted, plain, v2] });
});
afterAll(() => server.close());

function message(
  patch: Partial<UserMessage['collaboration']> = {},
  extra: Partial<UserMessage> = {},
): UserMessage {
  const m = sampleMessage(`m-${randomBytes(4).toString('hex')}@qerds`, attachments);
  return { ...m, ...extra, collaboration: { ...m.collaboration, ...patch } };
}

function mimeOf(msg: UserMessage, opts: { sign?: boolean; encrypt?: boolean; atts?: Attachment[] } = {}) {
  const doc = buildUserMessageEnvelope(msg);
  const atts = opts.atts ?? attachments;
  if (opts.sign ?? true) signEnvelope(doc, atts, c2);
  const sent = opts.encrypt ? encryptAttachments(doc, atts, c3.certificate) : atts;
  return encodeMultipart(serializeAs4Xml(doc), sent);
}

async function codeFor(mime: { contentType: string; body: Buffer }) {
  return errorCodeOf((await postAs4(server.endpoint, mime.contentType, mime.body)).signal);
}

describe('P-Modes: model and matching', () => {
  it('fills secure defaults (1.15 set, encrypt, NRR receipts, gzip, reception awareness) into a frozen copy', () => {
    expect(encrypted).toMatchObject({
      mep: 'push',
      security: { algorithmSet: 'edelivery-1.15', encrypt: true },
      receipt: { nonRepudiation: true },
      compress: true,
      // Retries and their interval default to the AP's relay settings (src/access-point/as4-security.ts relayRetryPolicy).
      reliability: { duplicateDetectionWindowSeconds: 604_800 },
    });
    expect(Object.isFrozen(encrypted)).toBe(true);
    expect(pmodeInput.security).toBeUndefined();
    expect(() => definePMode({ ...pmodeInput, mep: 'sideways' as 'push' })).toThrow(
      expect.objectContaining({ code: 'AS4_PMODE_INVALID' }),
    );
  });

  it('matches on service, action, agreement and parties; anything else is EBMS:0010', () => {
    expect(matchPMode([encrypted, plain], message()).id).toBe('erds-deliver');
    expect(matchPMode([encrypted, plain], message({ action: 'Notify' })).id).toBe('erds-notify');
    for (const m of [
      message({ action: 'Unknown' }),
      message({ service: 'urn:other' }),
      message({ agreementRef: 'urn:other-agreement' }),
      message({}, { from: { ...INITIATOR, partyId: 'intruder' } }),
      message({}, { to: { ...RESPONDER, role: 'urn:other-role' } }),
    ]) {
      expect(() => matchPMode([encrypted, plain], m)).toThrow(
        expect.objectContaining({ code: 'AS4_EBMS_0010' }),
      );
    }
  });
});

describe('P-Modes enforced by the AS4 endpoint (secure by default)', () => {
  it('delivers a signed and encrypted message that fits its P-Mode', async () => {
    const msg = message();
    const r = await sendUserMessage({
      endpoint: server.endpoint,
      message: msg,
      attachments,
      identity: c2,
      trust,
      receiverCertificate: c3.certificate,
      encryptFor: c3.certificate,
    });
    expect(r.httpStatus).toBe(200);
    expect(server.received.some((x) => x.message.messageId === msg.messageId)).toBe(true);
  });

  it('EBMS:0103 when the P-Mode wants encryption and the payload arrives in clear; not delivered', async () => {
    const msg = message();
    expect(await codeFor(mimeOf(msg))).toBe('EBMS:0103');
    expect(server.received.some((x) => x.message.messageId === msg.messageId)).toBe(false);
  });

  it('EBMS:0103 for an unsigned message, even an encrypted one', async () => {
    expect(await codeFor(mimeOf(message(), { sign: false, encrypt: true }))).toBe('EBMS:0103');
    expect(await codeFor(mimeOf(message({ action: 'Notify' }), { sign: false }))).toBe('EBMS:0103');
  });

  it('EBMS:0103 when the signature algorithm is not the P-Mode set (RSA-SHA256 where 2.0 wants Ed25519)', async () => {
    expect(await codeFor(mimeOf(message({ action: 'DeliverV2' })))).toBe('EBMS:0103');
  });

  it('accepts an unencrypted message where the P-Mode does not ask for encryption', async () => {
    const msg = message({ action: 'Notify' });
    const mime = mimeOf(msg);
    const res = await postAs4(server.endpoint, mime.contentType, mime.body);
    expect(res.signal.kind).toBe('receipt');
  });

  it('EBMS:0010 for a message no P-Mode fits', async () => {
    expect(await codeFor(mimeOf(message({ action: 'Unknown' }), { encrypt: true }))).toBe('EBMS:0010');
  });
});

describe('EBMS error for each kind of bad input', () => {
  it('0003 untyped non-URI PartyId, 0007 unreferenced MIME part, 0011 PartInfo without its part, 0009 no Messaging, 0101 bad signature', async () => {
    const untyped = message({ action: 'Notify' }, { from: { partyId: 'not a uri', role: INITIATOR.role } });
    expect(await codeFor(mimeOf(untyped))).toBe('EBMS:0003');

    const extra: Attachment[] = [
      ...attachments,
      { contentId: 'stray@qerds', contentType: 'text/plain', body: Buffer.from('x') },
    ];
    expect(await codeFor(mimeOf(message({ action: 'Notify' }), { atts: extra }))).toBe('EBMS:0007');

    const missing = message(
      { action: 'Notify' },
      { payloads: [...base.payloads, { href: 'cid:absent@qerds', mimeType: 'text/plain', properties: [] }] },
    );
    expect(await codeFor(mimeOf(missing))).toBe('EBMS:0011');

    const noMessaging = buildUserMessageEnvelope(message({ action: 'Notify' }));
    const m = noMessaging.getElementsByTagNameNS(AS4_NS.eb, 'Messaging')[0]!;
    m.parentNode!.removeChild(m);
    expect(await codeFor(encodeMultipart(serializeAs4Xml(noMessaging), attachments))).toBe('EBMS:0009');

    const good = mimeOf(message({ action: 'Notify' }));
    const flipped = Buffer.from(good.body.toString('latin1').replace('hello', 'jello'), 'latin1');
    expect(await codeFor({ contentType: good.contentType, body: flipped })).toBe('EBMS:0101');
  });
});
