import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { TimeStampReq } from '@peculiar/asn1-tsp';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedTestPki, devTestPki } from '../../test/helpers/pki.js';
import type { MessageImprint } from '../core/ports.js';
import { createTrustStore, loadSigningIdentity, type DevPkiLayout, type TrustStore } from '../pki/index.js';
import {
  DEV_TSA_POLICY,
  createHttpTsaClient,
  createLocalTsaClient,
  createTimestampAuthority,
  createTsaRouter,
  verifyTimestampToken,
  type TimestampAuthority,
} from './index.js';

const sha256 = (data: string): MessageImprint => ({
  algorithm: 'sha256',
  digest: createHash('sha256').update(data).digest(),
});

let work: string;
let pki: DevPkiLayout;
let tsa: TimestampAuthority;
let trust: TrustStore;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'qerds-tsa-client-'));
  pki = await devTestPki(join(work, 'pki'));
  tsa = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
  trust = createTrustStore([new X509Certificate(readFileSync(pki.caCert))]);
  const app = express();
  app.use('/tsa', createTsaRouter(tsa));
  app.post('/not-a-tsa', (_req, res) => {
    res.type('text/html').send('<html>hello</html>');
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

/** A TSA in the middle that rewrites each request before the real TSA signs it: a misbehaving or hostile TSA. */
function rewritingTsa(inner: TimestampAuthority, rewrite: (req: TimeStampReq) => void): TimestampAuthority {
  return {
    policy: inner.policy,
    certificate: inner.certificate,
    respond: async (der) => {
      const req = AsnConvert.parse(der, TimeStampReq);
      rewrite(req);
      return inner.respond(Buffer.from(AsnConvert.serialize(req)));
    },
  };
}

describe('createLocalTsaClient', () => {
  it('returns a token that verifies against the imprint and the trust store', async () => {
    const imprint = sha256('local');
    const token = await createLocalTsaClient(tsa, { trust }).timestamp(imprint);
    expect(token.policy).toBe(DEV_TSA_POLICY);
    expect(token.serialNumber).toMatch(/^[0-9a-f]+$/);
    const v = await verifyTimestampToken(token.der, { imprint, trust });
    expect(v.valid).toBe(true);
    expect(v.genTime?.getTime()).toBe(token.genTime.getTime());
  });

  it('works with the openssl-made shared PKI and without certReq', async () => {
    const shared = sharedTestPki();
    const other = createTimestampAuthority({ identity: loadSigningIdentity(shared.tsaCert, shared.tsaKey) });
    const imprint = sha256('bare');
    const token = await createLocalTsaClient(other, { certReq: false }).timestamp(imprint);
    const sharedTrust = createTrustStore([new X509Certificate(readFileSync(shared.caCert))]);
    // Without certReq the token carries no certificate: it verifies once the verifier is handed the TSA's.
    const bare = await verifyTimestampToken(token.der, { imprint, trust: sharedTrust });
    expect(bare.findings.map((f) => f.code)).toEqual(['TSA_SIGNER_CERT_MISSING']);
    const withCert = await verifyTimestampToken(token.der, {
      imprint,
      trust: sharedTrust,
      certificates: [new X509Certificate(readFileSync(shared.tsaCert))],
    });
    expect(withCert.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(withCert.valid).toBe(true);
    expect(withCert.genTime?.getTime()).toBe(token.genTime.getTime());
  });

  it('refuses a reply whose nonce is not the one sent (replay)', async () => {
    const replaying = rewritingTsa(tsa, (req) => {
      req.nonce = new Uint8Array([0x01, 0x02, 0x03]).buffer;
    });
    await expect(createLocalTsaClient(replaying).timestamp(sha256('nonce'))).rejects.toMatchObject({
      code: 'TSA_NONCE_MISMATCH',
    });
  });

  it('refuses a token over another imprint (substitution)', async () => {
    const substituting = rewritingTsa(tsa, (req) => {
      req.messageImprint.hashedMessage = new OctetString(new Uint8Array(sha256('something else').digest));
    });
    await expect(createLocalTsaClient(substituting).timestamp(sha256('mine'))).rejects.toMatchObject({
      code: 'TSA_IMPRINT_MISMATCH',
    });
  });

  it('refuses a TSA outside the trust store, and reports a rejection', async () => {
    const shared = sharedTestPki();
    const outsider = createTimestampAuthority({
      identity: loadSigningIdentity(shared.tsaCert, shared.tsaKey),
    });
    await expect(createLocalTsaClient(outsider, { trust }).timestamp(sha256('x'))).rejects.toMatchObject({
      code: 'TSA_CERT_UNTRUSTED',
    });
    await expect(
      createLocalTsaClient(tsa, { policy: '1.2.3.4' }).timestamp(sha256('x')),
    ).rejects.toMatchObject({
      code: 'TSA_REJECTED',
      details: { status: 'rejection' },
    });
  });
});

describe('createTsaRouter + createHttpTsaClient', () => {
  it('timestamps over HTTP on a real server', async () => {
    const imprint = sha256('over http');
    const client = createHttpTsaClient({ url: `${baseUrl}/tsa`, trust, timeoutMs: 5000 });
    const token = await client.timestamp(imprint);
    const v = await verifyTimestampToken(token.der, { imprint, trust });
    expect(v.valid).toBe(true);
    expect(v.policy).toBe(DEV_TSA_POLICY);
  });

  it('answers a wrong content type with 415 problem+json', async () => {
    const res = await fetch(`${baseUrl}/tsa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 415 });
  });

  it('answers an oversized body with 413, and garbage with a rejection TimeStampResp', async () => {
    const big = await fetch(`${baseUrl}/tsa`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array(100 * 1024),
    });
    expect(big.status).toBe(413);
    const garbage = await fetch(`${baseUrl}/tsa`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(garbage.status).toBe(200);
    expect(garbage.headers.get('content-type')).toBe('application/timestamp-reply');
    const body = Buffer.from(await garbage.arrayBuffer());
    // TimeStampResp { PKIStatusInfo { status 2 (rejection), … } }
    expect([body[0], body[2], body[4], body[5], body[6]]).toEqual([0x30, 0x30, 0x02, 0x01, 0x02]);
  });

  it('fails cleanly on a non-TSA endpoint, a 404 and an unreachable server', async () => {
    await expect(
      createHttpTsaClient({ url: `${baseUrl}/not-a-tsa` }).timestamp(sha256('a')),
    ).rejects.toMatchObject({
      code: 'TSA_BAD_RESPONSE',
    });
    await expect(
      createHttpTsaClient({ url: `${baseUrl}/nowhere` }).timestamp(sha256('a')),
    ).rejects.toMatchObject({
      code: 'TSA_UNAVAILABLE',
    });
    await expect(
      createHttpTsaClient({ url: 'http://127.0.0.1:1/', timeoutMs: 2000 }).timestamp(sha256('a')),
    ).rejects.toMatchObject({
      code: 'TSA_UNAVAILABLE',
    });
  });
});
