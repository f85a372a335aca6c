import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { apiText, startTwoAccessPoints, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { formatIdentifier, parseSbd } from '../../src/peppol/index.js';
import { createDevPeppolPki, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import {
  corporateParticipant,
  ERDS_TRANSPORT,
  evidenceChainAtC2,
  PEPPOL_ERDS_SEATS,
  PEPPOL_TRANSPORT,
  peppolTradingParties,
  pickUpFirstPart,
  submitAtC2,
} from '../helpers/peppol-erds.js';
import { sharedTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * One AP serving Peppol peers and qerds-ap peers side by side: C2 (as4.profile peppol) sends a JP PINT invoice to a
 * buyer whose directory entry names the Peppol transport profile (SBD, Peppol AS4 header, C2's own RelayAcceptance
 * bound to the receipt) and a plain document to a recipient whose entry names the ERDS service over eDelivery AS4
 * (no JP PINT check, no SBD, delivered byte for byte). Both arrive with their evidence chain back at C2.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-erds-'));
const { seller: SELLER, buyer: BUYER } = peppolTradingParties('mixed');
const ERDS_RECIPIENT = {
  id: corporateParticipant('011001080001'),
  name: 'Registered-delivery recipient (ERDS)',
  key: 'mixed-erds-key-0123456789abcdef01',
};
/** Served by C3, reached over the REM SMTP binding (an `smtp://` endpoint in C2's directory). */
const SMTP_RECIPIENT = {
  id: corporateParticipant('011001080002'),
  name: 'Recipient reached by SMTP',
  key: 'mixed-smtp-key-0123456789abcdef012',
};

describe('one Peppol AP relaying to a Peppol peer and to a qerds-ap peer over the ERDS service', () => {
  let net: TwoAccessPoints;
  let pki: DevPkiLayout;

  beforeAll(async () => {
    pki = await createDevPeppolPki({
      from: sharedTestPki(),
      dir: join(work, 'pki'),
      seats: PEPPOL_ERDS_SEATS,
    });
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
        { ...SELLER, servedBy: 'c2', account: { key: SELLER.key }, transportProfile: PEPPOL_TRANSPORT },
        { ...BUYER, servedBy: 'c3', account: { key: BUYER.key }, transportProfile: PEPPOL_TRANSPORT },
        {
          ...ERDS_RECIPIENT,
          servedBy: 'c3',
          account: { key: ERDS_RECIPIENT.key },
          transportProfile: ERDS_TRANSPORT,
        },
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

  const send = (recipient: string, body: Buffer, type: string, filename: string) =>
    submitAtC2(net, SELLER.key, recipient, body, type, filename);
  const pickUp = (key: string, ebmsMessageId: string) => pickUpFirstPart(net.c3.url, key, ebmsMessageId);
  const chainAtC2 = (id: string) => evidenceChainAtC2(net, SELLER.key, id, net.c3.config.ap.id);

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
