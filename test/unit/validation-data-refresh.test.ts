import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createValidationDataRefresh } from '../../src/access-point/validation-data-refresh.js';
import { configSchema } from '../../src/config/index.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { createCrlSet, readTrustMaterial, type DevPkiLayout } from '../../src/pki/index.js';
import { x509 } from '../../src/pki/x509.js';
import {
  createLiveTrustLists,
  devTrustListXml,
  loadConfiguredTrustLists,
} from '../../src/trust-list/index.js';
import { waitFor } from '../helpers/wait.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * The AP's refresh of CRLs and trusted lists (access-point/validation-data-refresh.ts) as the operator sees it:
 * /readyz is ok, warns within warnBeforeMs of a nextUpdate, fails past it (except for an `allowStale` list);
 * refusals are logged as warnings and counted.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const work = mkdtempSync(join(tmpdir(), 'qerds-validation-data-'));
let pki: DevPkiLayout;
let ca: { cert: x509.X509Certificate; signingKey: CryptoKey };
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { aps: ['c2'], recipients: [] });
  ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
}, 120_000);

async function setUp(options: {
  crlDays: number;
  allowStale: boolean;
  crlRefresh?: Record<string, unknown>;
}) {
  const crlFile = join(mkdtempSync(join(work, 'crl-')), 'ca.crl.pem');
  writeFileSync(
    crlFile,
    crlPem(
      await issueCrl(ca, {
        crlNumber: 1n,
        thisUpdate: t0,
        nextUpdate: new Date(t0.getTime() + options.crlDays * DAY),
        entries: [],
      }),
    ),
  );
  const listFile = join(mkdtempSync(join(work, 'tl-')), 'list.xml');
  writeFileSync(listFile, await devTrustListXml(pki, ['c2'], t0, new Date(t0.getTime() + 10 * DAY)));
  const entries = [{ path: listFile, signerAnchors: [pki.caCert], allowStale: options.allowStale }];
  const material = readTrustMaterial([pki.caCert, crlFile]);
  let now = t0;
  const lines: { level: number; code?: string; msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
  );
  const counted: string[] = [];
  const refresh = createValidationDataRefresh({
    crls: createCrlSet(material.crls, material.anchors),
    trustLists: createLiveTrustLists(entries, await loadConfiguredTrustLists(entries, t0)),
    files: [pki.caCert, crlFile],
    certificates: material.anchors,
    settings: configSchema.parse({ pki: { crlRefresh: options.crlRefresh ?? {} } }).pki.crlRefresh,
    clock: { now: () => now },
    log,
    onRefreshed: (kind, outcome, count) => counted.push(`${kind} ${outcome} ${count}`),
  });
  return { refresh, crlFile, lines, counted, setNow: (at: Date) => (now = at) };
}

describe('validation data refresh in the AP', () => {
  it('readiness: ok, a warning within warnBeforeMs (24 h) of a nextUpdate, a failure past it', async () => {
    const { refresh, setNow } = await setUp({ crlDays: 3, allowStale: false });
    expect(
      refresh
        .held()
        .map((h) => h.kind)
        .sort(),
    ).toEqual(['crl', 'trust-list']);
    await expect(refresh.readiness()).resolves.toBeUndefined();
    setNow(new Date(t0.getTime() + 2.5 * DAY));
    await expect(refresh.readiness()).resolves.toMatch(/^due soon: the CRL of .*Root CA/);
    setNow(new Date(t0.getTime() + 4 * DAY));
    await expect(refresh.readiness()).rejects.toThrow(/^stale: the CRL of .*Root CA/);
    // Past the trusted list's NextUpdate too: both are named.
    setNow(new Date(t0.getTime() + 11 * DAY));
    await expect(refresh.readiness()).rejects.toThrow(
      /the CRL of .*; the trusted list of qerds-ap DEV ONLY scheme operator/,
    );
  }, 60_000);

  it('an allowStale list past its NextUpdate does not make the AP unready', async () => {
    const { refresh, setNow } = await setUp({ crlDays: 30, allowStale: true });
    setNow(new Date(t0.getTime() + 11 * DAY));
    await expect(refresh.readiness()).resolves.toBeUndefined();
  }, 60_000);

  it('logs a refused CRL as a warning with its code and counts it; a newer one is taken and counted', async () => {
    const { refresh, crlFile, lines, counted } = await setUp({ crlDays: 30, allowStale: false });
    writeFileSync(
      crlFile,
      crlPem(
        await issueCrl(ca, {
          crlNumber: 0n,
          thisUpdate: new Date(t0.getTime() - DAY),
          nextUpdate: new Date(t0.getTime() + DAY),
          entries: [],
        }),
      ),
    );
    await refresh.runOnce();
    expect(lines.filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({ code: 'PKI_CRL_ROLLBACK', msg: 'CRL not taken; the one held stays in use' }),
    ]);
    expect(counted).toEqual(['crl refused 1']);

    writeFileSync(
      crlFile,
      crlPem(
        await issueCrl(ca, {
          crlNumber: 2n,
          thisUpdate: new Date(t0.getTime() + HOUR),
          nextUpdate: new Date(t0.getTime() + 30 * DAY),
          entries: [],
        }),
      ),
    );
    await refresh.runOnce();
    expect(lines.some((l) => l.msg === 'CRL refreshed')).toBe(true);
    expect(counted).toEqual(['crl refused 1', 'crl accepted 1']);
  }, 60_000);

  it('with fetch, the running refresh GETs the configured CRL URL (loopback http) and takes each newer CRL', async () => {
    let served = crlPem(
      await issueCrl(ca, {
        crlNumber: 5n,
        thisUpdate: new Date(t0.getTime() + HOUR),
        nextUpdate: new Date(t0.getTime() + 30 * DAY),
        entries: [],
      }),
    );
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end(served);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
    const { refresh, lines } = await setUp({
      crlDays: 3,
      allowStale: false,
      crlRefresh: { fetch: true, urls: [url], intervalMs: 100 },
    });
    try {
      refresh.start();
      await waitFor(() => (lines.some((l) => l.msg === 'CRL refreshed') ? true : undefined), {
        timeoutMs: 20_000,
      });
      expect(refresh.held().find((h) => h.kind === 'crl')?.nextUpdate).toEqual(
        new Date(t0.getTime() + 30 * DAY),
      );
      served = crlPem(
        await issueCrl(ca, {
          crlNumber: 6n,
          thisUpdate: new Date(t0.getTime() + 2 * HOUR),
          nextUpdate: new Date(t0.getTime() + 31 * DAY),
          entries: [],
        }),
      );
      await waitFor(
        () =>
          refresh
            .held()
            .find((h) => h.kind === 'crl')
            ?.nextUpdate?.getTime() ===
          t0.getTime() + 31 * DAY
            ? true
            : undefined,
        { timeoutMs: 20_000 },
      );
      expect(requests).toBeGreaterThanOrEqual(2);
    } finally {
      await refresh.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);

  it('configuration: documented defaults; CRL URLs must be http', () => {
    expect(configSchema.parse({}).pki.crlRefresh).toEqual({
      intervalMs: 3_600_000,
      fetch: false,
      urls: [],
      timeoutMs: 10_000,
      maxBytes: 20 * 1024 * 1024,
      warnBeforeMs: 86_400_000,
    });
    expect(() =>
      configSchema.parse({ pki: { crlRefresh: { urls: ['https://ca.example/ca.crl'] } } }),
    ).toThrow(/http only/);
    expect(() => configSchema.parse({ pki: { crlRefresh: { intervalMs: -1 } } })).toThrow();
  });
});
