import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessPointInternals } from '../../src/access-point/internals.js';
import {
  api,
  apiText,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { corporateNumberCheckDigit, formatIdentifier, parseSbd } from '../../src/peppol/index.js';
import { createDevPeppolPki, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

/**
 * One AP serving Peppol peers and qerds-ap peers side by side: C2 (as4.profile peppol) sends a JP PINT invoice to a
 * buyer whose directory entry names the Peppol transport profile (SBD, Peppol AS4 header, C2's own RelayAcceptance
 * bound to the receipt) and a plain document to a recipient whose entry names the ERDS service over eDelivery AS4
 * (no JP PINT check, no SBD, delivered byte for byte). Both arrive with their evidence chain back at C2.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-erds-'));
const SEATS = { c2: 'POP000101', c3: 'POP000102' };
const corporate = (base12: string) => `0188:${corporateNumberCheckDigit(base12)}${base12}`;
const SELLER = {
  id: '0188:9010401012345',
  name: 'Sample Seller KK',
  key: 'mixed-seller-key-0123456789abcdef',
};
const BUYER = { id: '0188:5011001099999', name: 'Sample Buyer GK', key: 'mixed-buyer-key-0123456789abcdef0' };
const ERDS_RECIPIENT = {
  id: corporate('011001080001'),
  name: 'Registered-delivery recipient (ERDS)',
  key: 'mixed-erds-key-0123456789abcdef01',
};
/** Served by C3, reached over the REM SMTP binding (an `smtp://` endpoint in C2's directory). */
const SMTP_RECIPIENT = {
  id: corporate('011001080002'),
  name: 'Recipient reached by SMTP',
  key: 'mixed-smtp-key-0123456789abcdef012',
};
const PEPPOL = 'peppol-transport-as4-v2_0';
const ERDS = 'bdxr-transport-ebms3-as4-v1p0';

describe('one Peppol AP relaying to a Peppol peer and to a qerds-ap peer over the ERDS service', () => {
  let net: TwoAccessPoints;
  let pki: DevPkiLayout;

  beforeAll(async () => {
    pki = await createDevPeppolPki({ from: sharedTestPki(), dir: join(work, 'pki'), seats: SEATS });
    // Claimed, not port 0: C2's directory names C3's SMTP relay endpoint before C3 listens.
    const smtpPorts = { c2: await claimPort(), c3: await claimPort() };
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir: pki.dir,
      overrides: (name) => ({
        as4: { profile: 'peppol' },
        relay: { maxAttempts: 2 },
        smtp: { domain: `${name}.example`, relay: { port: smtpPorts[name] } },
        pki: {
          trust: [pki.caCert, pki.caCrl, pki.peppolApCa.crl],
          peppolAnchors: { network: 'test', generations: ['G3'], dir: pki.peppolApCa.anchorsDir },
        },
      }),
      extraParticipants: [
        { ...SELLER, servedBy: 'c2', account: { key: SELLER.key }, transportProfile: PEPPOL },
        { ...BUYER, servedBy: 'c3', account: { key: BUYER.key }, transportProfile: PEPPOL },
        { ...ERDS_RECIPIENT, servedBy: 'c3', account: { key: ERDS_RECIPIENT.key }, transportProfile: ERDS },
        {
          ...SMTP_RECIPIENT,
          servedBy: 'c3',
          account: { key: SMTP_RECIPIENT.key },
          endpoint: `smtp://127.0.0.1:${smtpPorts.c3}?domain=c3.example`,
        },
      ],
    });
  }, 90_000);
  afterAll(async () => {
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function send(recipient: string, body: Buffer, type: string, filename: string) {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient }));
    form.append('payload', new Blob([new Uint8Array(body)], { type }), filename);
    const response = await fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SELLER.key}` },
      body: form,
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as { id: string; ebmsMessageId: string };
  }

  async function pickUp(key: string, ebmsMessageId: string): Promise<Buffer> {
    const item = await waitFor(
      async () =>
        (
          await api<
            Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
          >(net.c3.url, key, '/api/v1/inbox')
        ).find((m) => m.ebmsMessageId === ebmsMessageId && m.state === 'consigned'),
      { timeoutMs: 30_000 },
    );
    const download = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(download.status).toBe(200);
    return Buffer.from(await download.arrayBuffer());
  }

  async function chainAtC2(id: string) {
    return waitFor(
      async () => {
        const items = await api<Array<{ event: string; issuedBy: string; href: string }>>(
          net.c2.url,
          SELLER.key,
          `/api/v1/messages/${id}/evidence`,
        );
        const fromC3 = new Set(items.filter((e) => e.issuedBy === net.c3.config.ap.id).map((e) => e.event));
        return ['RelayAcceptance', 'ContentConsignment', 'ContentHandover'].every((e) => fromC3.has(e))
          ? items
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
  }

  it('a JP PINT invoice to the Peppol buyer and a plain document to the ERDS recipient: each delivered its own way, each with its evidence chain', async () => {
    const invoice = readFileSync(
      new URL('../fixtures/peppol/jp-pint/invoice-standard-rate.xml', import.meta.url),
    );
    const letter = Buffer.from('Registered letter: not a UBL invoice, and no JP PINT rule applies.\n');
    const [peppol, erds] = await Promise.all([
      send(BUYER.id, invoice, 'application/xml', 'invoice.xml'),
      send(ERDS_RECIPIENT.id, letter, 'text/plain', 'letter.txt'),
    ]);

    // Peppol: the SBD around the invoice; ERDS: the very bytes submitted.
    const sbd = parseSbd((await pickUp(BUYER.key, peppol.ebmsMessageId)).toString('utf8'));
    expect(formatIdentifier(sbd.header.receiver)).toBe(`iso6523-actorid-upis::${BUYER.id}`);
    expect((await pickUp(ERDS_RECIPIENT.key, erds.ebmsMessageId)).equals(letter)).toBe(true);

    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const c2Id = net.c2.config.ap.id;
    const peppolChain = await chainAtC2(peppol.id);
    const erdsChain = await chainAtC2(erds.id);
    // Peppol: C2 binds the peer's signed receipt in its own RelayAcceptance; the ERDS service has C3's instead.
    expect(peppolChain.filter((e) => e.issuedBy === c2Id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
      'RelayAcceptance',
    ]);
    expect(erdsChain.filter((e) => e.issuedBy === c2Id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
    ]);
    for (const e of [...peppolChain, ...erdsChain]) {
      const xml = await apiText(net.c2.url, SELLER.key, e.href);
      expect((await verifyEvidence(xml, { trust })).indication, `${e.event} by ${e.issuedBy}`).toBe(
        'TOTAL-PASSED',
      );
    }
    // C2 kept a Peppol receipt for the Peppol message only.
    const store = accessPointInternals(net.c2).context.store;
    expect(await store.listPeerReceipts(peppol.id)).toHaveLength(1);
    expect(await store.listPeerReceipts(erds.id)).toHaveLength(0);
  });

  it('the JP PINT rules still hold for the Peppol buyer, and not for the ERDS recipient', async () => {
    const broken = readFileSync(
      new URL('../fixtures/peppol/jp-pint/broken/aligned-ibr-jp-01.xml', import.meta.url),
    );
    const form = (recipient: string) => {
      const f = new FormData();
      f.set('metadata', JSON.stringify({ recipient }));
      f.append('payload', new Blob([new Uint8Array(broken)], { type: 'application/xml' }), 'broken.xml');
      return f;
    };
    const refused = await fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SELLER.key}` },
      body: form(BUYER.id),
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(
      /^JP PINT rule aligned-ibr-jp-01: /,
    );
    const accepted = await fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SELLER.key}` },
      body: form(ERDS_RECIPIENT.id),
    });
    expect(accepted.status).toBe(201);
  });

  it('a static smtp:// entry on the Peppol AP: the document goes as a REM Dispatch over SMTP (no JP PINT check, no SBD), its evidence chain back at C2', async () => {
    const letter = Buffer.from('Registered letter over the REM SMTP binding.\n');
    const { id, ebmsMessageId } = await send(SMTP_RECIPIENT.id, letter, 'text/plain', 'letter.txt');
    expect((await pickUp(SMTP_RECIPIENT.key, ebmsMessageId)).equals(letter)).toBe(true);
    const chain = await chainAtC2(id);
    expect(chain.filter((e) => e.issuedBy === net.c2.config.ap.id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
    ]);
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    for (const e of chain) {
      const xml = await apiText(net.c2.url, SELLER.key, e.href);
      expect((await verifyEvidence(xml, { trust })).indication, `${e.event} by ${e.issuedBy}`).toBe(
        'TOTAL-PASSED',
      );
    }
    expect(await accessPointInternals(net.c2).context.store.listPeerReceipts(id)).toHaveLength(0);
  });
});
