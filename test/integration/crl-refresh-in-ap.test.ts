import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { loadConfig } from '../../src/config/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { crlPem, importRsaSigningKey, issueCrl } from '../../src/pki/cert-factory.js';
import { crlNumberOf, loadTrustStore, reissueDevCrl, type DevPkiLayout } from '../../src/pki/index.js';
import { x509 } from '../../src/pki/x509.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * The time bomb of a CRL loaded once: an AP that kept the CRL it loaded at start goes stale. Here the AP starts with a CRL due in an
 * hour; its clock (the AP's and its embedded TSA's) then moves two hours on. Stale: /readyz fails, the gauge
 * goes negative, B-LT evidence cannot be sealed. `qerds pki crl` (reissueDevCrl) writes a new CRL into the
 * configured file; within the refresh interval (pki.crlRefresh.intervalMs) the AP takes it without a restart:
 * new evidence is B-LT again with the new CRL (number, thisUpdate) in xades:RevocationValues, and xmlsec1
 * verifies it.
 */
const HOUR = 3_600_000;
const work = mkdtempSync(join(tmpdir(), 'qerds-crl-refresh-ap-'));
let pki: DevPkiLayout;
let ap: AccessPoint;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

/** The CRLs embedded in an evidence's xades:RevocationValues, parsed. */
function embeddedCrls(xml: string): x509.X509Crl[] {
  const values = /<(?:\w+:)?RevocationValues[\s\S]*?<\/(?:\w+:)?RevocationValues>/.exec(xml)?.[0] ?? '';
  return [...values.matchAll(/<(?:\w+:)?EncapsulatedCRLValue[^>]*>([^<]+)</g)].map(
    (m) => new x509.X509Crl(Uint8Array.from(Buffer.from(m[1]!, 'base64'))),
  );
}

async function submit(): Promise<Response> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
  return fetch(`${ap.url}/api/v1/messages`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${SENDER.key}` },
  });
}

async function submissionAcceptance(): Promise<string> {
  const res = await submit();
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const evidence = await accessPointInternals(ap).context.store.listEvidence(id);
  const accepted = evidence.find((e) => e.event === 'SubmissionAcceptance');
  expect(accepted).toBeDefined();
  return accepted!.xml;
}

async function readyz(): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${ap.url}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

async function crlGauge(): Promise<number> {
  const text = await (await fetch(`${ap.url}/metrics`)).text();
  const sample = /^qerds_crl_next_update_seconds\{issuer="[^"]*Root CA"\} (\S+)$/m.exec(text);
  expect(sample, 'qerds_crl_next_update_seconds of the dev CA').not.toBeNull();
  return Number(sample![1]);
}

describe('CRLs refreshed while the AP runs', () => {
  beforeAll(async () => {
    pki = await devTestPki(join(work, 'pki'), { aps: ['c2'], recipients: [] });
    // The CRL the AP starts with: issued an hour ago, due in an hour.
    const ca = {
      cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
      signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
    };
    const now = Date.now();
    writeFileSync(
      pki.caCrl,
      crlPem(
        await issueCrl(ca, {
          crlNumber: 10n,
          thisUpdate: new Date(now - HOUR),
          nextUpdate: new Date(now + HOUR),
          entries: [],
        }),
      ),
    );
    const sealCert = pki.ap('c2').sealCert;
    const config = loadConfig({
      env: {},
      baseDir: work,
      overrides: {
        ap: { id: devApId('c2'), name: 'CRL refresh test AP' },
        http: { port: 0, host: '127.0.0.1' },
        store: { kind: 'sqlite', sqliteFile: join(work, 'qerds.sqlite'), blobDir: join(work, 'blobs') },
        pki: { dir: pki.dir, apName: 'c2', crlRefresh: { intervalMs: 200 } },
        evidence: { level: 'B-LT' },
        // The relay to C3 is not part of this test: nothing listens there, its retries stay in the outbox.
        relay: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
        directory: {
          participants: [
            { id: SENDER.id, name: SENDER.name, endpoint: 'http://127.0.0.1:9/as4', apCertificate: sealCert },
            {
              id: RECIPIENT.id,
              name: RECIPIENT.name,
              endpoint: 'http://127.0.0.1:9/as4',
              apCertificate: sealCert,
            },
          ],
        },
        apiKeys: [{ key: SENDER.key, participant: SENDER.id, name: SENDER.name }],
      },
    });
    ap = await createAccessPoint(config, { clock, logger: pino({ level: 'silent' }) });
    await ap.start();
  }, 180_000);
  afterAll(async () => {
    await ap?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('seals B-LT with the CRL loaded at start while it is current; /readyz warns it is due soon', async () => {
    const xml = await submissionAcceptance();
    const crls = embeddedCrls(xml);
    expect(crls.map((c) => crlNumberOf(c))).toEqual([10n]);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.checks.validationData).toMatch(/^warning: due soon: the CRL of .*Root CA/);
    expect(await crlGauge()).toBeGreaterThan(0);
  }, 60_000);

  it('once the CRL is past nextUpdate: /readyz fails, the gauge is negative, B-LT evidence cannot be sealed', async () => {
    offsetMs = 2 * HOUR;
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.checks.validationData).toMatch(/^stale: the CRL of .*Root CA/);
    expect(ready.checks.store).toBe('ok');
    expect(await crlGauge()).toBeLessThan(0);
    const res = await submit();
    expect(res.ok).toBe(false);
    expect(await res.text()).toContain('REVOCATION_STALE');
  }, 60_000);

  it('takes the re-issued CRL from the configured file without a restart: B-LT again, with the new CRL embedded', async () => {
    const issued = await reissueDevCrl(pki, { clock });
    expect(issued.crlNumber).toBe(11n);
    await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), { timeoutMs: 30_000 });
    expect(await crlGauge()).toBeGreaterThan(29 * 24 * 3600);

    const xml = await submissionAcceptance();
    const crls = embeddedCrls(xml);
    expect(crls.map((c) => crlNumberOf(c))).toEqual([11n]);
    expect(crls[0]!.thisUpdate.getTime()).toBe(Math.floor(issued.thisUpdate.getTime() / 1000) * 1000);
    const xmlsec = xmlsecVerify(xml, pki.caCert);
    expect(xmlsec.ok, xmlsec.output).toBe(true);
    const report = await verifyEvidence(xml, {
      trust: loadTrustStore([pki.caCert, pki.caCrl]),
      at: clock.now(),
    });
    expect(report.indication, report.findings.map((f) => f.message).join('; ')).toBe('TOTAL-PASSED');
  }, 60_000);
});
