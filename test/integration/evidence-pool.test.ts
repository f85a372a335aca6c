import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePool } from '../../src/access-point/evidence-pool.js';
import { checkEvidence, sealEvidence } from '../../src/access-point/evidence-work.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { isQerdsError, systemClock } from '../../src/core/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import type { TwoAccessPoints } from '../../src/harness/two-access-points.js';
import {
  createTrustStore,
  loadSigningIdentity,
  readTrustMaterial,
  revokeCertificate,
  type CrlSet,
  type DevPkiLayout,
} from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { devPkiEvidencePool, sampleEvidence } from '../helpers/dev-pki-pool.js';
import { devTestPki } from '../helpers/pki.js';
import { evidenceAtC2Once, startPooledAccessPoints, submitText } from '../helpers/pooled-aps.js';

/**
 * The evidence pool (performance.workerThreads): evidence issued and verified in worker threads is the evidence
 * the main thread issues; a thread that dies fails only its calls, retryably, and is replaced; a CRL the main
 * thread took is used by the next verdict; closing terminates the threads.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-evidence-pool-'));
let pki: DevPkiLayout;

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'));
});

describe('the evidence pool on its own', () => {
  let pool: EvidencePool;
  let crls: CrlSet;

  beforeAll(() => {
    ({ pool, crls } = devPkiEvidencePool(pki, { ap: 'c3', level: 'B-LT', embedCaCertificates: true }));
  });
  afterAll(async () => pool.close());

  it('seals what the main thread seals, and verifies it as the main thread does', async () => {
    const trust = createTrustStore(readTrustMaterial([pki.caCert]).anchors, { crls });
    const inline = await sealEvidence(
      {
        identity: loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey),
        tsa: createLocalTsaClient(
          createTimestampAuthority({
            identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey),
            policyOid: '1.3.6.1.4.1.99999.1',
          }),
        ),
        level: 'B-LT',
        crls: () => crls.current,
        certificates: trust.anchors,
      },
      sampleEvidence('ev-inline'),
      'sig-inline',
      systemClock,
    );
    const pooled = await pool.seal(sampleEvidence('ev-pooled'), 'sig-pooled', systemClock);
    expect(pool.threadIds).toHaveLength(1);
    for (const xml of [inline, pooled]) {
      const report = await verifyEvidence(xml, { trust });
      expect(report.indication, JSON.stringify(report.findings)).toBe('TOTAL-PASSED');
      expect(report.seal?.level).toBe('B-LT');
    }
    // The same document but for its ids, times and signature values.
    const shape = (xml: string) =>
      xml
        .replace(/>[^<]*</g, '><')
        .replace(/"[^"]*"/g, '""')
        .replace(/<\/?[\w:]*Encapsulated[\w]*[^>]*>/g, '');
    expect(shape(pooled)).toBe(shape(inline));
    expect(pooled).toContain('Id="sig-pooled"');
    expect(pooled).toContain('>ev-pooled<');
    const verdict = await pool.check(pooled);
    expect(verdict).toMatchObject({
      valid: true,
      id: 'ev-pooled',
      event: 'RelayAcceptance',
      messageId: 'm-1@qerds',
    });
  });

  it('fails the calls of a thread killed mid-call with a retryable error, and replaces the thread', async () => {
    await pool.seal(sampleEvidence('ev-warm'), 'sig-warm', systemClock);
    const [victim] = pool.threadIds;
    // Termination asked for first: from then on the thread runs no JavaScript, so the seal posted to it right after
    // (it is still the pool's thread until it has exited) can never be answered, however loaded the machine is.
    const terminated = pool.terminateThread(victim!);
    const outcome = pool.seal(sampleEvidence('ev-killed'), 'sig-killed', systemClock).then(
      () => undefined,
      (error: unknown) => error,
    );
    await terminated;
    const error = await outcome;
    expect(isQerdsError(error, 'EVIDENCE_POOL_THREAD_EXITED')).toBe(true);
    // Retried, as the outbox retries a job: a new thread answers.
    const again = await pool.seal(sampleEvidence('ev-killed'), 'sig-killed', systemClock);
    expect(again).toContain('Id="sig-killed"');
    expect(pool.threadIds).toHaveLength(1);
    expect(pool.threadIds[0]).not.toBe(victim);
  });

  it('takes the verdict on the CRL the main thread took just before asking (a refresh racing a verification)', async () => {
    const sealed = await pool.seal(sampleEvidence('ev-revoked'), 'sig-revoked', systemClock);
    expect((await pool.check(sealed)).valid).toBe(true);
    // c3's e-seal revoked (an hour before it sealed): the CA's new CRL, offered to the main thread's live set as
    // the refresh does…
    const copy = await devTestPki(join(work, 'revoked'));
    const cert = readFileSync(copy.ap('c3').sealCert, 'utf8');
    await revokeCertificate(copy, cert, 'keyCompromise', new Date(Date.now() - 3_600_000));
    const before = pool.check(sealed);
    expect(crls.offer(readFileSync(copy.caCrl))).toMatchObject({ outcome: 'accepted' });
    // …and the verification asked in the same turn, right after it, must see it, as the main thread does.
    const after = await pool.check(sealed);
    const inline = await checkEvidence(
      createTrustStore(readTrustMaterial([pki.caCert]).anchors, { crls }),
      sealed,
    );
    expect(inline.valid).toBe(false);
    expect(after).toEqual(inline);
    expect((await before).valid).toBe(true);
  });

  it('fails calls at once past its queue limit (back-pressure)', async () => {
    const calls = Array.from({ length: 16 }, (_, i) =>
      pool.seal(sampleEvidence(`ev-q${i}`), `sig-q${i}`, systemClock).then(
        () => 'sealed',
        (error: unknown) => (isQerdsError(error, 'EVIDENCE_POOL_FULL') ? 'full' : String(error)),
      ),
    );
    const outcomes = await Promise.all(calls);
    // 1 thread × 2 in flight + 8 queued are taken; the other 6 are refused at once.
    expect(outcomes.filter((o) => o === 'sealed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'full')).toHaveLength(6);
  });

  it("starts its threads in a process given a V8 option on the command line (refused in a thread's own options)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--max-old-space-size=512',
      '--import',
      'tsx',
      join(import.meta.dirname, '..', 'helpers', 'evidence-pool-child.ts'),
      join(work, 'pki'),
    ]);
    expect(stdout).toBe('sealed in 1 thread: true\n');
  });
});

describe('two access points with evidence worker threads', () => {
  let net: TwoAccessPoints;

  beforeAll(async () => {
    net = await startPooledAccessPoints(work, pki.dir);
  });
  afterAll(async () => net?.stop());

  const send = (text: string) => submitText(net, text);
  const chainAtC2 = (id: string) => evidenceAtC2Once(net, id, 'ContentConsignment');

  it('starts its threads with the AP, before any message', () => {
    expect(accessPointInternals(net.c2).evidencePool?.threadIds).toHaveLength(1);
    expect(accessPointInternals(net.c3).evidencePool?.threadIds).toHaveLength(1);
  });

  it('issues and checks the whole evidence chain in the threads, every evidence TOTAL-PASSED', async () => {
    const chain = await chainAtC2(await send('pooled'));
    expect(chain.map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
      'RelayAcceptance',
      'ContentConsignment',
    ]);
    const trust = accessPointInternals(net.c2).trust;
    for (const evidence of chain) {
      const report = await verifyEvidence(evidence.xml, { trust });
      expect(report.indication, `${evidence.event}: ${JSON.stringify(report.findings)}`).toBe('TOTAL-PASSED');
    }
    // Both APs sealed (and C2 checked what C3 returned) in their threads.
    expect(accessPointInternals(net.c2).evidencePool?.threadIds).toHaveLength(1);
    expect(accessPointInternals(net.c3).evidencePool?.threadIds).toHaveLength(1);
  });

  it('loses no message when C3 evidence thread dies mid-call: the job runs again', async () => {
    const c3 = accessPointInternals(net.c3);
    const pool = c3.evidencePool!;
    const issuer = c3.context.evidence;
    let killed = false;
    // The first evidence C3 issues after this: its thread is killed while the call is in flight.
    (c3.context as { evidence: typeof issuer }).evidence = {
      issue(request) {
        const issued = issuer.issue(request);
        if (!killed) {
          killed = true;
          void pool.terminateThread(pool.threadIds[0]!);
        }
        return issued;
      },
    };
    try {
      const chain = await chainAtC2(await send('survives a thread'));
      expect(killed).toBe(true);
      expect(chain.map((e) => e.event)).toEqual([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
      ]);
    } finally {
      (c3.context as { evidence: typeof issuer }).evidence = issuer;
    }
  });

  it('terminates the threads when the access points stop', async () => {
    const pool = accessPointInternals(net.c2).evidencePool!;
    await net.stop();
    expect(pool.threadIds).toHaveLength(0);
    await expect(pool.seal(sampleEvidence('late'), 'sig-late', systemClock)).rejects.toSatisfy((e) =>
      isQerdsError(e, 'EVIDENCE_POOL_UNAVAILABLE'),
    );
  });
});
