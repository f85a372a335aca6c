import { accessPointInternals } from '../../src/access-point/internals.js';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendUserMessage, type Attachment, type UserMessage } from '../../src/as4/index.js';
import { ALG as AS4_ALG, NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { api, apiText, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { exportMessageEvidence } from '../../src/cli/export-command.js';
import { isQerdsError } from '../../src/core/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import {
  buildSbd,
  corporateNumberCheckDigit,
  formatIdentifier,
  jpPintDocumentType,
  parseParticipantId,
  parseSbd,
  peppolMessageProperties,
  PROCESS_BILLING,
  PROCESS_SCHEME,
} from '../../src/peppol/index.js';
import {
  loadSigningIdentity,
  loadTrustStore,
  revokeCertificate,
  type DevPkiLayout,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { generateRsaKey, importRsaSigningKey, issueLeaf, issueRootCa } from '../../src/pki/cert-factory.js';
import { x509 } from '../../src/pki/x509.js';
import { peppolTestPki, startPeppolAccessPoints } from '../helpers/peppol-aps.js';
import { foreignTestPki } from '../helpers/pki.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { waitFor } from '../helpers/wait.js';
import { capturingProxy, httpMessages } from '../helpers/capturing-proxy.js';
import { startAs4Server, type As4TestServer } from '../interop/as4-helpers.js';

/**
 * Two qerds-ap instances on the Peppol AS4 profile exchanging JP PINT documents over real sockets: C2 wraps the
 * submitted UBL in an SBD and sends it with Peppol's AS4 header; C3 checks the SBD against that header; each side
 * records its evidence. Refusals: an SBD contradicting its AS4 header, a receiver C3 does not serve, an invoice that
 * breaks the UBL 2.1 XSD (xmllint), a JP PINT rule of ours or one of the official JP PINT Schematron (Saxon-HE: real
 * java, installed by .ci/run; C2 does not start without it).
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-'));
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/peppol/jp-pint/${name}`, import.meta.url));
const JP_PINT_SCHEMATRON = [
  'PINT-UBL-validation-preprocessed.xslt',
  'PINT-jurisdiction-aligned-rules.xslt',
].map((f) =>
  fileURLToPath(new URL(`../fixtures/peppol/jp-pint-schematron/billing-1.1.2/${f}`, import.meta.url)),
);
// The corporate numbers of the JP PINT fixtures (seller and buyer EndpointIDs, check digits valid).
const SELLER = {
  id: '0188:9010401012345',
  name: 'Sample Seller KK',
  key: 'peppol-seller-key-0123456789abcdef',
};
const BUYER = {
  id: '0188:5011001099999',
  name: 'Sample Buyer GK',
  key: 'peppol-buyer-key-0123456789abcdef0',
};
const base12 = '011001077777';
const UNSERVED = {
  id: `0188:${corporateNumberCheckDigit(base12)}${base12}`,
  name: 'Served by another Peppol AP',
};
const SEATS = { c2: 'POP000101', c3: 'POP000102' };
/** A corporate number participant (valid check digit) from its 12-digit base. */
const participant = (base: string, name: string) => ({
  id: `0188:${corporateNumberCheckDigit(base)}${base}`,
  name,
});
// Senders whose AP certificate the directory pins, but which are no Peppol AP of the configured network.
const ROGUE = {
  smpCa: participant('011001000001', 'AP certificate issued by the SMP CA'),
  unknownStatus: participant('011001000002', 'AP certificate whose revocation nobody can tell'),
  revoked: participant('011001000003', 'Revoked AP certificate'),
  foreign: participant('011001000004', 'AP certificate of a foreign PKI'),
  // A receiver whose "AP" answers with receipts signed by the SMP CA's certificate.
  receiver: participant('011001000005', 'Receipts signed by a non-AP'),
};
/** A second sender served by C2 (its AP certificate pinned as SELLER's). */
const OTHER_SELLER = participant('011001000006', 'Another seller at C2');

/**
 * The stand-in Peppol PKI of this file. The real OpenPeppol CAs cannot issue for a test, so the dev CA that issued
 * the two APs' certificates plays the "AP test CA - G3" (its CRL held); a second stand-in "AP test CA - G2" (no CRL
 * held, no OCSP in its certificates) and a stand-in "SMP test CA" are made here. `pki.trust` holds the SMP CA beside
 * the dev CA, as an operator's trust holds other anchors (the QTSPs of the seals…): only the AP CA anchors
 * (`pki.peppolAnchors`, in a directory laid out like certs/peppol) make a Peppol AP.
 */
interface StandIn {
  anchorsDir: string;
  smpCaCert: string;
  /** Leaf certificates with the Peppol AP profile (C, O, OU=PEPPOL TEST AP, CN=seat id), and their identity. */
  smpIssued: { cert: string; identity: SigningIdentity };
  unknownStatus: { cert: string; identity: SigningIdentity };
  revoked: { cert: string; identity: SigningIdentity };
}

async function standInPeppolPki(pki: DevPkiLayout, dir: string): Promise<StandIn> {
  mkdirSync(join(dir, 'ap-test'), { recursive: true });
  const day = 86_400_000;
  const now = Date.now();
  const [smpCaKey, g2CaKey, leafKey] = await Promise.all([
    generateRsaKey(2048),
    generateRsaKey(2048),
    generateRsaKey(2048),
  ]);
  const ca = async (key: typeof smpCaKey, cn: string) => ({
    cert: await issueRootCa(
      key.keys,
      [{ C: ['BE'] }, { O: ['Stand-in OpenPEPPOL'] }, { OU: ['FOR TEST ONLY'] }, { CN: [cn] }],
      new Date(now - day),
      new Date(now + 30 * day),
    ),
    signingKey: key.keys.privateKey,
  });
  const smpCa = await ca(smpCaKey, 'Stand-in PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3');
  const g2Ca = await ca(g2CaKey, 'Stand-in PEPPOL ACCESS POINT TEST CA - G2');
  // The dev Peppol AP CA that issued the two APs' AP certificates (their e-seals come from the dev CA).
  const apCa = {
    cert: new x509.X509Certificate(readFileSync(pki.peppolApCa.cert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.peppolApCa.key, 'utf8')),
  };
  const leaf = async (issuer: typeof smpCa, name: string, seat: string) => {
    const cert = await issueLeaf(issuer, leafKey.keys.publicKey, {
      subject: [{ C: ['JP'] }, { O: ['Stand-in AP KK'] }, { OU: ['PEPPOL TEST AP'] }, { CN: [seat] }],
      notBefore: new Date(now - day),
      notAfter: new Date(now + 30 * day),
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    });
    const certFile = join(dir, `${name}.crt.pem`);
    const keyFile = join(dir, `${name}.key.pem`);
    writeFileSync(certFile, cert.toString('pem') + '\n');
    writeFileSync(keyFile, leafKey.pkcs8Pem, { mode: 0o600 });
    return { cert: certFile, identity: loadSigningIdentity(certFile, keyFile) };
  };
  const smpCaCert = join(dir, 'smp-ca.crt.pem');
  writeFileSync(smpCaCert, smpCa.cert.toString('pem') + '\n');
  copyFileSync(pki.peppolApCa.cert, join(dir, 'ap-test', 'peppol-ap-test-ca-g3.pem'));
  writeFileSync(join(dir, 'ap-test', 'peppol-ap-test-ca-g2.pem'), g2Ca.cert.toString('pem') + '\n');
  const revoked = await leaf(apCa, 'revoked', 'POP000105');
  await revokeCertificate(
    { ...pki, caCert: pki.peppolApCa.cert, caKey: pki.peppolApCa.key, caCrl: pki.peppolApCa.crl },
    readFileSync(revoked.cert, 'utf8'),
    'keyCompromise',
  );
  return {
    anchorsDir: dir,
    smpCaCert,
    smpIssued: await leaf(smpCa, 'smp-issued', 'POP000103'),
    unknownStatus: await leaf(g2Ca, 'unknown-status', 'POP000104'),
    revoked,
  };
}

/**
 * xmlsec1 (an independent implementation) on a signed AS4 signal without attachments. It resolves no WS-Security
 * token reference, so it gets the certificate of the message's BinarySecurityToken, which `openssl verify` checks
 * against the CA: together what --trusted-pem would check.
 */
function xmlsecVerifySignal(
  xml: string,
  caCert: string,
): { ok: boolean; output: string; signer: X509Certificate } {
  const dir = mkdtempSync(join(work, 'xmlsec-'));
  const b64 = /<wsse:BinarySecurityToken[^>]*>([^<]+)</.exec(xml)?.[1] ?? '';
  const signer = new X509Certificate(Buffer.from(b64, 'base64'));
  writeFileSync(join(dir, 'signer.pem'), signer.toString());
  writeFileSync(join(dir, 'signal.xml'), xml);
  const chain = spawnSync('openssl', ['verify', '-CAfile', caCert, join(dir, 'signer.pem')], {
    encoding: 'utf8',
  });
  if (chain.status !== 0) return { ok: false, output: chain.stdout + chain.stderr, signer };
  const idAttrs = ['--id-attr:Id', `${AS4_NS.eb}:Messaging`, '--id-attr:Id', `${AS4_NS.soap12}:Body`];
  const r = spawnSync(
    'xmlsec1',
    ['--verify', '--pubkey-cert-pem', join(dir, 'signer.pem'), ...idAttrs, join(dir, 'signal.xml')],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`, signer };
}

/** The AS4 envelopes of the HTTP requests in `bytes` (each body a multipart/related). */
function envelopesIn(bytes: Buffer): string[] {
  return httpMessages(bytes)
    .filter((m) => m.contentType.startsWith('multipart/related'))
    .map((m) => decodeMultipart(m.contentType, m.body).envelope);
}

async function submit(
  net: TwoAccessPoints,
  document: Buffer,
  recipient: string,
  filename = 'invoice.xml',
): Promise<Response> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient }));
  form.append('payload', new Blob([new Uint8Array(document)], { type: 'application/xml' }), filename);
  return fetch(`${net.c2.url}/api/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SELLER.key}` },
    body: form,
  });
}

type ChainItem = { id: string; event: string; issuedBy: string; href: string };
const chainAtC2 = (net: TwoAccessPoints, id: string) =>
  api<ChainItem[]>(net.c2.url, SELLER.key, `/api/v1/messages/${id}/evidence`);

describe('a Peppol exchange of JP PINT documents between two qerds-ap instances', () => {
  // Every answer of the REST API in this file is held to schemas/openapi.yaml.
  useOpenApiContract();
  let net: TwoAccessPoints;
  let pki: DevPkiLayout;
  let standIn: StandIn;
  let proxy: Awaited<ReturnType<typeof capturingProxy>>;
  /** The "AP" of ROGUE.receiver: takes what C2 sends and answers with a receipt signed by the SMP CA's certificate. */
  let rogueReceiver: As4TestServer;

  beforeAll(async () => {
    pki = await peppolTestPki(work, SEATS);
    standIn = await standInPeppolPki(pki, join(work, 'peppol'));
    rogueReceiver = await startAs4Server({
      identity: standIn.smpIssued.identity,
      trust: loadTrustStore([pki.peppolApCa.cert, pki.peppolApCa.crl]),
      tlsEkuSigners: true,
      // C2 encrypts for the encryption certificate the directory names: C3's (the harness's entry for ROGUE.receiver).
      decryptionKeys: [loadSigningIdentity(pki.ap('c3').encCert, pki.ap('c3').encKey)],
    });
    const foreign = foreignTestPki();
    net = await startPeppolAccessPoints(work, pki, {
      seller: SELLER,
      buyer: BUYER,
      overrides: (name) => ({
        relay: { maxAttempts: 3 },
        pki: {
          // The QERDS trust (the dev CA of the e-seals), the AP CA's CRL, and an SMP CA as another anchor.
          trust: [pki.caCert, pki.caCrl, pki.peppolApCa.crl, standIn.smpCaCert],
          peppolAnchors: { network: 'test', generations: ['G2', 'G3'], dir: standIn.anchorsDir },
        },
        // C2 checks submissions against the UBL 2.1 XSD (on by default) and the official JP PINT Schematron.
        ...(name === 'c2' ? { peppol: { jpPint: { schematron: { billing: JP_PINT_SCHEMATRON } } } } : {}),
      }),
      // C2 reaches C3 through the capturing proxy (the wire), C3 reaches C2 directly.
      // (The harness asks once per participant C3 serves: one proxy for all of them.)
      as4Endpoint: async (name, endpoint) => {
        if (name === 'c2') return endpoint;
        proxy ??= await capturingProxy(Number(new URL(endpoint).port));
        return `http://127.0.0.1:${proxy.port}/as4`;
      },
      extraParticipants: [
        { ...UNSERVED, servedBy: 'c3' },
        { ...OTHER_SELLER, servedBy: 'c2' },
        { ...ROGUE.smpCa, servedBy: 'c2', apCertificate: standIn.smpIssued.cert },
        { ...ROGUE.unknownStatus, servedBy: 'c2', apCertificate: standIn.unknownStatus.cert },
        { ...ROGUE.revoked, servedBy: 'c2', apCertificate: standIn.revoked.cert },
        { ...ROGUE.foreign, servedBy: 'c2', apCertificate: foreign.ap('c2').sealCert },
        {
          ...ROGUE.receiver,
          servedBy: 'c3',
          endpoint: rogueReceiver.endpoint,
          apCertificate: standIn.smpIssued.cert,
        },
      ],
    });
  }, 240_000);
  afterAll(async () => {
    await net?.stop();
    await rogueReceiver?.close();
    proxy?.server.close();
    rmSync(work, { recursive: true, force: true });
  });

  for (const sample of [
    'invoice-standard-rate.xml',
    'invoice-reduced-rate.xml',
    'invoice-mixed-rates.xml',
    'credit-note.xml',
  ]) {
    it(`${sample}: SBD built at C2, checked at C3, handed over to C4; C2 holds the full chain, every evidence verifies`, async () => {
      const document = fixture(sample);
      const response = await submit(net, document, BUYER.id, sample);
      expect(response.status, await response.clone().text()).toBe(201);
      const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };

      // C4 finds it in its inbox at C3: the SBD around the very document C1 submitted.
      const item = await waitFor(
        async () => {
          const inbox = await api<
            Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
          >(net.c3.url, BUYER.key, '/api/v1/inbox');
          return inbox.find((m) => m.ebmsMessageId === ebmsMessageId && m.state === 'consigned');
        },
        { timeoutMs: 30_000 },
      );
      const download = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
        headers: { authorization: `Bearer ${BUYER.key}` },
      });
      expect(download.status).toBe(200);
      const sbdText = await download.text();
      const { header, businessMessage } = parseSbd(sbdText);
      const root = sample === 'credit-note.xml' ? 'CreditNote' : 'Invoice';
      expect(formatIdentifier(header.sender)).toBe(`iso6523-actorid-upis::${SELLER.id}`);
      expect(formatIdentifier(header.receiver)).toBe(`iso6523-actorid-upis::${BUYER.id}`);
      expect(formatIdentifier(header.documentType)).toBe(formatIdentifier(jpPintDocumentType(root)));
      expect(formatIdentifier(header.process)).toBe(`${PROCESS_SCHEME}::${PROCESS_BILLING}`);
      expect(header.countryC1).toBe('JP');
      expect(businessMessage.localName).toBe(root);
      expect(sbdText).toContain(/<cbc:ID>[^<]+<\/cbc:ID>/.exec(document.toString('utf8'))![0]);

      // The chain at C2: its own SubmissionAcceptance and RelayAcceptance (bound to C3's receipt), and C3's evidence.
      const chain = await waitFor(
        async () => {
          const items = await chainAtC2(net, id);
          return items.some((e) => e.event === 'ContentHandover') ? items : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const c2Id = net.c2.config.ap.id;
      const c3Id = net.c3.config.ap.id;
      expect(chain.filter((e) => e.issuedBy === c2Id).map((e) => e.event)).toEqual([
        'SubmissionAcceptance',
        'RelayAcceptance',
      ]);
      expect(chain.filter((e) => e.issuedBy === c3Id).map((e) => e.event)).toEqual(
        expect.arrayContaining(['RelayAcceptance', 'ContentConsignment', 'ContentHandover']),
      );
      const trust = loadTrustStore([pki.caCert, pki.caCrl]);
      for (const e of chain) {
        const xml = await apiText(net.c2.url, SELLER.key, e.href);
        expect((await verifyEvidence(xml, { trust })).indication, `${e.event} by ${e.issuedBy}`).toBe(
          'TOTAL-PASSED',
        );
        if (e.event === 'RelayAcceptance' && e.issuedBy === c2Id)
          expect(xml).toMatch(
            new RegExp(
              `acknowledged ebMS message ${ebmsMessageId.replace(/[.]/g, '\\.')} with a signed non-repudiation receipt \\(SHA-256 [0-9a-f]{64}\\)`,
            ),
          );
      }

      // The receipt C2's RelayAcceptance binds is kept, byte for byte: its SHA-256 is the one sealed in the evidence,
      // and xmlsec1 verifies its signature (C3's Peppol AP certificate, chaining to the CA).
      const relayAcceptance = chain.find((e) => e.event === 'RelayAcceptance' && e.issuedBy === c2Id)!;
      const bound = /signed non-repudiation receipt \(SHA-256 ([0-9a-f]{64})\)/.exec(
        await apiText(net.c2.url, SELLER.key, relayAcceptance.href),
      )![1]!;
      const receipts = await api<Array<{ sha256: string; receivedAt: string; href: string }>>(
        net.c2.url,
        SELLER.key,
        `/api/v1/messages/${id}/receipts`,
      );
      expect(receipts.map((r) => r.sha256)).toEqual([bound]);
      const stored = await fetch(`${net.c2.url}${receipts[0]!.href}`, {
        headers: { authorization: `Bearer ${SELLER.key}` },
      });
      expect(stored.status).toBe(200);
      const receiptBytes = Buffer.from(await stored.arrayBuffer());
      expect(createHash('sha256').update(receiptBytes).digest('hex')).toBe(bound);
      const verified = xmlsecVerifySignal(receiptBytes.toString('utf8'), pki.peppolApCa.cert);
      expect(verified.ok, verified.output).toBe(true);
      expect(verified.signer.subject).toContain(`CN=${SEATS.c3}`);
      expect(receiptBytes.toString('utf8')).toContain(
        `<eb:RefToMessageId>${ebmsMessageId}</eb:RefToMessageId>`,
      );
      // …and goes with the message's export, listed in its manifest under the same digest.
      const exported = await exportMessageEvidence({
        store: accessPointInternals(net.c2).context.store,
        messageId: id,
        outDir: join(work, `export-${id}`),
        trust: accessPointInternals(net.c2).trust,
      });
      expect(exported.receipts?.map((r) => r.sha256)).toEqual([bound]);
      expect(
        createHash('sha256')
          .update(readFileSync(join(work, `export-${id}`, exported.receipts![0]!.file)))
          .digest('hex'),
      ).toBe(bound);
      const missing = await fetch(`${net.c2.url}/api/v1/messages/${id}/receipts/${'0'.repeat(64)}`, {
        headers: { authorization: `Bearer ${SELLER.key}` },
      });
      expect(missing.status).toBe(404);
    });
  }

  it("puts Peppol's AS4 header on the wire: process as Service, document type as Action, typed participants, AP seat ids, RSA-SHA256, AES-128-GCM under RSA-OAEP", () => {
    const envelopes = proxy.sent.flatMap((connection) => envelopesIn(Buffer.concat(connection)));
    const dispatches = envelopes
      .map((xml) => ({ xml, parsed: parseEnvelope(parseAs4Xml(xml)) }))
      .filter((e) => e.parsed.kind === 'user');
    expect(dispatches.length).toBeGreaterThanOrEqual(4);
    for (const { xml, parsed } of dispatches) {
      if (parsed.kind !== 'user') continue;
      const m = parsed.message;
      expect(m.collaboration).toMatchObject({
        agreementRef: 'urn:fdc:peppol.eu:2017:agreements:tia:ap_provider',
        service: PROCESS_BILLING,
        serviceType: PROCESS_SCHEME,
      });
      expect([
        formatIdentifier(jpPintDocumentType('Invoice')),
        formatIdentifier(jpPintDocumentType('CreditNote')),
      ]).toContain(m.collaboration.action);
      expect(m.from).toEqual({
        partyId: SEATS.c2,
        partyIdType: 'urn:fdc:peppol.eu:2017:identifiers:ap',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
      });
      expect(m.to).toEqual({
        partyId: SEATS.c3,
        partyIdType: 'urn:fdc:peppol.eu:2017:identifiers:ap',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
      });
      expect(m.messageProperties).toEqual(
        expect.arrayContaining([
          { name: 'originalSender', value: SELLER.id, type: 'iso6523-actorid-upis' },
          expect.objectContaining({ name: 'finalRecipient', type: 'iso6523-actorid-upis' }),
        ]),
      );
      expect(xml).toContain(`Algorithm="${AS4_ALG.rsaSha256}"`);
      expect(xml).toContain(`Algorithm="${AS4_ALG.aes128Gcm}"`);
      expect(xml).toContain(`Algorithm="${AS4_ALG.rsaOaep}"`);
    }
  });

  /** A Peppol UserMessage signed as C2 and encrypted for C3, posted by the test itself: `sbdReceiver` in the SBD, BUYER in the AS4 header. */
  async function postCrafted(options: {
    sbdReceiver: string;
    action?: string;
    /** The sending AP's signing identity (its CN the From PartyId). @defaultValue C2's */
    identity?: SigningIdentity;
    /** originalSender and SBDH Sender. @defaultValue SELLER */
    sender?: string;
    /** SBDH DocumentIdentification/InstanceIdentifier. @defaultValue a new UUID */
    instanceIdentifier?: string;
    /** The ebMS MessageId. @defaultValue a new one */
    messageId?: string;
  }): Promise<{ messageId: string; error: unknown }> {
    const invoice = fixture('invoice-standard-rate.xml').toString('utf8');
    const documentType = jpPintDocumentType('Invoice');
    const sender = parseParticipantId(options.sender ?? SELLER.id);
    const identity =
      options.identity ?? loadSigningIdentity(pki.as4Signing('c2').cert, pki.as4Signing('c2').key);
    const seat = /(?:^|\n)CN=([^\n]+)/.exec(identity.certificate.subject)?.[1] ?? SEATS.c2;
    const sbd = buildSbd(
      {
        sender,
        receiver: parseParticipantId(options.sbdReceiver),
        documentType,
        process: { scheme: PROCESS_SCHEME, value: PROCESS_BILLING },
        countryC1: 'JP',
        instanceIdentifier: options.instanceIdentifier ?? randomUUID(),
        creationTime: new Date(),
      },
      invoice,
    );
    const messageId =
      options.messageId ??
      `crafted-${Date.now()}-${Math.random().toString(16).slice(2)}@peppol-exchange.test`;
    const attachments: Attachment[] = [
      { contentId: 'sbd@test', contentType: 'application/xml', body: Buffer.from(sbd) },
    ];
    const message: UserMessage = {
      messageId,
      timestamp: new Date(),
      from: {
        partyId: seat,
        partyIdType: 'urn:fdc:peppol.eu:2017:identifiers:ap',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
      },
      to: {
        partyId: SEATS.c3,
        partyIdType: 'urn:fdc:peppol.eu:2017:identifiers:ap',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
      },
      collaboration: {
        agreementRef: 'urn:fdc:peppol.eu:2017:agreements:tia:ap_provider',
        service: PROCESS_BILLING,
        serviceType: PROCESS_SCHEME,
        action: options.action ?? formatIdentifier(documentType),
        conversationId: messageId,
      },
      messageProperties: peppolMessageProperties(sender, parseParticipantId(BUYER.id)),
      payloads: [{ href: 'cid:sbd@test', mimeType: 'application/xml', properties: [] }],
    };
    const c3Certificate = new X509Certificate(readFileSync(pki.ap('c3').encCert));
    const error = await sendUserMessage({
      endpoint: `${net.c3.url}/as4`,
      message,
      attachments,
      identity,
      trust: accessPointInternals(net.c2).trust,
      tlsEkuSigners: true,
      receiverCertificate: c3Certificate,
      encryptFor: c3Certificate,
      compress: true,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { messageId, error };
  }
  const firstSignal = (error: unknown) =>
    (error as { details: { errors: Array<{ errorCode: string; errorDetail?: string }> } }).details.errors[0]!;

  it("xmlsec1 verifies C3's signed receipts on the wire: signed by its Peppol AP certificate (CN = seat id), chaining to the CA; a changed byte fails", () => {
    const receipts = proxy.answered
      .flatMap((connection) => httpMessages(Buffer.concat(connection)))
      .map((m) => m.body.toString('utf8'))
      .filter((xml) => xml.includes(':Receipt>'));
    expect(receipts.length).toBeGreaterThanOrEqual(4);
    for (const receipt of receipts) {
      const verified = xmlsecVerifySignal(receipt, pki.peppolApCa.cert);
      expect(verified.ok, verified.output).toBe(true);
      expect(verified.output).toContain('SignedInfo References (ok/all): 2/2');
      expect(verified.signer.subject).toContain(`CN=${SEATS.c3}`);
      expect(receipt).toContain(`Algorithm="${AS4_ALG.rsaSha256}"`);
    }
    const tampered = receipts[0]!.replace(/(<eb:RefToMessageId>)([^<])/, '$1x$2');
    expect(tampered).not.toBe(receipts[0]);
    expect(xmlsecVerifySignal(tampered, pki.peppolApCa.cert).ok).toBe(false);
  });

  it('C3 refuses an SBD whose receiver is not the AS4 finalRecipient: EBMS:0004 naming the mismatch, RelayRejection recorded', async () => {
    // The AS4 header names the buyer C3 serves; the SBD inside names another receiver.
    const { messageId, error } = await postCrafted({ sbdReceiver: UNSERVED.id });
    expect(isQerdsError(error, 'AS4_EBMS_0004'), String(error)).toBe(true);
    const signal = firstSignal(error);
    expect(signal.errorCode).toBe('EBMS:0004');
    expect(signal.errorDetail).toMatch(
      /^PEPPOL_SBDH_RECEIVER_MISMATCH: SBDH Receiver iso6523-actorid-upis::0188:\d{13} ≠ AS4 finalRecipient 0188:5011001099999/,
    );

    const atC3 = await accessPointInternals(net.c3).context.store.findMessageByEbmsId(
      messageId,
      'recipient-ap',
    );
    expect(atC3?.state).toBe('rejected');
    const evidence = await accessPointInternals(net.c3).context.store.listEvidence(atC3!.id);
    expect(evidence.map((e) => e.event)).toEqual(['RelayRejection']);
    expect(evidence[0]!.xml).toContain('PEPPOL_SBDH_RECEIVER_MISMATCH');
  });

  it('a document type C3 has no P-Mode for: EBMS:0004 PEPPOL:NOT_SERVICED (not EBMS:0010), nothing recorded', async () => {
    const bis3 =
      'busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1';
    const { messageId, error } = await postCrafted({ sbdReceiver: BUYER.id, action: bis3 });
    expect(isQerdsError(error, 'AS4_EBMS_0004'), String(error)).toBe(true);
    expect(firstSignal(error)).toMatchObject({ errorCode: 'EBMS:0004', errorDetail: 'PEPPOL:NOT_SERVICED' });
    expect(
      await accessPointInternals(net.c3).context.store.findMessageByEbmsId(messageId, 'recipient-ap'),
    ).toBeUndefined();
  });

  describe('duplicates at C3: the same ebMS MessageId is a transport retry, the same SBDH instance under a new MessageId a duplicate document', () => {
    const inboxHas = async (ebmsMessageId: string) =>
      (await api<Array<{ ebmsMessageId: string }>>(net.c3.url, BUYER.key, '/api/v1/inbox')).filter(
        (m) => m.ebmsMessageId === ebmsMessageId,
      ).length;

    it('a second SBD with the same Sender and InstanceIdentifier under a new MessageId: EBMS:0004 PEPPOL_SBDH_DUPLICATE_INSTANCE naming the first, neither recorded nor delivered; another sender may use the same InstanceIdentifier', async () => {
      const instance = randomUUID();
      const first = await postCrafted({ sbdReceiver: BUYER.id, instanceIdentifier: instance });
      expect(first.error).toBeUndefined();
      const second = await postCrafted({ sbdReceiver: BUYER.id, instanceIdentifier: instance });
      expect(isQerdsError(second.error, 'AS4_EBMS_0004'), String(second.error)).toBe(true);
      expect(firstSignal(second.error)).toMatchObject({
        errorCode: 'EBMS:0004',
        errorDetail: `PEPPOL_SBDH_DUPLICATE_INSTANCE: SBDH InstanceIdentifier ${instance} from iso6523-actorid-upis::${SELLER.id} was already received in ebMS message ${first.messageId}`,
      });
      const store = accessPointInternals(net.c3).context.store;
      expect(await store.findMessageByEbmsId(second.messageId, 'recipient-ap')).toBeUndefined();
      await waitFor(async () => ((await inboxHas(first.messageId)) === 1 ? true : undefined), {
        timeoutMs: 30_000,
      });
      expect(await inboxHas(second.messageId)).toBe(0);
      // The key is the pair: the same UUID from another sender is another document.
      const other = await postCrafted({
        sbdReceiver: BUYER.id,
        sender: OTHER_SELLER.id,
        instanceIdentifier: instance,
      });
      expect(other.error).toBeUndefined();
      expect((await store.findMessageByEbmsId(other.messageId, 'recipient-ap'))?.state).not.toBe('rejected');
    });

    it('the same MessageId again: a byte-identical request gets the very receipt it got first, a rebuilt one (same MessageId and SBD) a receipt too — never the duplicate-instance refusal — and the message is delivered once', async () => {
      // A dispatch C2 sent in the tests above, as it went over the wire, with C3's answer to it.
      const exchanges = proxy.sent.flatMap((connection, i) => {
        const requests = httpMessages(Buffer.concat(connection));
        const answers = httpMessages(Buffer.concat(proxy.answered[i]!));
        return requests.map((request, j) => ({ request, answer: answers[j] }));
      });
      const dispatch = exchanges.find(
        ({ request, answer }) =>
          request.contentType.startsWith('multipart/related') &&
          answer?.body.toString('utf8').includes(':Receipt>') &&
          (() => {
            const parsed = parseEnvelope(
              parseAs4Xml(decodeMultipart(request.contentType, request.body).envelope),
            );
            return parsed.kind === 'user' && parsed.message.collaboration.service === PROCESS_BILLING;
          })(),
      )!;
      expect(dispatch).toBeDefined();
      const replayed = await fetch(`${net.c3.url}/as4`, {
        method: 'POST',
        headers: { 'content-type': dispatch.request.contentType },
        body: new Uint8Array(dispatch.request.body),
      });
      expect(replayed.status).toBe(200);
      expect(await replayed.text()).toBe(dispatch.answer!.body.toString('utf8'));

      const instance = randomUUID();
      const messageId = `retried-${randomUUID()}@peppol-exchange.test`;
      expect(
        (await postCrafted({ sbdReceiver: BUYER.id, instanceIdentifier: instance, messageId })).error,
      ).toBeUndefined();
      expect(
        (await postCrafted({ sbdReceiver: BUYER.id, instanceIdentifier: instance, messageId })).error,
      ).toBeUndefined();
      await waitFor(async () => ((await inboxHas(messageId)) === 1 ? true : undefined), {
        timeoutMs: 30_000,
      });
      const sent = parseEnvelope(
        parseAs4Xml(decodeMultipart(dispatch.request.contentType, dispatch.request.body).envelope),
      );
      expect(sent.kind === 'user' && (await inboxHas(sent.message.messageId))).toBe(1);
    });
  });

  describe('pki.peppolAnchors enforced on live traffic: only a Peppol AP of the configured network may send or sign a receipt', () => {
    /** A crafted message from `sender`, signed by `identity`, refused with EBMS:0101; nothing of it at C3. */
    async function expectRefusedSender(sender: string, identity: SigningIdentity, detail: RegExp) {
      const { messageId, error } = await postCrafted({ sbdReceiver: BUYER.id, sender, identity });
      expect(isQerdsError(error, 'AS4_EBMS_0101'), String(error)).toBe(true);
      const signal = firstSignal(error);
      expect(signal.errorCode).toBe('EBMS:0101');
      expect(signal.errorDetail).toMatch(detail);
      expect(
        await accessPointInternals(net.c3).context.store.findMessageByEbmsId(messageId, 'recipient-ap'),
      ).toBeUndefined();
    }

    it('a sender certificate with the AP profile, pinned by the directory and under pki.trust, but issued by the SMP CA: EBMS:0101, nothing recorded', async () => {
      await expectRefusedSender(
        ROGUE.smpCa.id,
        standIn.smpIssued.identity,
        /POP000103 does not chain to a Peppol test AP CA: no path from/,
      );
    });

    it('a sender certificate of an AP CA whose revocation nobody can tell (no OCSP responder, no CRL held): EBMS:0101, nothing recorded', async () => {
      await expectRefusedSender(
        ROGUE.unknownStatus.id,
        standIn.unknownStatus.identity,
        /the revocation status of .*POP000104 cannot be established: no OCSP responder in the certificate and no CRL from/,
      );
    });

    it('a revoked AP certificate (on the AP CA CRL): EBMS:0101, nothing recorded', async () => {
      await expectRefusedSender(ROGUE.revoked.id, standIn.revoked.identity, /POP000105.* revoked/);
    });

    it('a certificate of a foreign PKI: EBMS:0101, nothing recorded', async () => {
      const foreign = foreignTestPki();
      await expectRefusedSender(
        ROGUE.foreign.id,
        loadSigningIdentity(foreign.ap('c2').sealCert, foreign.ap('c2').sealKey),
        /not trusted/,
      );
    });

    it("a receipt signed by a certificate that is no Peppol AP's does not count: no RelayAcceptance, RelayFailure after one attempt naming the reason", async () => {
      const response = await submit(net, fixture('invoice-standard-rate.xml'), ROGUE.receiver.id);
      expect(response.status).toBe(201);
      const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };
      const failure = await waitFor(
        async () =>
          (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
            (e) => e.event === 'RelayFailure',
          ),
        { timeoutMs: 30_000 },
      );
      // The other end took the message and answered with a valid signed receipt: only its signer is wrong.
      expect(rogueReceiver.received.map((r) => r.message.messageId)).toContain(ebmsMessageId);
      expect(failure.xml).toMatch(
        /AS4_EBMS_0101: the receipt from http:\/\/127\.0\.0\.1:\d+\/as4 is not signed by a Peppol AP: .*POP000103 does not chain to a Peppol test AP CA/,
      );
      const events = (await accessPointInternals(net.c2).context.store.listEvidence(id)).map((e) => e.event);
      expect(events).toEqual(['SubmissionAcceptance', 'RelayFailure']);
      const message = await accessPointInternals(net.c2).context.store.getMessage(id);
      expect(message).toMatchObject({ state: 'failed', attempts: 1 });
    });
  });

  it('a receiver C3 does not serve: EBMS:0004 PEPPOL:NOT_SERVICED, final at C2 (RelayFailure after one attempt) and C3 returns its RelayRejection', async () => {
    const response = await submit(net, fixture('invoice-standard-rate.xml'), UNSERVED.id);
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const events = await waitFor(
      async () => {
        const names = (await chainAtC2(net, id)).map((e) => e.event);
        return names.includes('RelayFailure') && names.includes('RelayRejection') ? names : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(events).not.toContain('RelayAcceptance');
    const message = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(message?.state).toBe('failed');
    expect(message?.attempts).toBe(1);
    const failure = (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
      (e) => e.event === 'RelayFailure',
    )!;
    expect(failure.xml).toContain('PEPPOL:NOT_SERVICED');
  });

  it('an invoice breaking a JP PINT rule is refused at submission: 422 problem+json and a SubmissionRejection naming the rule', async () => {
    const response = await submit(
      net,
      readFileSync(new URL('../fixtures/peppol/jp-pint/broken/aligned-ibr-jp-01.xml', import.meta.url)),
      BUYER.id,
    );
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as {
      code: string;
      reason: string;
      detail: string;
      message: { id: string };
    };
    expect(problem).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA02' });
    expect(problem.detail).toMatch(/^JP PINT rule aligned-ibr-jp-01: /);
    const evidence = await accessPointInternals(net.c2).context.store.listEvidence(problem.message.id);
    expect(evidence.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(evidence[0]!.xml).toContain('JP PINT rule aligned-ibr-jp-01');
    expect((await accessPointInternals(net.c2).context.store.getMessage(problem.message.id))?.state).toBe(
      'rejected',
    );
  });

  it('an invoice that breaks the UBL 2.1 XSD is refused at submission before any JP PINT rule: 422 and a SubmissionRejection naming line and element', async () => {
    const xml = fixture('invoice-standard-rate.xml')
      .toString('utf8')
      .replace('<cbc:IssueDate>2024-04-30</cbc:IssueDate>', '<cbc:IssueDate>2024-04-31</cbc:IssueDate>');
    const response = await submit(net, Buffer.from(xml), BUYER.id);
    expect(response.status).toBe(422);
    const problem = (await response.json()) as {
      code: string;
      reason: string;
      detail: string;
      message: { id: string };
    };
    expect(problem).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA02' });
    expect(problem.detail).toMatch(
      /^UBL 2\.1 XSD: line 9: element IssueDate: .*'2024-04-31' is not a valid value/,
    );
    const evidence = await accessPointInternals(net.c2).context.store.listEvidence(problem.message.id);
    expect(evidence.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(evidence[0]!.xml).toContain('UBL 2.1 XSD: line 9: element IssueDate');
  });

  it('an invoice our rules accept and the official JP PINT Schematron refuses is refused at submission naming the official rule', async () => {
    const xml = fixture('invoice-standard-rate.xml')
      .toString('utf8')
      .replace(/unitCode="H87"/g, 'unitCode="QQQ"');
    const response = await submit(net, Buffer.from(xml), BUYER.id);
    expect(response.status).toBe(422);
    const problem = (await response.json()) as {
      code: string;
      reason: string;
      detail: string;
      message: { id: string };
    };
    expect(problem).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA02' });
    expect(problem.detail).toMatch(/^JP PINT rule ibr-cl-23 \(official Schematron\): \[ibr-cl-23\]/);
    const evidence = await accessPointInternals(net.c2).context.store.listEvidence(problem.message.id);
    expect(evidence[0]!.xml).toContain('JP PINT rule ibr-cl-23 (official Schematron)');
  });
});
