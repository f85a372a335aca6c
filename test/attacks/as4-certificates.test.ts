import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAs4Transport } from '../../src/access-point/as4-binding.js';
import { ACTION_DISPATCH, ERDS_SERVICE } from '../../src/profiles/index.js';
import { loadAs4Security } from '../../src/access-point/as4-security.js';
import { createAs4Handler, sendUserMessage, type Attachment, type UserMessage } from '../../src/as4/index.js';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { isQerdsError, parseParticipantId } from '../../src/core/index.js';
import { verifySmpSignature } from '../../src/directory/smp-signature.js';
import {
  checkCertificateRole,
  devPkiLayout,
  type CertificateRole,
  type DevPkiLayout,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { answerValues, signedMetadata, type MetadataValues } from '../directory/smp-fixtures.js';
import {
  createLocalTsaClient,
  createTimestampAuthority,
  verifyTimestampToken,
} from '../../src/timestamp/index.js';
import { buildTrustList, loadTrustList } from '../../src/trust-list/index.js';
import { devCertificateKinds } from './as4-certificate-kinds.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Not any trusted certificate may send a Dispatch: who may sign AS4 messages and receipts, SMP
 * metadata, trusted lists and timestamps, for every kind of certificate the dev PKI issues. C3 allows unpinned
 * peers (`pki.unpinnedPeers: true`: a sender its directory does not know is taken on its certificate's role);
 * C2 keeps the default (off: only the pinned AP certificate speaks for a sender).
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-attack-as4-'));
const pkiDir = join(work, 'pki');
/** A sender neither AP's directory names (so no AP certificate is pinned for it). */
const UNKNOWN_SENDER = '0188:4444444444444';

let pki: DevPkiLayout;
let kinds: Record<string, SigningIdentity>;
let net: TwoAccessPoints;

beforeAll(async () => {
  await devTestPki(pkiDir, { aps: ['c2', 'c3', 'c9'] });
  pki = devPkiLayout(pkiDir);
  kinds = devCertificateKinds(pki);
  net = await startTwoAccessPoints({
    outDir: join(work, 'aps'),
    pkiDir,
    overrides: (name) => (name === 'c3' ? { pki: { unpinnedPeers: true } } : {}),
  });
}, 120_000);
afterAll(async () => {
  await net?.stop();
  rmSync(work, { recursive: true, force: true });
});

function dispatch(sender: string, recipient: string): { message: UserMessage; attachments: Attachment[] } {
  const messageId = `${randomBytes(8).toString('hex')}@as4-certificates.test`;
  return {
    attachments: [
      { contentId: 'part-1@test', contentType: 'text/plain', body: Buffer.from('who signed this?\n') },
    ],
    message: {
      messageId,
      timestamp: new Date(),
      from: {
        partyId: 'urn:example:ap:signer',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
      },
      to: {
        partyId: 'urn:example:ap:receiver',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
      },
      collaboration: { service: ERDS_SERVICE, action: ACTION_DISPATCH, conversationId: messageId },
      messageProperties: [
        { name: 'originalSender', value: sender, type: 'urn:qerds-ap:participant-id' },
        { name: 'finalRecipient', value: recipient, type: 'urn:qerds-ap:participant-id' },
        { name: 'submissionTime', value: new Date().toISOString() },
      ],
      payloads: [
        { href: 'cid:part-1@test', mimeType: 'text/plain', properties: [{ name: 'PartId', value: 'body' }] },
      ],
    },
  };
}

/** Push a Dispatch signed by `identity` to `to`'s /as4, encrypted for it; the error (or the result). */
async function push(to: 'c2' | 'c3', identity: SigningIdentity, sender: string, recipient: string) {
  const ap = net[to];
  const { message, attachments } = dispatch(sender, recipient);
  const outcome = await sendUserMessage({
    endpoint: `${ap.url}/as4`,
    message,
    attachments,
    identity,
    trust: accessPointInternals(ap).trust,
    encryptFor: new X509Certificate(readFileSync(pki.ap(to).encCert)),
    compress: true,
  }).catch((e: unknown) => e);
  const stored = await accessPointInternals(ap).context.store.findMessageByEbmsId(
    message.messageId,
    'recipient-ap',
  );
  return { outcome, stored, messageId: message.messageId };
}

describe('C3 with unpinned peers allowed: a Dispatch for a sender no directory names', () => {
  const refused: ReadonlyArray<{ kind: string; why: RegExp }> = [
    { kind: 'recipient encryption-only (alice)', why: /neither digitalSignature nor nonRepudiation/ },
    { kind: 'C3 AS4 encryption', why: /neither digitalSignature nor nonRepudiation/ },
    { kind: 'TSA', why: /reserved to another role: timeStamping/ },
    { kind: 'C3 TLS', why: /TLS only/ },
    { kind: 'C2 TLS', why: /TLS only/ },
    { kind: 'trusted list signer', why: /reserved to another role: tslSigning/ },
    { kind: 'C3 seal', why: /is this access point itself/ },
  ];
  for (const c of refused) {
    it(`signed by the ${c.kind} certificate: EBMS:0101, nothing stored`, async () => {
      const { outcome, stored } = await push('c3', kinds[c.kind]!, UNKNOWN_SENDER, RECIPIENT.id);
      expect(isQerdsError(outcome, 'AS4_EBMS_0101'), String(outcome)).toBe(true);
      expect((outcome as Error).message).toMatch(c.why);
      expect(stored).toBeUndefined();
    }, 30_000);
  }

  it('a sender whose AP the directory pins (C2) is refused under another AP seal (c9): EBMS:0101, nothing stored', async () => {
    const { outcome, stored } = await push('c3', kinds['unlisted AP c9 seal']!, SENDER.id, RECIPIENT.id);
    expect(isQerdsError(outcome, 'AS4_EBMS_0101'), String(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(
      /not the access point the directory names for 0188:1234567890123/,
    );
    expect(stored).toBeUndefined();
  }, 30_000);

  it('then a real AP seal (c9, same CA, no pin) is taken: receipt, message stored (control of the switch)', async () => {
    const { outcome, stored, messageId } = await push(
      'c3',
      kinds['unlisted AP c9 seal']!,
      UNKNOWN_SENDER,
      RECIPIENT.id,
    );
    expect(outcome).toMatchObject({ receipt: { refToMessageId: messageId } });
    expect(stored?.state).toBeDefined();
  }, 30_000);
});

describe('C2 with the default (unpinned peers off)', () => {
  it('refuses even a real AP seal (c9) for a sender no directory names: EBMS:0101, nothing stored', async () => {
    const { outcome, stored } = await push('c2', kinds['unlisted AP c9 seal']!, UNKNOWN_SENDER, SENDER.id);
    expect(isQerdsError(outcome, 'AS4_EBMS_0101'), String(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(/pki\.unpinnedPeers is off/);
    expect(stored).toBeUndefined();
  }, 30_000);

  it('takes a Dispatch from the AP its directory pins for the sender (C3 for the recipient party): stored', async () => {
    const { outcome, stored, messageId } = await push('c2', kinds['C3 seal']!, RECIPIENT.id, SENDER.id);
    expect(outcome).toMatchObject({ receipt: { refToMessageId: messageId } });
    expect(stored).toBeDefined();
  }, 30_000);

  it('will not send to a peer whose entry pins no AP certificate: AS4_PEER_NOT_PINNED, nothing sent', async () => {
    const transport = createAs4Transport({
      self: { id: net.c2.config.ap.id, name: 'C2' },
      identity: accessPointInternals(net.c2).identity,
      trust: accessPointInternals(net.c2).trust,
      timeoutMs: 5_000,
      as4: loadAs4Security(net.c2.config, accessPointInternals(net.c2).identity),
      // The entry names the peer's encryption certificate but pins no AP certificate.
      directory: {
        lookup: async () => ({
          participant: parseParticipantId(RECIPIENT.id),
          name: 'unpinned',
          endpoint: 'http://127.0.0.1:9/as4',
          apEncryptionCertificatePem: readFileSync(pki.ap('c3').encCert, 'utf8'),
        }),
      },
    });
    const sent = transport.sendMessage({
      endpoint: 'http://127.0.0.1:9/as4',
      ebmsMessageId: `unpinned-${randomBytes(4).toString('hex')}@qerds-ap`,
      sender: parseParticipantId(SENDER.id),
      recipient: parseParticipantId(RECIPIENT.id),
      submittedAt: new Date(),
      parts: [{ partId: 'p1', contentType: 'text/plain', body: Buffer.from('x') }],
    });
    await expect(sent).rejects.toMatchObject({ code: 'AS4_PEER_NOT_PINNED', details: { retryable: false } });
  });
});

describe('AS4 receipts signed by a certificate of another role are refused by the sender', () => {
  for (const kind of ['TSA', 'C3 TLS', 'recipient encryption-only (alice)', 'trusted list signer']) {
    it(`a receipt signed by the ${kind} certificate: AS4_EBMS_0302 (invalid receipt)`, async () => {
      const app = express();
      let taken = 0;
      app.post(
        '/as4',
        createAs4Handler({
          identity: kinds[kind]!,
          trust: accessPointInternals(net.c3).trust,
          onUserMessage: async () => void (taken += 1),
        }),
      );
      const server: Server = await new Promise((ready) => {
        const s = app.listen(0, '127.0.0.1', () => ready(s));
      });
      try {
        const port = (server.address() as { port: number }).port;
        const { message, attachments } = dispatch(SENDER.id, RECIPIENT.id);
        const outcome = await sendUserMessage({
          endpoint: `http://127.0.0.1:${port}/as4`,
          message,
          attachments,
          identity: accessPointInternals(net.c2).identity,
          trust: accessPointInternals(net.c2).trust,
        }).catch((e: unknown) => e);
        expect(taken).toBe(1);
        expect(isQerdsError(outcome, 'AS4_EBMS_0302'), String(outcome)).toBe(true);
        expect(JSON.stringify((outcome as { details?: unknown }).details)).toMatch(/AS4_SIG_SIGNER_ROLE/);
      } finally {
        await new Promise((done) => server.close(done));
      }
    }, 30_000);
  }
});

describe('SMP metadata signed by a certificate of another role is refused (DIRECTORY_SMP_SIGNER_ROLE)', () => {
  const values = (): MetadataValues =>
    answerValues(
      RECIPIENT.id,
      { scheme: 'qerds-docid', value: 'urn:qerds-ap:erds:dispatch' },
      readFileSync(pki.ap('c3').sealCert, 'utf8'),
      { encCertPem: readFileSync(pki.recipient('bob').cert, 'utf8') },
    );
  const files: Record<string, () => { keyFile: string; certFile: string }> = {
    TSA: () => ({ keyFile: pki.tsaKey, certFile: pki.tsaCert }),
    'C3 TLS': () => ({ keyFile: pki.ap('c3').tlsKey, certFile: pki.ap('c3').tlsCert }),
    'recipient encryption-only (alice)': () => ({
      keyFile: pki.recipient('alice').key,
      certFile: pki.recipient('alice').cert,
    }),
    'C3 AS4 encryption': () => ({ keyFile: pki.ap('c3').encKey, certFile: pki.ap('c3').encCert }),
    'trusted list signer': () => ({ keyFile: pki.tlSignerKey, certFile: pki.tlSignerCert }),
  };
  for (const [kind, signer] of Object.entries(files)) {
    it(`signed by the ${kind} certificate`, () => {
      const xml = signedMetadata('smp1', values(), signer());
      let error: unknown;
      try {
        verifySmpSignature(xml, accessPointInternals(net.c2).trust, new Date());
      } catch (e) {
        error = e;
      }
      expect(isQerdsError(error, 'DIRECTORY_SMP_SIGNER_ROLE'), String(error)).toBe(true);
    });
  }
  it('signed by a seal (a signing certificate): verifies (control)', () => {
    const xml = signedMetadata('smp1', values(), {
      keyFile: pki.ap('c9').sealKey,
      certFile: pki.ap('c9').sealCert,
    });
    expect(
      verifySmpSignature(xml, accessPointInternals(net.c2).trust, new Date()).signer.fingerprint256,
    ).toBe(kinds['unlisted AP c9 seal']!.certificate.fingerprint256);
  });
});

describe('trusted lists and timestamps signed by a certificate of another role', () => {
  const others = [
    'recipient encryption-only (alice)',
    'C3 AS4 encryption',
    'C3 TLS',
    'TSA',
    'C2 seal',
    'unlisted AP c9 seal',
  ];
  for (const kind of others) {
    it(`a trusted list signed by the ${kind} certificate: TL_SIGNATURE_INVALID (no tslSigning EKU)`, async () => {
      const signer = kinds[kind]!;
      const xml = await buildTrustList({
        schemeOperator: 'rogue',
        services: [
          {
            type: 'QERDS',
            name: 'rogue AP',
            certificate: signer.certificate,
            status: 'granted',
            statusStartingTime: new Date('2020-01-01Z'),
          },
        ],
        signer,
        issued: new Date(),
        nextUpdate: new Date(Date.now() + 86_400_000),
      });
      const refused = await loadTrustList(xml, {
        signerAnchors: [new X509Certificate(readFileSync(pki.caCert))],
      }).catch((e: unknown) => e);
      expect(isQerdsError(refused, 'TL_SIGNATURE_INVALID'), String(refused)).toBe(true);
      expect((refused as Error).message).toMatch(/tslSigning/);
    });
  }
  it('the same list signed by the list signer (tslSigning EKU) loads (control)', async () => {
    const signer = kinds['trusted list signer']!;
    const xml = await buildTrustList({
      schemeOperator: 'dev',
      services: [
        {
          type: 'QERDS',
          name: 'AP c3',
          certificate: kinds['C3 seal']!.certificate,
          status: 'granted',
          statusStartingTime: new Date('2020-01-01Z'),
        },
      ],
      signer,
      issued: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
    });
    const list = await loadTrustList(xml, { signerAnchors: [new X509Certificate(readFileSync(pki.caCert))] });
    expect(list.services).toHaveLength(1);
  });

  const imprint = {
    algorithm: 'sha256' as const,
    digest: createHash('sha256').update('who stamps?').digest(),
  };
  for (const kind of ['C2 seal', 'C3 TLS', 'trusted list signer', 'recipient encryption-only (alice)']) {
    it(`a timestamp token signed by the ${kind} certificate: TSA_NOT_TIMESTAMPING_CERT`, async () => {
      const rogue = createTimestampAuthority({ identity: kinds[kind]! });
      const refused = await createLocalTsaClient(rogue, { trust: accessPointInternals(net.c2).trust })
        .timestamp(imprint)
        .catch((e: unknown) => e);
      expect(isQerdsError(refused, 'TSA_NOT_TIMESTAMPING_CERT'), String(refused)).toBe(true);
    });
  }
  it('a token of the dev TSA (critical, sole timeStamping EKU) verifies (control)', async () => {
    const token = await createLocalTsaClient(createTimestampAuthority({ identity: kinds.TSA! }), {
      trust: accessPointInternals(net.c2).trust,
    }).timestamp(imprint);
    expect(
      (await verifyTimestampToken(token.der, { imprint, trust: accessPointInternals(net.c2).trust })).valid,
    ).toBe(true);
  });
});

describe('the role of every kind of dev PKI certificate (pki/certificate-roles.ts)', () => {
  // Which roles each kind may play: the rules the checks above rest on, on the certificates `qerds pki init` issues.
  const roles: readonly CertificateRole[] = [
    'e-seal',
    'as4-signer',
    'smp-signer',
    'trust-list-signer',
    'tsa',
  ];
  const allowed: Readonly<Record<string, readonly CertificateRole[]>> = {
    'recipient encryption-only (alice)': [],
    'C3 AS4 encryption': [],
    'C3 TLS': [],
    'C2 TLS': [],
    TSA: ['tsa'],
    'trusted list signer': ['trust-list-signer'],
    'C2 seal': ['e-seal', 'as4-signer', 'smp-signer'],
    'C3 seal': ['e-seal', 'as4-signer', 'smp-signer'],
    'unlisted AP c9 seal': ['e-seal', 'as4-signer', 'smp-signer'],
  };
  for (const [kind, expected] of Object.entries(allowed)) {
    it(`${kind}: ${expected.join(', ') || 'no signing role'}`, () => {
      const passes = roles.filter(
        (role) => checkCertificateRole(kinds[kind]!.certificate, role).length === 0,
      );
      expect(passes).toEqual(expected);
    });
  }
});
