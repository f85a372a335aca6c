import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArchiveRenewalJob, renewArchiveTimestamps } from '../../src/archive/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import type { TsaClient } from '../../src/core/ports.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import {
  createTrustStore,
  loadSigningIdentity,
  loadTrustStore,
  type TrustStore,
} from '../../src/pki/index.js';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { crlIssuedAt, sharedTestPki } from '../helpers/pki.js';
import { opensslTsaCertificate } from '../seal/long-lived-tsa.js';

const DAY = 86_400_000;
const MARGIN = 90 * DAY;

/**
 * The archive's re-timestamping sweep on a real (SQLite) store: with the clock inside the renewal margin
 * of the first TSA's certificate, every B-T evidence is raised to B-LTA by a longer-lived archive TSA, the
 * replaced XML kept as a version; the renewed evidence verifies after both the seal's and the first TSA's
 * certificates have expired, the original does not. Before the margin, the sweep changes nothing.
 */
describe('renewArchiveTimestamps: B-LTA renewal of stored evidence before the newest timestamp expires', () => {
  let store: Store;
  let trust: TrustStore;
  let archiveTsa: TsaClient;
  let original: string;
  let tsaExpiry: Date;
  let sealExpiry: Date;
  const pki = sharedTestPki();

  beforeAll(async () => {
    const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const longTsa = opensslTsaCertificate(pki, 3000);
    archiveTsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(longTsa.certFile, longTsa.keyFile) }),
    );
    const sealer = xadesSealer({
      identity,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    original = (await issueEvidence(evidenceSamples().SubmissionAcceptance, sealer)).xml;
    tsaExpiry = new Date(new X509Certificate(readFileSync(pki.tsaCert)).validTo);
    sealExpiry = new Date(identity.certificate.validTo);

    store = createSqliteStore({ file: ':memory:', blobDir: mkdtempSync(join(tmpdir(), 'qerds-renew-')) });
    await store.migrate();
    const m = {
      id: 'm-1',
      ebmsMessageId: 'e-1@test',
      role: 'sender-ap' as const,
      state: 'submitted' as const,
      sender: { scheme: '0188', value: '1' },
      recipient: { scheme: '0188', value: '2' },
      parts: [],
      submittedAt: new Date(),
    };
    await store.transaction(async (tx) => {
      await tx.insertMessage(m);
      await tx.insertEvidence({
        id: 'ev-1',
        messageId: 'm-1',
        event: 'SubmissionAcceptance',
        eventTime: new Date(),
        xml: original,
        issuedBy: 'urn:ap',
      });
      // A stored evidence that cannot be renewed (no seal at all): reported, and the sweep goes on.
      await tx.insertEvidence({
        id: 'ev-0-broken',
        messageId: 'm-1',
        event: 'RelayAcceptance',
        eventTime: new Date(),
        xml: '<x/>',
        issuedBy: 'urn:ap',
      });
    });
  });
  afterAll(() => store?.close());

  it('before the margin: nothing is due, nothing changes', async () => {
    const r = await renewArchiveTimestamps(store, {
      tsa: archiveTsa,
      now: new Date(tsaExpiry.getTime() - MARGIN - DAY),
      renewBeforeMs: MARGIN,
    });
    expect(r.scanned).toBe(2);
    expect(r.renewed).toEqual([]);
    expect(r.failed.map((f) => f.id)).toEqual(['ev-0-broken']);
    expect((await store.getEvidence('ev-1'))?.xml).toBe(original);
    expect(await store.listEvidenceVersions('ev-1')).toEqual([]);
  });

  it('inside the margin: raised to B-LTA, the original kept as version 1; verifies after every certificate expired', async () => {
    const now = new Date(tsaExpiry.getTime() - MARGIN + DAY);
    const r = await renewArchiveTimestamps(store, {
      tsa: archiveTsa,
      now,
      renewBeforeMs: MARGIN,
      crls: trust.crls,
      certificates: [...trust.anchors],
    });
    expect(r.renewed.map((x) => x.id)).toEqual(['ev-1']);
    expect(r.failed.map((f) => f.id)).toEqual(['ev-0-broken']);
    const renewed = (await store.getEvidence('ev-1'))!.xml;
    expect(renewed).not.toBe(original);
    expect(await store.listEvidenceVersions('ev-1')).toEqual([
      { version: 1, xml: original, replacedAt: now },
    ]);
    // The signed part is unchanged: the augmented XML holds the original SignatureValue.
    const sigValue = /<ds:SignatureValue[^>]*>([^<]+)</.exec(original)![1]!;
    expect(renewed).toContain(sigValue);

    const later = new Date(Math.max(tsaExpiry.getTime(), sealExpiry.getTime()) + 30 * DAY);
    // The verifier of that time holds the CA's CRL of that time (today's no longer covers it: TRY_LATER).
    expect(await verifyEvidence(renewed, { trust, at: later })).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'TRY_LATER',
    });
    const trustThen = createTrustStore(trust.anchors, {
      crls: [await crlIssuedAt(pki, new Date(later.getTime() - DAY))],
    });
    const report = await verifyEvidence(renewed, { trust: trustThen, at: later });
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.seal?.level).toBe('B-LTA');
    expect((await verifyEvidence(original, { trust: trustThen, at: later })).indication).not.toBe(
      'TOTAL-PASSED',
    );

    // Run again at the same time: the newest timestamp is now the archive TSA's (3000 days): not due.
    const again = await renewArchiveTimestamps(store, { tsa: archiveTsa, now, renewBeforeMs: MARGIN });
    expect(again.renewed).toEqual([]);
  });

  it('the scheduled job sweeps at start and on its interval, with the injected clock', async () => {
    const other = createSqliteStore({
      file: ':memory:',
      blobDir: mkdtempSync(join(tmpdir(), 'qerds-renew-job-')),
    });
    await other.migrate();
    await other.transaction(async (tx) => {
      await tx.insertMessage({
        id: 'm-2',
        ebmsMessageId: 'e-2@test',
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0188', value: '1' },
        recipient: { scheme: '0188', value: '2' },
        parts: [],
        submittedAt: new Date(),
      });
      await tx.insertEvidence({
        id: 'ev-2',
        messageId: 'm-2',
        event: 'SubmissionAcceptance',
        eventTime: new Date(),
        xml: original,
        issuedBy: 'urn:ap',
      });
    });
    let now = new Date(tsaExpiry.getTime() - MARGIN - DAY);
    const job = createArchiveRenewalJob({
      store: other,
      clock: { now: () => now },
      tsa: archiveTsa,
      renewBeforeMs: MARGIN,
      intervalMs: 50,
    });
    try {
      job.start();
      const first = await job.runOnce();
      expect(first.renewed).toEqual([]);
      now = new Date(tsaExpiry.getTime() - MARGIN + DAY);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await other.listEvidenceVersions('ev-2')).length === 0)
        await new Promise((r) => setTimeout(r, 25));
      expect((await other.listEvidenceVersions('ev-2')).map((v) => v.xml)).toEqual([original]);
    } finally {
      await job.stop();
      await other.close();
    }
  });
});
