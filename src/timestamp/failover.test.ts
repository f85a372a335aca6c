import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { GeneralName, Name } from '@peculiar/asn1-x509';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslTsa } from '../../test/helpers/openssl-tsa.js';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { isQerdsError, QerdsError } from '../core/errors.js';
import type { MessageImprint } from '../core/ports.js';
import { CMS_OID, createCmsSignature, prepareCmsSigner } from '../crypto/index.js';
import {
  certificateNameDer,
  createTrustStore,
  loadSigningIdentity,
  type SigningIdentity,
  type TrustStore,
} from '../pki/index.js';
import { parseTimestampToken } from './token.js';
import {
  createFailoverTsaClient,
  createHttpTsaClient,
  createTimestampAuthority,
  createTsaRouter,
  verifyTimestampToken,
} from './index.js';

const imprint: MessageImprint = {
  algorithm: 'sha256',
  digest: createHash('sha256').update('fail-over').digest(),
};
const SECOND_POLICY = '1.3.6.1.4.1.32473.1.2';
const pki = sharedTestPki();
let identity: SigningIdentity;
let trust: TrustStore;
let servers: Server[] = [];
let downHits = 0;
const urls = { failing: '', second: '', closed: '' };

async function listen(app: express.Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
}

beforeAll(async () => {
  identity = loadSigningIdentity(pki.tsaCert, pki.tsaKey);
  trust = createTrustStore([new X509Certificate(readFileSync(pki.caCert))]);
  const failing = express();
  failing.post('/tsa', (_req, res) => {
    downHits += 1;
    res.status(500).send('down');
  });
  urls.failing = await listen(failing);
  const good = express();
  good.use(
    '/tsa',
    createTsaRouter(createTimestampAuthority({ identity, policyOid: SECOND_POLICY, tsaName: true })),
  );
  urls.second = await listen(good);
  // A port that was open and is closed now: connection refused.
  const gone = express();
  urls.closed = await listen(gone);
  await new Promise((r) => (servers.pop() as Server).close(r));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

describe('createFailoverTsaClient over two real HTTP TSAs on loopback', () => {
  it('the first answers 500, the token comes from the second; the first is skipped while cooling down', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const warnings: Record<string, unknown>[] = [];
    const client = createFailoverTsaClient(
      [createHttpTsaClient({ url: urls.failing, trust }), createHttpTsaClient({ url: urls.second, trust })],
      {
        cooldownMs: 60_000,
        names: [urls.failing, urls.second],
        clock: { now: () => new Date(now) },
        log: { warn: (o) => warnings.push(o) },
      },
    );
    const hitsBefore = downHits;
    const token = await client.timestamp(imprint);
    expect(token.policy).toBe(SECOND_POLICY);
    expect(downHits).toBe(hitsBefore + 1);
    expect(warnings[0]).toMatchObject({ tsa: urls.failing, code: 'TSA_UNAVAILABLE' });
    expect((await verifyTimestampToken(token.der, { imprint, trust })).valid).toBe(true);

    now += 30_000; // within the cooldown: the failed TSA is not asked
    expect((await client.timestamp(imprint)).policy).toBe(SECOND_POLICY);
    expect(downHits).toBe(hitsBefore + 1);

    now += 60_000; // after it: asked first again
    await client.timestamp(imprint);
    expect(downHits).toBe(hitsBefore + 2);
  });

  it('all fail: TSA_UNAVAILABLE naming each TSA and its cause', async () => {
    const client = createFailoverTsaClient(
      [
        createHttpTsaClient({ url: urls.closed, timeoutMs: 2000 }),
        createHttpTsaClient({ url: urls.failing }),
      ],
      { names: ['closed', 'http-500'] },
    );
    const err = await client.timestamp(imprint).catch((e: unknown) => e);
    expect(isQerdsError(err, 'TSA_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /closed: TSA_UNAVAILABLE cannot reach.*http-500: TSA_UNAVAILABLE .*HTTP 500/,
    );
    expect((err as QerdsError).details?.causes).toHaveLength(2);
  });

  it('a TSA whose token fails the client checks counts as failed too', async () => {
    // The second TSA signs with a certificate outside this trust store: its client refuses the token.
    const foreignTrust = createTrustStore([]);
    const client = createFailoverTsaClient([
      createHttpTsaClient({ url: urls.second, trust: foreignTrust }),
      createHttpTsaClient({ url: urls.second, trust }),
    ]);
    expect((await client.timestamp(imprint)).policy).toBe(SECOND_POLICY);
  });
});

describe('TSTInfo.tsa (RFC 3161 §2.4.2): named by our TSA, checked by us and by openssl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-tsa-name-'));
  const opensslVerify = (token: Buffer) => {
    writeFileSync(join(dir, 't.der'), token);
    return spawnSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-digest',
        imprint.digest.toString('hex'),
        '-token_in',
        '-in',
        join(dir, 't.der'),
        '-CAfile',
        pki.caCert,
      ],
      { encoding: 'utf8' },
    );
  };
  /** A token signed by the TSA key but naming another TSA (its TSTInfo re-signed): what a TSA must not issue. */
  function tokenNaming(tokenDer: Buffer, subjectDer: Buffer): Buffer {
    const tstInfo = AsnConvert.parse(parseTimestampToken(tokenDer).tstInfoDer, TSTInfo);
    tstInfo.tsa = new GeneralName({ directoryName: AsnConvert.parse(subjectDer, Name) });
    return createCmsSignature(prepareCmsSigner(identity), {
      eContentType: CMS_OID.tstInfo,
      content: Buffer.from(AsnConvert.serialize(tstInfo)),
      encapsulate: true,
      signingTime: new Date(),
      includeCertificates: true,
    }).encode();
  }

  it('our token names the TSA by its subject; openssl ts -verify (which compares it with the signer) accepts it', async () => {
    const token = await createHttpTsaClient({ url: urls.second }).timestamp(imprint);
    const v = await verifyTimestampToken(token.der, { imprint, trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.tsaName).toContain('Shared');
    expect(v.accuracyMs).toBe(1000);
    const o = opensslVerify(token.der);
    expect(`${o.stdout}${o.stderr}`).toContain('Verification: OK');

    const forged = tokenNaming(
      token.der,
      certificateNameDer(new X509Certificate(readFileSync(pki.ap('c2').sealCert)), 'subject'),
    );
    const bad = await verifyTimestampToken(forged, { imprint, trust });
    expect(bad.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'TSA_NAME_MISMATCH',
    ]);
    expect(bad.tsaName).toContain('c2');
    const ob = opensslVerify(forged);
    expect(ob.status).not.toBe(0);
    expect(`${ob.stdout}${ob.stderr}`).toMatch(/tsa name mismatch/i);
  });

  it('an openssl token with tsa_name = yes passes our check', async () => {
    const token = await opensslTsa(pki).timestamp(imprint);
    const v = await verifyTimestampToken(token.der, { imprint, trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.tsaName).toBeDefined();
  });
});

describe('config: tsa.urls', () => {
  it('takes several TSA URLs with a cooldown, and names a bad one', async () => {
    const { loadConfig } = await import('../config/index.js');
    const config = loadConfig({
      env: {},
      overrides: {
        tsa: {
          mode: 'remote',
          urls: ['https://tsa1.example/tsr', 'https://tsa2.example/tsr'],
          cooldownMs: 5000,
        },
      },
    });
    expect(config.tsa.urls).toEqual(['https://tsa1.example/tsr', 'https://tsa2.example/tsr']);
    expect(config.tsa.cooldownMs).toBe(5000);
    expect(loadConfig({ env: {} }).tsa.cooldownMs).toBe(30_000);
    expect(() => loadConfig({ env: {}, overrides: { tsa: { urls: ['not a url'] } } })).toThrow(/tsa\.urls/);
  });
});
