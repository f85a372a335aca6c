import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { loadAs4Security } from '../../src/access-point/as4-security.js';
import { loadConfig } from '../../src/config/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import {
  apiKeyAccount,
  apiText,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { formatIdentifier, parseSbd } from '../../src/peppol/index.js';
import { createDevPeppolPki, devApId, loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
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
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * Three APs over real HTTP: C2 on Peppol that also relays over the ERDS service (`as4.erds`: its e-seal signs and a
 * dev CA encryption pair receives its ERDS exchanges), a Peppol C3 (a qerds-ap on Peppol), and a qerds-ap that is
 * not on Peppol (edelivery-1.15, no Peppol anchors). C2 signs towards the Peppol C3 with its Peppol AP certificate
 * and towards the ERDS C3 with its ERDS identity; each answers and returns evidence in the identity it knows C2 by.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-erds-3-'));
const { seller: SELLER, buyer: BUYER } = peppolTradingParties('three');
const ERDS_RECIPIENT = {
  id: corporateParticipant('011001080003'),
  name: 'Recipient of a qerds-ap not on Peppol',
  key: 'three-erds-key-0123456789abcdef01',
};

describe('a Peppol AP with an ERDS identity: a Peppol peer and a qerds-ap peer not on Peppol', () => {
  let net: TwoAccessPoints;
  let erdsAp: AccessPoint;
  let dev: DevPkiLayout;
  let pki: DevPkiLayout;

  beforeAll(async () => {
    // c9 is the qerds-ap not on Peppol: same dev CA, its own e-seal and encryption pair, no Peppol seat.
    dev = await devTestPki(join(work, 'dev'), { aps: ['c2', 'c3', 'c9'] });
    pki = await createDevPeppolPki({ from: dev, dir: join(work, 'pki'), seats: PEPPOL_ERDS_SEATS });
    // Claimed, not port 0: C2's directory names the ERDS AP's endpoint before it listens.
    const erdsPort = await claimPort();
    const erdsEndpoint = `http://127.0.0.1:${erdsPort}/as4`;
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir: pki.dir,
      overrides: (name) => ({
        as4: {
          profile: 'peppol',
          // C2's ERDS identity: its e-seal signs (the default), the dev CA's encryption pair of c2 receives.
          ...(name === 'c2'
            ? { erds: { encryptionCert: dev.ap('c2').encCert, encryptionKey: dev.ap('c2').encKey } }
            : {}),
        },
        relay: { maxAttempts: 2 },
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
          endpoint: erdsEndpoint,
          apCertificate: dev.ap('c9').sealCert,
          apEncryptionCertificate: dev.ap('c9').encCert,
          transportProfile: ERDS_TRANSPORT,
        },
      ],
    });
    // The qerds-ap not on Peppol knows C2 by its ERDS identity: the e-seal pinned, the dev CA encryption certificate.
    erdsAp = await createAccessPoint(
      loadConfig({
        env: {},
        baseDir: process.cwd(),
        overrides: {
          ap: { name: 'qerds-ap demo C9 (ERDS only)', id: devApId('c9') },
          http: { port: erdsPort },
          store: { sqliteFile: join(work, 'c9', 'qerds.sqlite'), blobDir: join(work, 'c9', 'blobs') },
          pki: { dir: dev.dir, apName: 'c9' },
          queue: { pollIntervalMs: 50 },
          relay: { baseDelayMs: 200, maxDelayMs: 2000, maxAttempts: 2 },
          webhooks: { baseDelayMs: 200, maxDelayMs: 2000, maxAttempts: 2 },
          directory: {
            participants: [
              {
                id: SELLER.id,
                name: SELLER.name,
                endpoint: `${net.c2.url}/as4`,
                apCertificate: dev.ap('c2').sealCert,
                apEncryptionCertificate: dev.ap('c2').encCert,
              },
              {
                id: ERDS_RECIPIENT.id,
                name: ERDS_RECIPIENT.name,
                endpoint: erdsEndpoint,
                apCertificate: dev.ap('c9').sealCert,
                apEncryptionCertificate: dev.ap('c9').encCert,
              },
            ],
          },
          accounts: [
            apiKeyAccount(ERDS_RECIPIENT.key, { participant: ERDS_RECIPIENT.id, name: ERDS_RECIPIENT.name }),
          ],
        },
      }),
      { logger: pino({ level: 'warn' }) },
    );
    await erdsAp.start();
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([net?.stop(), erdsAp?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  const send = (recipient: string, body: Buffer, type: string, filename: string) =>
    submitAtC2(net, SELLER.key, recipient, body, type, filename);
  const pickUp = pickUpFirstPart;
  const chainAtC2 = (id: string, issuer: string) => evidenceChainAtC2(net, SELLER.key, id, issuer);

  it('C2 loads its ERDS identity apart from its Peppol AP certificate', () => {
    const as4 = loadAs4Security(net.c2.config, accessPointInternals(net.c2).identity);
    const seal = new X509Certificate(readFileSync(dev.ap('c2').sealCert));
    expect(net.c2.as4SigningCertificate.fingerprint256).toBe(as4.signing.certificate.fingerprint256);
    expect(as4.signing.certificate.subject).toMatch(/CN=POP000101/);
    expect(as4.erds.signing.certificate.fingerprint256).toBe(seal.fingerprint256);
    expect(as4.erds.encryption.certificate.fingerprint256).toBe(
      new X509Certificate(readFileSync(dev.ap('c2').encCert)).fingerprint256,
    );
    expect(as4.peers.ownFingerprints).toEqual([as4.signing.certificate.fingerprint256, seal.fingerprint256]);
  });

  it('refuses an ERDS identity off Peppol, half a pair, and a TLS-only ERDS signer (ERDS peers refuse it)', () => {
    const seal = accessPointInternals(net.c2).identity;
    const refusal = (as4: Record<string, unknown>) => {
      try {
        loadAs4Security(
          loadConfig({
            env: {},
            overrides: { ap: { id: devApId('c2') }, pki: { dir: pki.dir, apName: 'c2' }, as4 },
          }),
          seal,
        );
      } catch (error) {
        return `${(error as { code?: string }).code}: ${(error as Error).message}`;
      }
      return 'loaded';
    };
    const enc = { encryptionCert: dev.ap('c2').encCert, encryptionKey: dev.ap('c2').encKey };
    expect(refusal({ profile: 'peppol', erds: enc })).toBe('loaded');
    expect(refusal({ erds: enc })).toMatch(
      /^CONFIG_INVALID: as4\.erds is the ERDS identity of an AP on Peppol/,
    );
    expect(refusal({ profile: 'peppol', erds: { encryptionCert: dev.ap('c2').encCert } })).toMatch(
      /^CONFIG_INVALID: as4\.erds\.encryptionCert and as4\.erds\.encryptionKey are set together/,
    );
    const peppolAp = pki.as4Signing('c2');
    expect(
      refusal({ profile: 'peppol', erds: { signingCert: peppolAp.cert, signingKey: peppolAp.key } }),
    ).toMatch(
      /^CONFIG_INVALID: as4\.erds\.signingCert: not an AS4 signing certificate for ERDS peers: .*TLS only/,
    );
  });

  it('a JP PINT invoice to the Peppol buyer and a letter to the recipient of the AP not on Peppol: both delivered, each evidence chain back at C2 and verified', async () => {
    const invoice = readFileSync(
      new URL('../fixtures/peppol/jp-pint/invoice-standard-rate.xml', import.meta.url),
    );
    const letter = Buffer.from('Registered letter to a qerds-ap that is not on Peppol.\n');
    const [peppol, erds] = await Promise.all([
      send(BUYER.id, invoice, 'application/xml', 'invoice.xml'),
      send(ERDS_RECIPIENT.id, letter, 'text/plain', 'letter.txt'),
    ]);

    const sbd = parseSbd((await pickUp(net.c3.url, BUYER.key, peppol.ebmsMessageId)).toString('utf8'));
    expect(formatIdentifier(sbd.header.receiver)).toBe(`iso6523-actorid-upis::${BUYER.id}`);
    expect((await pickUp(erdsAp.url, ERDS_RECIPIENT.key, erds.ebmsMessageId)).equals(letter)).toBe(true);

    const c2Id = net.c2.config.ap.id;
    const peppolChain = await chainAtC2(peppol.id, net.c3.config.ap.id);
    const erdsChain = await chainAtC2(erds.id, erdsAp.config.ap.id);
    expect(peppolChain.filter((e) => e.issuedBy === c2Id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
      'RelayAcceptance',
    ]);
    expect(erdsChain.filter((e) => e.issuedBy === c2Id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
    ]);
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    for (const e of [...peppolChain, ...erdsChain]) {
      const xml = await apiText(net.c2.url, SELLER.key, e.href);
      expect((await verifyEvidence(xml, { trust })).indication, `${e.event} by ${e.issuedBy}`).toBe(
        'TOTAL-PASSED',
      );
    }

    // The AP not on Peppol refused nothing: no relay or evidence return of either side failed.
    const erdsStore = accessPointInternals(erdsAp).context.store;
    const atErdsAp = await erdsStore.listMessages({ limit: 10 });
    expect(atErdsAp.map((m) => m.ebmsMessageId)).toEqual([erds.ebmsMessageId]);
    const c2Store = accessPointInternals(net.c2).context.store;
    expect(await c2Store.listPeerReceipts(peppol.id)).toHaveLength(1);
    expect(await c2Store.listPeerReceipts(erds.id)).toHaveLength(0);
  });
});
