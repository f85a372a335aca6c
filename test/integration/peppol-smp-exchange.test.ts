import { accessPointInternals } from '../../src/access-point/internals.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, apiText, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { bdxlHostName } from '../../src/directory/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import {
  corporateNumberCheckDigit,
  formatIdentifier,
  jpPintDocumentType,
  JP_PINT_SELF_BILLING_CUSTOMIZATION,
  parseSbd,
  PROCESS_BILLING,
  PROCESS_SCHEME,
  PROCESS_SELF_BILLING,
} from '../../src/peppol/index.js';
import { loadTrustStore, type DevPkiLayout } from '../../src/pki/index.js';
import { peppolTestPki, startPeppolAccessPoints } from '../helpers/peppol-aps.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import {
  peppolServiceGroup,
  signedMetadata,
  startDnsServer,
  startSmpResponder,
  type DnsEntry,
  type SmpResponder,
} from '../directory/smp-fixtures.js';

/**
 * SMP discovery wired into the Peppol exchange: C2 knows the recipients below from no static entry. For each
 * submission it asks the SML (a local DNS server answering Peppol's NAPTR records) for the recipient's SMP, reads
 * the service group, picks the registration that accepts the document type of the submitted UBL
 * (`peppol-doctype-wildcard`), verifies the signed ServiceMetadata, and sends to the endpoint it names, encrypting
 * for and pinning the certificate it names (C3's Peppol AP certificate). Refusals: a participant registered for
 * another document type, an SMP answer altered after signing (at submission, and between submission and relay),
 * each with its directory code in the evidence and nothing sent.
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-smp-'));
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/peppol/jp-pint/${name}`, import.meta.url));
const ZONE = 'sml.peppol-smp-exchange.test';
/** c4: another Peppol AP's certificate, named by a mis-published SMP answer. */
const SEATS = { c2: 'POP000101', c3: 'POP000102', c4: 'POP000103' };
const corporate = (base12: string) => `${corporateNumberCheckDigit(base12)}${base12}`;
const SELLER = {
  id: '0188:9010401012345',
  name: 'Sample Seller KK',
  key: 'peppol-smp-seller-key-0123456789abcdef',
};
/** Served by C3, published in the SMP only (C2's static directory does not list it). */
const BUYER = {
  id: '0188:5011001099999',
  name: 'Sample Buyer GK',
  key: 'peppol-smp-buyer-key-0123456789abcdef',
};
/** Registered in the SMP for BIS Billing 3 and PINT Singapore only. */
const NOT_JP = { id: `0188:${corporate('011001070001')}`, name: 'Registered for other document types' };
/** Its signed metadata altered (endpoint) before C2 reads it. */
const FORGED = { id: `0188:${corporate('011001070002')}`, name: 'Forged at submission' };
/** Its SMP answers at submission, then fails (HTTP 500) when the relay asks. */
const SMP_DOWN = { id: `0188:${corporate('011001070005')}`, name: 'SMP down at relay' };
/** Validly signed, C3's endpoint, but another AP's certificate (c4). */
const OTHER_CERT = { id: `0188:${corporate('011001070004')}`, name: 'Published with another AP certificate' };
/** Its signed metadata good at submission, altered when the relay asks again. */
const FORGED_LATER = { id: `0188:${corporate('011001070003')}`, name: 'Forged at relay' };

const INVOICE = 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice';
const wildcard = (customization: string) => ({
  scheme: 'peppol-doctype-wildcard',
  value: `${INVOICE}##${customization}::2.1`,
});
const JP_PINT = wildcard('urn:peppol:pint:billing-1@jp-1');
const PINT_JP_ANY = wildcard('urn:peppol:pint:billing-1@jp-1*');
const PINT_JP_SELF_BILLING = wildcard(`${JP_PINT_SELF_BILLING_CUSTOMIZATION}*`);
const PINT_SG_ANY = wildcard('urn:peppol:pint:billing-1@sg-1*');
const BIS3 = {
  scheme: 'busdox-docid-qns',
  value: `${INVOICE}##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1`,
};
const participantOf = (id: string) => ({ scheme: 'iso6523-actorid-upis', value: id });
const groupPath = (id: string) => `/${encodeURIComponent(`iso6523-actorid-upis::${id}`)}`;
const metadataPath = (id: string, d: { scheme: string; value: string }) =>
  `${groupPath(id)}/services/${encodeURIComponent(`${d.scheme}::${d.value}`)}`;

/** A loopback HTTP server that answers 500 and counts every request: where a forged SMP answer points. */
async function sink(): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/as4`, hits, server };
}

describe('Peppol exchange to a recipient found by SML (NAPTR) and SMP only', () => {
  let net: TwoAccessPoints;
  let pki: DevPkiLayout;
  let smp: SmpResponder;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let attacker: Awaited<ReturnType<typeof sink>>;
  let c3Endpoint = '';
  const signer = { keyFile: sharedTestPki().ap('c2').sealKey, certFile: sharedTestPki().ap('c2').sealCert };

  /** Signed ServiceMetadata of `id` for document type `d`: C3's endpoint and C3's Peppol AP certificate. */
  const metadata = (
    id: string,
    d: { scheme: string; value: string },
    endpoint = c3Endpoint,
    apCert = pki.as4Signing('c3').cert,
  ) =>
    signedMetadata(
      'peppol',
      {
        participantScheme: 'iso6523-actorid-upis',
        participantValue: id,
        docScheme: d.scheme,
        docValue: d.value,
        endpoint,
        activation: '2020-01-01T00:00:00Z',
        expiration: '2099-12-31T23:59:59Z',
        apCertPem: readFileSync(apCert, 'utf8'),
        processValue: d === PINT_JP_SELF_BILLING ? PROCESS_SELF_BILLING : PROCESS_BILLING,
      },
      signer,
    );
  function register(id: string, registrations: readonly { scheme: string; value: string }[]): void {
    smp.publish(groupPath(id), peppolServiceGroup(smp.url, participantOf(id), registrations));
    for (const r of registrations) smp.publish(metadataPath(id, r), metadata(id, r));
  }

  async function submit(document: Buffer, recipient: string): Promise<Response> {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient }));
    form.append('payload', new Blob([new Uint8Array(document)], { type: 'application/xml' }), 'invoice.xml');
    return fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SELLER.key}` },
      body: form,
    });
  }
  const evidenceAtC2 = (id: string) => accessPointInternals(net.c2).context.store.listEvidence(id);

  beforeAll(async () => {
    pki = await peppolTestPki(work, SEATS);
    smp = await startSmpResponder();
    attacker = await sink();
    const naptr = (): DnsEntry => [
      { order: 100, preference: 10, flags: 'U', service: 'Meta:SMP', regexp: `!^.*$!${smp.url}!` },
    ];
    dns = await startDnsServer(
      new Map(
        [BUYER, NOT_JP, FORGED, FORGED_LATER, OTHER_CERT, SMP_DOWN].map((p) => [
          bdxlHostName(participantOf(p.id), ZONE),
          naptr(),
        ]),
      ),
    );
    net = await startPeppolAccessPoints(work, pki, {
      seller: SELLER,
      buyer: { ...BUYER, unlistedAt: ['c2'] },
      overrides: (name) => ({
        relay: { maxAttempts: 2 },
        // The dev Peppol AP CA is the network's AP CA; the e-seals (QSealCs) stay under the dev CA of pki.trust.
        pki: {
          trust: [pki.caCert, pki.caCrl, pki.peppolApCa.crl],
          peppolAnchors: { network: 'test', generations: ['G3'], dir: pki.peppolApCa.anchorsDir },
        },
        ...(name === 'c2'
          ? {
              directory: {
                kind: 'smp',
                // Every lookup asks the SML and SMP again (caching: test/directory/peppol-discovery.test.ts), so
                // that an answer altered between submission and relay is seen.
                cacheTtlSeconds: 0,
                smp: {
                  bdxl: { domain: ZONE, mode: 'peppol', dnsServers: [dns.address] },
                  // What `qerds lookup` asks; a submission asks for the document type of its UBL.
                  documentType: `${JP_PINT.scheme}::${JP_PINT.value}`,
                  trust: [pki.caCert],
                },
              },
            }
          : {}),
      }),
      as4Endpoint: (name, endpoint) => {
        if (name === 'c3') c3Endpoint = endpoint;
        return endpoint;
      },
    });
  }, 90_000);
  afterAll(async () => {
    await net?.stop();
    await smp?.close();
    await dns?.close();
    attacker?.server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('C2 has no static entry for the buyer: it resolves it by NAPTR and the signed SMP answer, sends there, and holds the full evidence chain', async () => {
    expect(c3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/as4$/);
    register(BUYER.id, [BIS3, PINT_JP_ANY]);
    const queriesBefore = dns.queries.length;
    const requestsBefore = smp.requests.length;
    const response = await submit(fixture('invoice-standard-rate.xml'), BUYER.id);
    expect(response.status, await response.clone().text()).toBe(201);
    const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };

    // The recipient got it at C3 (C4's inbox), an SBD around the invoice.
    const item = await waitFor(
      async () =>
        (
          await api<
            Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
          >(net.c3.url, BUYER.key, '/api/v1/inbox')
        ).find((m) => m.ebmsMessageId === ebmsMessageId && m.state === 'consigned'),
      { timeoutMs: 30_000 },
    );
    const download = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${BUYER.key}` },
    });
    expect(formatIdentifier(parseSbd(await download.text()).header.receiver)).toBe(
      `iso6523-actorid-upis::${BUYER.id}`,
    );

    // C2 asked the SML for the Peppol SML 2.0 name, then the SMP for the group and the chosen registration only.
    expect(dns.queries.slice(queriesBefore)).toContain(
      `${bdxlHostName(participantOf(BUYER.id), ZONE)} NAPTR`,
    );
    const asked = smp.requests.slice(requestsBefore);
    expect(asked).toContain(groupPath(BUYER.id));
    expect(asked).toContain(metadataPath(BUYER.id, PINT_JP_ANY));
    expect(asked).not.toContain(metadataPath(BUYER.id, BIS3));
    // The stored message names the endpoint of the SMP answer as its peer.
    expect((await accessPointInternals(net.c2).context.store.getMessage(id))?.peer).toBe(c3Endpoint);

    // Evidence: C2's SubmissionAcceptance and receipt-bound RelayAcceptance, C3's chain returned and accepted by C2
    // (carried by the Peppol AP certificate of the SMP answer, sealed by C3's e-seal under the QERDS trust, which the
    // SMP answer does not name), every one verifying.
    const chain = await waitFor(
      async () => {
        const items = await api<Array<{ event: string; issuedBy: string; href: string }>>(
          net.c2.url,
          SELLER.key,
          `/api/v1/messages/${id}/evidence`,
        );
        // C3 returns its evidences in separate Evidence messages: ContentHandover may arrive before the others.
        const fromC3 = new Set(items.filter((e) => e.issuedBy === net.c3.config.ap.id).map((e) => e.event));
        return ['RelayAcceptance', 'ContentConsignment', 'ContentHandover'].every((event) =>
          fromC3.has(event),
        )
          ? items
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(chain.filter((e) => e.issuedBy === net.c2.config.ap.id).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
      'RelayAcceptance',
    ]);
    expect(chain.filter((e) => e.issuedBy === net.c3.config.ap.id).map((e) => e.event)).toEqual(
      expect.arrayContaining(['RelayAcceptance', 'ContentConsignment', 'ContentHandover']),
    );
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    for (const e of chain) {
      const xml = await apiText(net.c2.url, SELLER.key, e.href);
      expect((await verifyEvidence(xml, { trust })).indication, `${e.event} by ${e.issuedBy}`).toBe(
        'TOTAL-PASSED',
      );
    }
    expect(attacker.hits).toEqual([]);
  });

  it('JP PINT self-billing: refused while the buyer registered billing only (DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED), delivered under the self-billing process once it registers self-billing', async () => {
    register(BUYER.id, [PINT_JP_ANY]);
    const refused = await submit(fixture('selfbilling-invoice.xml'), BUYER.id);
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { reason: string; detail: string; message: { id: string } };
    expect(problem.reason).toBe('RA05');
    expect(problem.detail).toContain('DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');
    expect(problem.detail).toContain('selfbilling-1@jp-1');
    const rejection = await evidenceAtC2(problem.message.id);
    expect(rejection.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(rejection[0]!.xml).toContain('DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');

    register(BUYER.id, [PINT_JP_ANY, PINT_JP_SELF_BILLING]);
    const response = await submit(fixture('selfbilling-invoice.xml'), BUYER.id);
    expect(response.status, await response.clone().text()).toBe(201);
    const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };
    expect(smp.requests).toContain(metadataPath(BUYER.id, PINT_JP_SELF_BILLING));
    const item = await waitFor(
      async () =>
        (
          await api<
            Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
          >(net.c3.url, BUYER.key, '/api/v1/inbox')
        ).find((m) => m.ebmsMessageId === ebmsMessageId && m.state === 'consigned'),
      { timeoutMs: 30_000 },
    );
    const download = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
      headers: { authorization: `Bearer ${BUYER.key}` },
    });
    const { header } = parseSbd(await download.text());
    expect(formatIdentifier(header.process)).toBe(`${PROCESS_SCHEME}::${PROCESS_SELF_BILLING}`);
    expect(formatIdentifier(header.documentType)).toBe(
      formatIdentifier(jpPintDocumentType('Invoice', JP_PINT_SELF_BILLING_CUSTOMIZATION)),
    );
    await waitFor(
      async () => (await evidenceAtC2(id)).some((e) => e.event === 'ContentHandover') || undefined,
      { timeoutMs: 30_000 },
    );
  });

  it('a participant registered for other document types only: SubmissionRejection RA05 naming DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED and what it registered', async () => {
    register(NOT_JP.id, [BIS3, PINT_SG_ANY]);
    const response = await submit(fixture('invoice-standard-rate.xml'), NOT_JP.id);
    expect(response.status).toBe(422);
    const problem = (await response.json()) as { reason: string; detail: string; message: { id: string } };
    expect(problem).toMatchObject({ reason: 'RA05' });
    expect(problem.detail).toMatch(/DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED: .*billing-1@sg-1\*/);
    expect((await evidenceAtC2(problem.message.id)).map((e) => e.event)).toEqual(['SubmissionRejection']);
  });

  it('an SMP answer whose endpoint was altered after signing: SubmissionRejection DIRECTORY_SMP_SIGNATURE_INVALID, nothing sent to the altered endpoint', async () => {
    register(FORGED.id, [PINT_JP_ANY]);
    smp.publish(
      metadataPath(FORGED.id, PINT_JP_ANY),
      metadata(FORGED.id, PINT_JP_ANY).replace(c3Endpoint, attacker.url),
    );
    const response = await submit(fixture('invoice-standard-rate.xml'), FORGED.id);
    expect(response.status).toBe(422);
    const problem = (await response.json()) as { reason: string; detail: string; message: { id: string } };
    expect(problem.reason).toBe('RA05');
    expect(problem.detail).toContain('DIRECTORY_SMP_SIGNATURE_INVALID');
    expect(problem.detail).not.toContain(attacker.url);
    const evidence = await evidenceAtC2(problem.message.id);
    expect(evidence.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(attacker.hits).toEqual([]);
  });

  it('an SMP answer altered between submission and relay: RelayFailure RB10 naming DIRECTORY_SMP_SIGNATURE_INVALID, nothing sent anywhere', async () => {
    register(FORGED_LATER.id, [PINT_JP_ANY]);
    const good = metadata(FORGED_LATER.id, PINT_JP_ANY);
    // The first request (at submission) gets the signed answer; the relay's gets it altered.
    smp.publishThen(
      metadataPath(FORGED_LATER.id, PINT_JP_ANY),
      good,
      1,
      good.replace(c3Endpoint, attacker.url),
    );
    const response = await submit(fixture('invoice-standard-rate.xml'), FORGED_LATER.id);
    expect(response.status, await response.clone().text()).toBe(201);
    const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };
    const failure = await waitFor(
      async () => (await evidenceAtC2(id)).find((e) => e.event === 'RelayFailure'),
      { timeoutMs: 30_000 },
    );
    expect(failure.xml).toContain('DIRECTORY_SMP_SIGNATURE_INVALID');
    expect(failure.xml).toContain('UnknownRecipient');
    const message = await accessPointInternals(net.c2).context.store.getMessage(id);
    expect(message).toMatchObject({ state: 'failed', lastError: 'RB10' });
    expect(attacker.hits).toEqual([]);
    expect(
      await accessPointInternals(net.c3).context.store.findMessageByEbmsId(ebmsMessageId, 'recipient-ap'),
    ).toBeUndefined();
  });

  it('the certificate of the SMP answer is the one C2 encrypts for and pins: an answer naming another AP certificate reaches C3 unreadable, RelayFailure, nothing delivered', async () => {
    register(OTHER_CERT.id, [PINT_JP_ANY]);
    smp.publish(
      metadataPath(OTHER_CERT.id, PINT_JP_ANY),
      metadata(OTHER_CERT.id, PINT_JP_ANY, c3Endpoint, pki.as4Signing('c4').cert),
    );
    const response = await submit(fixture('invoice-standard-rate.xml'), OTHER_CERT.id);
    expect(response.status, await response.clone().text()).toBe(201);
    const { id, ebmsMessageId } = (await response.json()) as { id: string; ebmsMessageId: string };
    const failure = await waitFor(
      async () => (await evidenceAtC2(id)).find((e) => e.event === 'RelayFailure'),
      { timeoutMs: 60_000 },
    );
    expect((await evidenceAtC2(id)).map((e) => e.event)).not.toContain('RelayAcceptance');
    // C3 could not decrypt what C2 encrypted for POP000103's key: EBMS:0102 FailedDecryption.
    expect(failure.xml).toContain('AS4_EBMS_0102');
    expect(
      await accessPointInternals(net.c3).context.store.findMessageByEbmsId(ebmsMessageId, 'recipient-ap'),
    ).toBeUndefined();
  });

  it('an SMP that fails when the relay asks is retried (relay.maxAttempts), then RelayFailure RB09 naming DIRECTORY_SMP_UNAVAILABLE', async () => {
    register(SMP_DOWN.id, [PINT_JP_ANY]);
    const path = metadataPath(SMP_DOWN.id, PINT_JP_ANY);
    smp.publishThen(path, metadata(SMP_DOWN.id, PINT_JP_ANY), 1, 'down', 500);
    const response = await submit(fixture('invoice-standard-rate.xml'), SMP_DOWN.id);
    expect(response.status, await response.clone().text()).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const failure = await waitFor(
      async () => (await evidenceAtC2(id)).find((e) => e.event === 'RelayFailure'),
      { timeoutMs: 60_000 },
    );
    expect(failure.xml).toContain('DIRECTORY_SMP_UNAVAILABLE');
    expect(await accessPointInternals(net.c2).context.store.getMessage(id)).toMatchObject({
      state: 'failed',
      attempts: 2,
      lastError: 'RB09',
    });
    // Asked at submission, then once per relay attempt.
    expect(smp.requests.filter((r) => r === path)).toHaveLength(3);
    expect(attacker.hits).toEqual([]);
  });
});
