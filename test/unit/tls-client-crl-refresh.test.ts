import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAs4TlsClient, type DevPkiLayout } from '../../src/pki/index.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { x509 } from '../../src/pki/x509.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * The AS4 HTTPS client checks a peer's server certificate against the trust store's CRLs (OpenSSL CRL check):
 * with a CRL past its nextUpdate every handshake fails. Given the CRLs as a function (the AP's refreshed trust
 * store), the client builds its connection pools anew once the answer changes: the next handshake passes.
 */
const DAY = 86_400_000;
let pki: DevPkiLayout;
let server: Server;
let url: string;
let stale: string;
let fresh: string;

beforeAll(async () => {
  pki = await devTestPki(join(mkdtempSync(join(tmpdir(), 'qerds-tls-crl-')), 'pki'), {
    aps: ['c3'],
    recipients: [],
  });
  const ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  const now = Date.now();
  stale = crlPem(
    await issueCrl(ca, {
      crlNumber: 2n,
      thisUpdate: new Date(now - 40 * DAY),
      nextUpdate: new Date(now - 10 * DAY),
      entries: [],
    }),
  );
  fresh = crlPem(
    await issueCrl(ca, {
      crlNumber: 3n,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 30 * DAY),
      entries: [],
    }),
  );
  server = createServer(
    { cert: readFileSync(pki.ap('c3').tlsCert), key: readFileSync(pki.ap('c3').tlsKey) },
    (_req, res) => res.end('ok'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
}, 120_000);
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('AS4 TLS client with refreshed CRLs', () => {
  it('fails the handshake on a stale CRL, passes once the CRL function answers a fresh one', async () => {
    let crls: readonly string[] = [stale];
    const client = createAs4TlsClient({
      ca: [readFileSync(pki.caCert, 'utf8')],
      crl: () => crls,
      idleSocketMs: 200,
    });
    try {
      const post = client.forPeer();
      const refused = await post(url, { headers: {}, body: Buffer.from('x'), maxResponseBytes: 1024 }).catch(
        (e: unknown) => e,
      );
      expect(refused).toMatchObject({ code: 'AS4_TLS_HANDSHAKE_FAILED' });
      expect(String((refused as Error).message)).toMatch(/CRL/i);

      crls = [fresh];
      const res = await post(url, { headers: {}, body: Buffer.from('x'), maxResponseBytes: 1024 });
      expect(res.status).toBe(200);
      expect(res.body?.toString('utf8')).toBe('ok');
    } finally {
      client.close();
    }
  }, 60_000);
});
