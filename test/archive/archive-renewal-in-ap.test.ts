import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { opensslTsaCertificate } from '../seal/long-lived-tsa.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * The archive renewal runs by itself inside `qerds start` (retention.renewIntervalMs). Run 1: the APs'
 * embedded TSA has a certificate that expires tomorrow (openssl-made), evidence is issued at B-LT, no sweep.
 * Run 2, same stores, the TSA certificate renewed (the dev TSA, 825 days): the sweep raises every evidence to
 * B-LTA without being asked, counts it in /metrics, and the renewed evidence still verifies (ours and
 * xmlsec1) with the clock set past the old TSA certificate's expiry — the B-LT copy from run 1 does not.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-renewal-ap-'));
const DAY = 86_400_000;
let pki: DevPkiLayout;

function xmlsecVerifyAt(xml: string, caCert: string, at: Date): boolean {
  const file = join(mkdtempSync(join(tmpdir(), 'qerds-renewal-xmlsec-')), 'e.xml');
  writeFileSync(file, xml);
  const time = at.toISOString().slice(0, 19).replace('T', ' ');
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      '--trusted-pem',
      caCert,
      '--verification-time',
      time,
      '--id-attr:Id',
      'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
      file,
    ],
    { encoding: 'utf8' },
  );
  return r.status === 0;
}

describe('archive renewal inside the AP', () => {
  let net: TwoAccessPoints | undefined;
  let messageId: string;
  let before: Map<string, string>;
  beforeAll(async () => {
    pki = await devTestPki(join(work, 'pki'), { recipients: [] });
  }, 120_000);
  afterAll(() => net?.stop());

  it('run 1: evidence issued under a TSA certificate that expires tomorrow', async () => {
    const shortTsa = opensslTsaCertificate(pki, 1, 'Short-lived TSA');
    net = await startTwoAccessPoints({
      outDir: work,
      pkiDir: pki.dir,
      overrides: {
        tsa: { cert: shortTsa.certFile, key: shortTsa.keyFile },
        retention: { renewIntervalMs: 0 },
      },
    });
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    messageId = (
      await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })
    ).id;
    const c2 = net.c2;
    const chain = await waitFor(
      async () => {
        const evidence = await accessPointInternals(c2).context.store.listEvidence(messageId);
        return evidence.some((e) => e.event === 'RelayAcceptance') ? evidence : undefined;
      },
      { timeoutMs: 60_000 },
    );
    before = new Map(chain.map((e) => [e.id, e.xml]));
    for (const xml of before.values()) expect(xml).not.toContain('ArchiveTimeStamp');
    await net.stop();
    net = undefined;
  }, 120_000);

  it('run 2: the sweep renews every due evidence by itself; it verifies past the old TSA certificate expiry', async () => {
    net = await startTwoAccessPoints({
      outDir: work,
      pkiDir: pki.dir,
      overrides: { retention: { renewIntervalMs: 300, renewBeforeDays: 1 } },
    });
    const c2 = net.c2;
    const renewed = await waitFor(
      async () => {
        const evidence = (await accessPointInternals(c2).context.store.listEvidence(messageId)).filter((e) =>
          before.has(e.id),
        );
        return evidence.length === before.size && evidence.every((e) => e.xml.includes('ArchiveTimeStamp'))
          ? evidence
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const metrics = await (await fetch(`${c2.url}/metrics`)).text();
    expect(Number(/^qerds_archive_renewed_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      before.size,
    );

    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const pastShortTsa = new Date(Date.now() + 2 * DAY);
    for (const e of renewed) {
      const report = await verifyEvidence(e.xml, { trust, at: pastShortTsa });
      expect(report.indication, `${e.event}: ${report.findings.map((f) => f.message).join('; ')}`).toBe(
        'TOTAL-PASSED',
      );
      expect(xmlsecVerifyAt(e.xml, pki.caCert, pastShortTsa)).toBe(true);
      // Control: the same evidence as run 1 left it (B-LT under the short-lived TSA) is no longer provable then.
      expect((await verifyEvidence(before.get(e.id)!, { trust, at: pastShortTsa })).indication).not.toBe(
        'TOTAL-PASSED',
      );
    }
  }, 120_000);
});
