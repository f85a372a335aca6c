import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import {
  createLiveTrustLists,
  devTrustListXml,
  loadConfiguredTrustLists,
  requireListedService,
  type LiveTrustLists,
} from '../../src/trust-list/index.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Trusted lists (TS 119 612) replaced while the AP runs (pki.crlRefresh re-reads pki.trustLists): a list that
 * verifies and is newer replaces the held one, and what reads the live view (requireListedService, the
 * verification reports) sees it at once; an older list (rollback) or an unverifiable file keeps the held one.
 */
const DAY = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'qerds-live-tl-'));
let pki: DevPkiLayout;
let path: string;
let live: LiveTrustLists;
let seal: X509Certificate;
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - DAY);

beforeAll(async () => {
  pki = await devTestPki(join(work, 'pki'), { aps: ['c2', 'c3'], recipients: [] });
  seal = new X509Certificate(readFileSync(pki.ap('c2').sealCert));
  path = join(work, 'list.xml');
  writeFileSync(path, await devTrustListXml(pki, ['c2', 'c3'], t0, new Date(t0.getTime() + 30 * DAY)));
  const entries = [{ path, signerAnchors: [pki.caCert] }];
  live = createLiveTrustLists(entries, await loadConfiguredTrustLists(entries, new Date()));
}, 120_000);

describe('live trusted lists', () => {
  it('takes a newer list: a peer it no longer names fails requireListedService at once', async () => {
    const peers = requireListedService(loadTrustStore([pki.caCert, pki.caCrl]), live.view, 'QERDS');
    expect(peers.validate(seal).valid).toBe(true);
    const issued = new Date(t0.getTime() + DAY / 2);
    writeFileSync(path, await devTrustListXml(pki, ['c3'], issued, new Date(issued.getTime() + 30 * DAY)));
    const report = await live.refresh(new Date());
    expect(report.refused).toEqual([]);
    expect(report.accepted).toEqual([expect.objectContaining({ path, issued })]);
    expect(live.view.issued).toEqual(issued);
    const after = peers.validate(seal);
    expect(after.valid).toBe(false);
    expect(after.findings.map((f) => f.code)).toContain('TL_NOT_LISTED');
    // The same file again: nothing to take.
    expect(await live.refresh(new Date())).toEqual({ accepted: [], refused: [] });
  }, 60_000);

  it('refuses an older list (rollback) and a tampered one; the held list stays', async () => {
    const held = live.view.issued;
    writeFileSync(path, await devTrustListXml(pki, ['c2', 'c3'], t0, new Date(t0.getTime() + 30 * DAY)));
    const rollback = await live.refresh(new Date());
    expect(rollback.refused).toEqual([expect.objectContaining({ path, code: 'TL_ROLLBACK' })]);
    const newer = new Date(held.getTime() + DAY / 4);
    writeFileSync(
      path,
      (await devTrustListXml(pki, ['c2', 'c3'], newer, new Date(newer.getTime() + 30 * DAY))).replace(
        'AP c3',
        'AP cX',
      ),
    );
    const tampered = await live.refresh(new Date());
    expect(tampered.refused).toEqual([expect.objectContaining({ path, code: 'TL_SIGNATURE_INVALID' })]);
    expect(live.view.issued).toEqual(held);
    expect(
      live.view.services.some((s) => s.certificates.some((c) => c.fingerprint256 === seal.fingerprint256)),
    ).toBe(false);
  }, 60_000);
});
