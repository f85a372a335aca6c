import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint } from '../../src/access-point.js';
import {
  api,
  SENDER,
  RECIPIENT,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { loadConfig } from '../../src/config/index.js';
import { loadSigningIdentity, type DevPkiLayout } from '../../src/pki/index.js';
import { buildTrustList, devTrustListXml } from '../../src/trust-list/index.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Trusted lists in a running AP (pki.trustLists, pki.listedPeersOnly): the dev list that `qerds pki init`
 * writes is loaded at start (a tampered copy stops the start), POST /api/v1/verify reports the seal and the
 * TSA as qualified from it, and an AS4 peer that the list does not name as a QERDS is refused (EBMS:0101).
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-trust-lists-'));
let pki: DevPkiLayout;
const cert = (file: string) => new X509Certificate(readFileSync(file));
const listed = (path: string) => ({
  trustLists: [{ path, signerAnchors: [pki.caCert] }],
  listedPeersOnly: true,
});

async function submit(net: TwoAccessPoints): Promise<string> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
  return (
    await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })
  ).id;
}
const events = async (net: TwoAccessPoints, id: string) =>
  (await api<Array<{ event: string }>>(net.c2.url, SENDER.key, `/api/v1/messages/${id}/evidence`)).map(
    (e) => e.event,
  );

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { trustList: devTrustListXml });
}, 120_000);

describe('pki.trustLists at start', () => {
  it('refuses to start on a tampered copy of the dev list, naming the file and the cause', async () => {
    const tampered = join(work, 'tampered.xml');
    writeFileSync(tampered, readFileSync(pki.trustList, 'utf8').replace('DEV ONLY TSA<', 'DEV ONLY TSB<'));
    const config = loadConfig({
      env: {},
      baseDir: work,
      overrides: {
        pki: { dir: pki.dir, apName: 'c2', trustLists: [{ path: tampered, signerAnchors: [pki.caCert] }] },
        store: { sqliteFile: join(work, 'x.sqlite'), blobDir: join(work, 'xblobs') },
      },
    });
    const err = await createAccessPoint(config).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TL_SIGNATURE_INVALID' });
    expect((err as Error).message).toContain(tampered);
  });

  it('refuses listedPeersOnly without a list', async () => {
    const config = loadConfig({
      env: {},
      baseDir: work,
      overrides: {
        pki: { dir: pki.dir, apName: 'c2', listedPeersOnly: true },
        store: { sqliteFile: join(work, 'y.sqlite'), blobDir: join(work, 'yblobs') },
      },
    });
    await expect(createAccessPoint(config)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('two APs that accept only listed QERDS peers', () => {
  let net: TwoAccessPoints;
  beforeAll(async () => {
    net = await startTwoAccessPoints({
      outDir: join(work, 'listed'),
      pkiDir: pki.dir,
      overrides: { pki: listed(pki.trustList) },
    });
  }, 120_000);
  afterAll(() => net?.stop());

  it('relays between listed peers, and the verify API says seal and TSA are qualified by the list', async () => {
    const id = await submit(net);
    await waitFor(async () => ((await events(net, id)).includes('RelayAcceptance') ? true : undefined), {
      timeoutMs: 60_000,
    });
    const [acceptance] = await accessPointInternals(net.c2).context.store.listEvidence(id);
    const result = await api<{
      valid: boolean;
      report: {
        qualified?: {
          seal?: { qualified: boolean; serviceType?: string };
          tsa?: { qualified: boolean; serviceType?: string };
        };
      };
    }>(net.c2.url, SENDER.key, '/api/v1/verify', {
      method: 'POST',
      body: acceptance!.xml,
      headers: { 'content-type': 'application/xml' },
    });
    expect(result.valid).toBe(true);
    expect(result.report.qualified?.seal).toMatchObject({ qualified: true, serviceType: 'QERDS' });
    expect(result.report.qualified?.tsa).toMatchObject({ qualified: true, serviceType: 'QTST' });
  }, 90_000);
});

describe('a recipient AP whose list does not name the sending AP', () => {
  let net: TwoAccessPoints;
  beforeAll(async () => {
    // Same CA, same signer: only the services differ. C2's seal chains to the CA, but is no QERDS on this list.
    const since = new Date(cert(pki.caCert).validFrom);
    const withoutC2 = join(work, 'without-c2.xml');
    writeFileSync(
      withoutC2,
      await buildTrustList({
        schemeOperator: 'Test scheme without C2',
        services: [
          {
            type: 'QESeal',
            name: 'CA',
            certificate: cert(pki.caCert),
            status: 'granted',
            statusStartingTime: since,
          },
          {
            type: 'QTST',
            name: 'TSA',
            certificate: cert(pki.tsaCert),
            status: 'granted',
            statusStartingTime: since,
          },
          {
            type: 'QERDS',
            name: 'C3',
            certificate: cert(pki.ap('c3').sealCert),
            status: 'granted',
            statusStartingTime: since,
          },
        ],
        signer: loadSigningIdentity(pki.tlSignerCert, pki.tlSignerKey),
        issued: new Date(),
        nextUpdate: new Date(Date.now() + 86_400_000),
      }),
    );
    net = await startTwoAccessPoints({
      outDir: join(work, 'unlisted'),
      pkiDir: pki.dir,
      overrides: (name) => ({
        pki: listed(name === 'c3' ? withoutC2 : pki.trustList),
        relay: { maxAttempts: 2 },
      }),
    });
  }, 120_000);
  afterAll(() => net?.stop());

  it('refuses the message with EBMS:0101: RelayFailure at C2, nothing stored at C3', async () => {
    const id = await submit(net);
    const names = await waitFor(
      async () => {
        const e = await events(net, id);
        return e.includes('RelayFailure') ? e : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(names).not.toContain('RelayAcceptance');
    const relayFailure = (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
      (e) => e.event === 'RelayFailure',
    );
    expect(relayFailure?.xml).toMatch(/0101|FailedAuthentication|not a QERDS/);
    const message = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(
      await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
        message!.ebmsMessageId,
        'recipient-ap',
      ),
    ).toBeUndefined();
  }, 90_000);
});
