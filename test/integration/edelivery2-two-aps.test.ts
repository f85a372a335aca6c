import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAs4Security } from '../../src/access-point/as4-security.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { verifyAs4Capture } from '../../src/as4/index.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { ALG as AS4_ALG } from '../../src/as4/model/namespaces.js';
import { loadConfig } from '../../src/config/index.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import {
  devApId,
  initDevPki,
  loadSigningIdentity,
  loadTrustStore,
  type DevPkiLayout,
} from '../../src/pki/index.js';
import { capturingProxy, httpMessages } from '../helpers/capturing-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Two access points on eDelivery AS4 2.0 (`as4.profile: edelivery-2.0`) with the dev PKI's keys, as
 * `BENCH=demo-path BENCH_KEY=ec` runs them: P-256 e-seals (`qerds pki init --key ec`), AS4 signed with each AP's
 * Ed25519 certificate and encrypted for its X25519 one, both issued by the dev CA. What goes over the wire, both
 * ways (C2's Dispatch, C3's returned evidence, their receipts), is captured by TCP proxies and checked.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-edelivery2-'));
const pkiDir = join(work, 'pki');
const MARKER = `PLAINTEXT-MARKER-${randomBytes(6).toString('hex')}`;
let layout: DevPkiLayout;

beforeAll(async () => {
  // An EC dev PKI is what the bench runs on 2.0 (the shared test PKI is RSA).
  layout = (await initDevPki({ dir: pkiDir, key: 'ec' })).layout;
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const certOf = (file: string) => new X509Certificate(readFileSync(file));

describe('as4.profile picks the AS4 keys of the dev PKI', () => {
  const securityOf = (profile: string) =>
    loadAs4Security(
      loadConfig({
        env: {},
        overrides: { ap: { id: devApId('c2') }, pki: { dir: pkiDir, apName: 'c2' }, as4: { profile } },
      }),
      loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey),
    );

  it('edelivery-2.0: the Ed25519 signing and X25519 encryption certificates; edelivery-1.15: the RSA ones', () => {
    const v2 = securityOf('edelivery-2.0');
    expect(v2.signing.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(v2.signing.certificate.fingerprint256).toBe(
      certOf(layout.edelivery2('c2').signCert).fingerprint256,
    );
    expect(v2.encryption.privateKey.asymmetricKeyType).toBe('x25519');
    expect(v2.encryption.certificate.fingerprint256).toBe(
      certOf(layout.edelivery2('c2').encCert).fingerprint256,
    );
    expect(v2.peers.ownFingerprints).toEqual([certOf(layout.edelivery2('c2').signCert).fingerprint256]);
    const v115 = securityOf('edelivery-1.15');
    expect(v115.signing.certificate.fingerprint256).toBe(certOf(layout.as4Signing('c2').cert).fingerprint256);
    expect(v115.encryption.certificate.fingerprint256).toBe(certOf(layout.ap('c2').encCert).fingerprint256);
    expect(v115.encryption.privateKey.asymmetricKeyType).toBe('rsa');
  });
});

describe('two access points on eDelivery AS4 2.0 (Ed25519 signatures, X25519 key agreement)', () => {
  let net: TwoAccessPoints;
  const proxies: Partial<Record<'c2' | 'c3', Awaited<ReturnType<typeof capturingProxy>>>> = {};

  beforeAll(async () => {
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      as4Profile: 'edelivery-2.0',
      // Each AP is reached through a capturing proxy: C2's Dispatch to C3, C3's returned evidence to C2.
      as4Endpoint: async (name, endpoint) => {
        const proxy = await capturingProxy(Number(new URL(endpoint).port));
        proxies[name] = proxy;
        return `http://127.0.0.1:${proxy.port}/as4`;
      },
    });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
    for (const proxy of Object.values(proxies)) proxy.server.close();
  });

  it('relays a message with a verified receipt, C2 accepts the returned RelayAcceptance, and the wire holds only the 2.0 algorithms', async () => {
    const payload = Buffer.from(`<Invoice>${MARKER.repeat(20)}</Invoice>\n`);
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'eDelivery AS4 2.0' }));
    form.append('payload', new Blob([new Uint8Array(payload)], { type: 'application/xml' }), 'invoice.xml');
    const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });
    // `relayed`: C2 verified C3's receipt, signed by the Ed25519 certificate the directory pins for C3.
    const relayed = await waitFor(
      async () => {
        const m = await accessPointInternals(net.c2).context.store.getMessage(id);
        return m && !['submitted', 'relaying'].includes(m.state) ? m : undefined;
      },
      { what: 'the relay receipt' },
    );
    expect(relayed.state, relayed.lastError ?? '').toBe('relayed');
    // C3's evidence, sealed with its P-256 e-seal, carried by its Ed25519 AS4 signature, accepted and stored by C2.
    await waitFor(
      async () =>
        (await accessPointInternals(net.c2).context.store.listEvidence(id)).some(
          (e) => e.event === 'RelayAcceptance',
        ) || undefined,
      { what: 'RelayAcceptance returned to C2' },
    );
    // C4 gets the plaintext at C3: decrypted with C3's X25519 key.
    const inbox = await api<Array<{ id: string; parts: Array<{ partId: string }> }>>(
      net.c3.url,
      RECIPIENT.key,
      '/api/v1/inbox',
    );
    const item = inbox.find((m) => m.parts.length > 0)!;
    const handed = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(Buffer.from(await handed.arrayBuffer()).equals(payload)).toBe(true);

    const trust = loadTrustStore([layout.caCert, layout.caCrl]);
    const v2 = (ap: 'c2' | 'c3') => layout.edelivery2(ap);
    // proxies.c3 saw C2's requests to C3 (the Dispatch) and C3's receipts; proxies.c2 the way back.
    for (const [sender, receiver] of [
      ['c2', 'c3'],
      ['c3', 'c2'],
    ] as const) {
      const proxy = proxies[receiver]!;
      const requests = proxy.sent
        .flatMap((c) => httpMessages(Buffer.concat(c)))
        .filter((r) => r.body.includes('UserMessage'));
      expect(requests.length, `${sender} → ${receiver}`).toBeGreaterThan(0);
      for (const request of requests) {
        expect(request.body.includes(MARKER)).toBe(false);
        const { envelope } = decodeMultipart(request.contentType, request.body);
        for (const alg of [
          AS4_ALG.eddsaEd25519,
          AS4_ALG.x25519,
          AS4_ALG.hkdf,
          AS4_ALG.kwAes128,
          AS4_ALG.aes128Gcm,
        ])
          expect(envelope, alg).toContain(`Algorithm="${alg}"`);
        expect(envelope).not.toContain(AS4_ALG.rsaOaep);
        const report = verifyAs4Capture(request.raw, {
          trust,
          expectedCertificate: certOf(v2(sender).signCert),
          decryptionKeys: [loadSigningIdentity(v2(receiver).encCert, v2(receiver).encKey)],
        });
        expect(report.verdict, JSON.stringify(report.findings)).toBe('VALID');
        expect(report.payloads.length).toBeGreaterThan(0);
        expect(report.payloads.every((p) => p.encrypted)).toBe(true);
      }
      // The receiver stores what it got before it answers: its last receipt may still be on its way through the proxy.
      const receipts = await waitFor(() => {
        const seen = proxy.answered
          .flatMap((c) => httpMessages(Buffer.concat(c)))
          .filter((r) => r.body.includes('Receipt'));
        return seen.length >= requests.length ? seen : undefined;
      });
      for (const receipt of receipts) {
        const report = verifyAs4Capture(receipt.body, {
          trust,
          expectedCertificate: certOf(v2(receiver).signCert),
        });
        expect(report.messageType).toBe('Receipt');
        expect(report.verdict, JSON.stringify(report.findings)).toBe('VALID');
        expect(receipt.body.toString()).toContain(`Algorithm="${AS4_ALG.eddsaEd25519}"`);
      }
    }
  }, 90_000);
});
