import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePool } from '../../src/access-point/evidence-pool.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { sendUserMessage, type Attachment, type ReceiptInput } from '../../src/as4/index.js';
import { receiptXml } from '../../src/as4/message/signals.js';
import { packUserMessage } from '../../src/as4/message/user-message-pack.js';
import { decryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { parseXml } from '../../src/as4/message/xml-util.js';
import { isQerdsError } from '../../src/core/index.js';
import type { TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { loadSigningIdentity, type DevPkiLayout, type SigningIdentity } from '../../src/pki/index.js';
import { devPkiEvidencePool } from '../helpers/dev-pki-pool.js';
import { devTestPki } from '../helpers/pki.js';
import { evidenceAtC2Once, startPooledAccessPoints, submitText } from '../helpers/pooled-aps.js';
import {
  anchorTrustStore,
  sampleMessage,
  startAs4Server,
  type As4TestServer,
} from '../interop/as4-helpers.js';

/**
 * AS4 work in the worker pool (performance.workerThreads): a UserMessage packed in a thread is the one packed
 * inline (same parts, same signed digests), verifies at a receiver and decrypts to the same payload; a receipt
 * built in a thread is byte for byte the inline one; a thread that dies mid-pack or mid-receipt fails the call
 * retryably, and between two access points the message is relayed all the same.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-as4-pool-'));
let pki: DevPkiLayout;

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'));
});

const XML_LIMITS = { maxChars: 1_048_576, maxDepth: 64, maxElements: 10_000, maxAttributes: 50_000 };

describe('AS4 packing and receipts in the pool', () => {
  let pool: EvidencePool;
  let server: As4TestServer;
  let sender: SigningIdentity;
  let receiver: SigningIdentity;
  let encryption: SigningIdentity;

  beforeAll(async () => {
    ({ pool } = devPkiEvidencePool(pki, { ap: 'c2', level: 'B-T', embedCaCertificates: false }));
    sender = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    receiver = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    encryption = loadSigningIdentity(pki.ap('c3').encCert, pki.ap('c3').encKey);
    server = await startAs4Server({
      identity: receiver,
      trust: anchorTrustStore(pki.caCert),
      decryptionKeys: [encryption],
      receiptBuilder: (input) => pool.receipt(input),
    });
  });
  afterAll(async () => {
    await server?.close();
    await pool?.close();
  });

  const payload = Buffer.from('<Invoice>'.concat('pooled '.repeat(200), '</Invoice>'));
  const packInput = (messageId: string) => {
    // A view into a larger buffer: what crosses must be these octets only.
    const body = Buffer.concat([Buffer.from('padding'), payload]).subarray(7);
    const attachments: Attachment[] = [{ contentId: 'part-1@test', contentType: 'application/xml', body }];
    return {
      message: sampleMessage(messageId, attachments),
      attachments,
      identity: sender,
      compress: true,
      encryptFor: encryption.certificate,
    };
  };
  /** The envelope decrypted and verified as the receiving handler does it. */
  const opened = (packed: { contentType: string; body: Buffer }) => {
    const decoded = decodeMultipart(packed.contentType, packed.body);
    const doc = parseXml(decoded.envelope);
    const decrypted = decryptAttachments(doc, decoded.attachments, [encryption]);
    const verification = verifyEnvelope(doc, decrypted.attachments, { trust: anchorTrustStore(pki.caCert) });
    return { decoded, doc, verification, envelopeXml: decoded.envelope };
  };
  // The same document but for its text and attribute values (keys and ciphertext are random).
  const shape = (xml: string) => xml.replace(/>[^<]*</g, '><').replace(/"[^"]*"/g, '""');

  it('packs what packUserMessage packs: same parts and signed digests, verifying at the receiver', async () => {
    const input = packInput('pooled-1@test');
    const inline = packUserMessage(input);
    const pooled = await pool.pack(input);
    expect(pool.threadIds).toHaveLength(1);
    expect(pooled.references).toEqual(
      inline.references.map(({ uri, transforms, digestMethod, digestValue }) => ({
        uri,
        transforms,
        digestMethod,
        digestValue,
      })),
    );
    const [a, b] = [opened(inline), opened(pooled)];
    expect(b.verification.valid, JSON.stringify(b.verification.findings)).toBe(true);
    expect(b.verification.signer?.fingerprint256).toBe(sender.certificate.fingerprint256);
    expect(shape(b.envelopeXml)).toBe(shape(a.envelopeXml));
    expect(b.decoded.attachments.map((p) => [p.contentId, p.contentType])).toEqual(
      a.decoded.attachments.map((p) => [p.contentId, p.contentType]),
    );
    // Encrypted for the receiver: the ciphertext differs, the plaintext does not.
    expect(b.decoded.attachments[0]!.body.equals(a.decoded.attachments[0]!.body)).toBe(false);
  });

  it('sends a pooled pack to a receiver that answers with a pooled receipt: verified both ways, payload intact', async () => {
    const input = packInput('pooled-2@test');
    const result = await sendUserMessage({
      endpoint: server.endpoint,
      message: input.message,
      attachments: input.attachments,
      identity: sender,
      trust: anchorTrustStore(pki.caCert),
      receiverCertificate: receiver.certificate,
      compress: true,
      encryptFor: encryption.certificate,
      pack: (packed) => pool.pack(packed),
    });
    // sendUserMessage checked the receipt's signature and that it acknowledges every digest it signed (NRR).
    expect(result.receipt.refToMessageId).toBe('pooled-2@test');
    expect(result.receipt.nonRepudiation.map((r) => r.uri)).toContain('cid:part-1@test');
    const received = server.received.find((r) => r.message.messageId === 'pooled-2@test');
    expect(received?.attachments[0]?.body.equals(payload)).toBe(true);
  });

  it('builds and signs the receipt the handler builds inline, byte for byte', async () => {
    const { doc, verification, envelopeXml } = opened(packUserMessage(packInput('pooled-3@test')));
    const at = new Date('2026-01-02T03:04:05.678Z');
    const input = (id: string): ReceiptInput => ({
      envelopeXml,
      xmlLimits: XML_LIMITS,
      doc,
      references: verification.references,
      identity: receiver,
      options: { soapVersion: '1.2', clock: { now: () => at }, idGenerator: { next: () => id } },
    });
    const inline = receiptXml(doc, verification.references, receiver, input('r-1').options);
    expect(await pool.receipt(input('r-1'))).toBe(inline);
    // And a reception-awareness receipt (no references: a copy of the eb:UserMessage).
    const aware = { ...input('r-2'), references: [] };
    expect(await pool.receipt(aware)).toBe(receiptXml(doc, [], receiver, aware.options));
  });

  it('fails a pack in flight on a thread that dies with a retryable error; the next pack is answered', async () => {
    await pool.pack(packInput('warm@test'));
    const [victim] = pool.threadIds;
    // Termination asked for first: from then on the thread runs no JavaScript, so the pack posted to it right after
    // (it is still the pool's thread until it has exited) can never be answered, however loaded the machine is.
    const terminated = pool.terminateThread(victim!);
    const outcome = pool.pack(packInput('killed@test')).then(
      () => undefined,
      (error: unknown) => error,
    );
    await terminated;
    const error = await outcome;
    expect(isQerdsError(error, 'EVIDENCE_POOL_THREAD_EXITED')).toBe(true);
    expect((error as { details?: { retryable?: boolean } }).details?.retryable).not.toBe(false);
    const again = await pool.pack(packInput('killed@test'));
    expect(opened(again).verification.valid).toBe(true);
    expect(pool.threadIds[0]).not.toBe(victim);
  });

  it('refuses to pack a streamed attachment (a stream cannot cross: it is packed where it is sent)', async () => {
    const input = packInput('streamed@test');
    const streamed = {
      ...input,
      attachments: [{ ...input.attachments[0]!, stream: { open: () => [] as never, size: 1 } }],
    } as unknown as Parameters<EvidencePool['pack']>[0];
    await expect(pool.pack(streamed)).rejects.toThrow(/streamed/);
  });
});

describe('two access points packing and signing receipts in their threads', () => {
  let net: TwoAccessPoints;

  beforeAll(async () => {
    net = await startPooledAccessPoints(work, pki.dir);
  });
  afterAll(async () => net?.stop());

  const send = (text: string) => submitText(net, text);
  /** C2's evidence of the message once C3's RelayAcceptance came back (the relay took a receipt). */
  const relayed = (id: string) => evidenceAtC2Once(net, id, 'RelayAcceptance');
  /** Replaces `pool[name]` so that the first call's thread is killed while the call is in flight. */
  const killFirst = <K extends 'pack' | 'receipt'>(pool: EvidencePool, name: K) => {
    const original = pool[name];
    const state = {
      killed: false,
      /** How the call whose thread was killed ended. */
      outcome: undefined as unknown,
      restore: () => void Object.assign(pool, { [name]: original }),
    };
    Object.assign(pool, {
      [name]: (input: never) => {
        if (state.killed) return (original as (i: never) => Promise<unknown>)(input);
        state.killed = true;
        // Termination asked for before the call is posted to the pool's one thread (it stays the pool's thread until
        // it has exited): the thread runs no JavaScript any more, so the call cannot be answered whatever the load.
        void pool.terminateThread(pool.threadIds[0]!);
        const call = (original as (i: never) => Promise<unknown>)(input);
        call.then(
          () => (state.outcome = 'answered'),
          (error: unknown) => (state.outcome = error),
        );
        return call;
      },
    });
    return state;
  };

  it('relays with C2 packing and C3 signing the receipt in their threads', async () => {
    const c2 = accessPointInternals(net.c2).evidencePool!;
    const c3 = accessPointInternals(net.c3).evidencePool!;
    const packs = counted(c2, 'pack');
    const receipts = counted(c3, 'receipt');
    try {
      const chain = await relayed(await send('pooled AS4'));
      expect(chain.map((e) => e.event)).toContain('RelayAcceptance');
      expect(packs.calls).toBeGreaterThan(0);
      expect(receipts.calls).toBeGreaterThan(0);
    } finally {
      packs.restore();
      receipts.restore();
    }
  });

  it('loses no message when C2 thread dies mid-pack: the relay runs again', async () => {
    const kill = killFirst(accessPointInternals(net.c2).evidencePool!, 'pack');
    try {
      const chain = await relayed(await send('survives a packing thread'));
      expect(isQerdsError(kill.outcome, 'EVIDENCE_POOL_THREAD_EXITED')).toBe(true);
      expect(chain.map((e) => e.event)).toContain('RelayAcceptance');
    } finally {
      kill.restore();
    }
  });

  it('loses no message when C3 thread dies mid-receipt: C2 sends again and gets a receipt', async () => {
    const kill = killFirst(accessPointInternals(net.c3).evidencePool!, 'receipt');
    try {
      const id = await send('survives a receipt thread');
      const chain = await relayed(id);
      expect(isQerdsError(kill.outcome, 'EVIDENCE_POOL_THREAD_EXITED')).toBe(true);
      expect(chain.map((e) => e.event)).toContain('RelayAcceptance');
      // C3 holds the message once.
      const atC3 = await accessPointInternals(net.c3).context.store.listMessages({ limit: 100 });
      const message = await accessPointInternals(net.c2).context.store.getMessage(id);
      expect(atC3.filter((m) => m.ebmsMessageId === message?.ebmsMessageId)).toHaveLength(1);
    } finally {
      kill.restore();
    }
  });
});

/** Counts the calls of `pool[name]` (the transport and the handler call it through the pool object). */
function counted(pool: EvidencePool, name: 'pack' | 'receipt') {
  const original = pool[name];
  const state = {
    calls: 0,
    restore: () => void Object.assign(pool, { [name]: original }),
  };
  Object.assign(pool, {
    [name]: (input: never) => {
      state.calls++;
      return (original as (i: never) => Promise<unknown>)(input);
    },
  });
  return state;
}
