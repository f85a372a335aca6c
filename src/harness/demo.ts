import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { api, apiText, RECIPIENT, SENDER, startTwoAccessPoints } from './two-access-points.js';
import { formatReport, verifyEvidence } from '../evidence/index.js';
import { parseSbd, readUblInvoice } from '../peppol/index.js';
import {
  createDevPeppolPki,
  devPkiLayout,
  initDevPki,
  loadTrustStore,
  type DevPkiLayout,
} from '../pki/index.js';
import { parseXmlStrict } from '../xml/index.js';
import { devTrustListXml } from '../trust-list/index.js';
import { resolvePModes } from '../profiles/index.js';

export interface DemoOptions {
  /** Output directory (evidence files, databases). @defaultValue 'demo-out' */
  readonly outDir: string;
  /** Dev PKI directory, created when missing. @defaultValue 'certs/dev' */
  readonly pkiDir: string;
  /** The document to send. */
  readonly invoice: string;
  /** Give up after this many ms. @defaultValue 45000 */
  readonly timeoutMs: number;
  readonly print: (line: string) => void;
  /** Extra settings of the two APs (store and queue kinds…), as startTwoAccessPoints takes them. */
  readonly overrides?: Parameters<typeof startTwoAccessPoints>[0]['overrides'];
  /**
   * `erds`: the ERDS service between qerds-ap instances. `peppol`: both APs on the Peppol AS4 profile with dev Peppol
   * AP certificates (CN = seat id), a JP PINT document between two Japanese companies. @defaultValue 'erds'
   */
  readonly profile?: 'erds' | 'peppol';
  /** Each AP's logger (`qerds demo`: the CLI's, in the format of --log-format). @defaultValue JSON at warn */
  readonly logger?: (name: 'c2' | 'c3') => Logger;
}

/** The Peppol demo's parties: the seller and buyer of the JP PINT samples (corporate numbers with valid check digits). */
export const PEPPOL_SELLER = {
  id: '0188:9010401012345',
  name: 'サンプル商事株式会社 (Sample Seller KK)',
  key: 'demo-peppol-seller-0123456789abcdef',
};
export const PEPPOL_BUYER = {
  id: '0188:5011001099999',
  name: 'サンプル購買合同会社 (Sample Buyer GK)',
  key: 'demo-peppol-buyer-0123456789abcdef0',
};
/** The seat ids (AP certificate CNs) of the Peppol demo's C2 and C3. */
export const PEPPOL_SEATS = { c2: 'POP000101', c3: 'POP000102' } as const;

type Overrides = DemoOptions['overrides'];
/**
 * `overrides` with the Peppol AS4 profile for both APs, and the Peppol PKI of `pki` as an operator configures the
 * real one: the dev Peppol AP CA as the network's anchor (`pki.peppolAnchors`), its CRL beside the QERDS trust.
 */
function onPeppol(overrides: Overrides, pki: DevPkiLayout): NonNullable<Overrides> {
  return (name) => {
    const own = typeof overrides === 'function' ? overrides(name) : overrides;
    return {
      ...own,
      as4: { ...own?.as4, profile: 'peppol' },
      pki: {
        ...own?.pki,
        trust: [pki.caCert, pki.caCrl, pki.peppolApCa.crl],
        peppolAnchors: { network: 'test', generations: ['G3'], dir: pki.peppolApCa.anchorsDir },
      },
    };
  };
}

const CHAIN = ['SubmissionAcceptance', 'RelayAcceptance', 'ContentConsignment', 'ContentHandover'];

/**
 * The walking skeleton, end to end on loopback: C1 (the sender's ERP) submits a UBL invoice to C2 over
 * REST; C2 seals, timestamps and relays it over AS4 to C3; C4 (the recipient) picks it up with its own
 * credentials; the evidence chain comes back to C2, is written to files and verified offline.
 * Returns the number of evidence files that did not verify (0 on success).
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const say = options.print;
  const started = Date.now();
  const pki = await initDevPki({ dir: options.pkiDir, trustList: devTrustListXml });
  say(
    pki.created
      ? `dev PKI created in ${options.pkiDir} (DEV/TEST ONLY)`
      : `dev PKI found in ${options.pkiDir}${pki.added.length > 0 ? ' (completed with what newer versions issue: AS4 encryption certificates, eDelivery AS4 2.0 identities, seals naming their AP)' : ''}`,
  );

  rmSync(options.outDir, { recursive: true, force: true });
  const evidenceDir = join(options.outDir, 'evidence');
  mkdirSync(evidenceDir, { recursive: true });
  const peppol = options.profile === 'peppol';
  // Peppol: AP certificates (CN = seat id) from a dev Peppol AP CA, in the output directory; the e-seals stay the QSealCs.
  const peppolPki = peppol
    ? await createDevPeppolPki({
        from: pki.layout,
        dir: join(options.outDir, 'peppol-pki'),
        seats: PEPPOL_SEATS,
      })
    : undefined;
  const apPkiDir = peppolPki?.dir ?? options.pkiDir;
  const sender = peppol ? PEPPOL_SELLER : SENDER;
  const recipient = peppol ? PEPPOL_BUYER : RECIPIENT;
  const net = await startTwoAccessPoints({
    outDir: options.outDir,
    pkiDir: apPkiDir,
    overrides: peppolPki ? onPeppol(options.overrides, peppolPki) : options.overrides,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(peppol
      ? {
          extraParticipants: [
            { ...PEPPOL_SELLER, servedBy: 'c2' as const, account: { key: PEPPOL_SELLER.key } },
            { ...PEPPOL_BUYER, servedBy: 'c3' as const, account: { key: PEPPOL_BUYER.key } },
          ],
        }
      : {}),
  });
  const { c2, c3 } = net;
  try {
    say(`C2 (sender's AP)    ${c2.url}   e-seal: ${c2.sealCertificate.subject.replace(/\n/g, ', ')}`);
    say(`C3 (recipient's AP) ${c3.url}   e-seal: ${c3.sealCertificate.subject.replace(/\n/g, ', ')}`);
    say(`embedded TSA        ${c2.url}/tsa`);
    say(
      `store, queue        ${c2.config.store.kind}${c2.config.store.kind === 'postgres' ? ` (schemas ${c2.config.store.postgresSchema}, ${c3.config.store.postgresSchema})` : ''}, ${c2.config.queue.kind}`,
    );
    const pmodes = resolvePModes(c2.config.as4).map((p) => p.pmode);
    if (peppolPki)
      for (const [name, ap] of [
        ['C2', 'c2'],
        ['C3', 'c3'],
      ] as const)
        say(
          `${name} Peppol AP     AS4 certificate: ${new X509Certificate(readFileSync(peppolPki.as4Signing(ap).cert)).subject.replace(/\n/g, ', ')}`,
        );
    if (peppol)
      say(
        `Peppol AS4 profile  AP certificates ${PEPPOL_SEATS.c2} (C2), ${PEPPOL_SEATS.c3} (C3) from the dev Peppol AP CA (AS4 signing and encryption; the e-seals above seal the evidence); JP PINT checked at submission, SBD checked at C3`,
      );
    say(
      `AS4 C2 ⇄ C3         P-Modes ${pmodes.map((p) => `${p.id} (${p.security.algorithmSet}${p.security.encrypt ? ', encrypted' : ''}${p.compress && c2.config.as4.compress ? ', GZIP' : ''})`).join(', ')}`,
    );

    // C1 → C2: the ERP submits the invoice.
    const invoice = readFileSync(options.invoice);
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: recipient.id, subject: 'Invoice INV-2026-000123' }));
    form.append('payload', new Blob([invoice], { type: 'application/xml' }), 'INV-2026-000123.xml');
    const submitted = await api(c2.url, sender.key, '/api/v1/messages', { method: 'POST', body: form });
    const messageId = String(submitted.id);
    // The inbox entry of this message (a PostgreSQL store keeps earlier runs' messages).
    const ebmsMessageId = String(submitted.ebmsMessageId);
    say(`C1 → C2  submitted ${invoice.length} bytes as message ${messageId}`);

    // C4 waits for the message in its inbox at C3, then downloads it (handover after identification).
    const deadline = Date.now() + options.timeoutMs;
    let handedOver = false;
    const seen = new Set<string>();
    const files: string[] = [];
    while (Date.now() < deadline) {
      if (!handedOver) {
        const inbox = await api<
          Array<{ id: string; ebmsMessageId: string; state: string; parts: Array<{ partId: string }> }>
        >(c3.url, recipient.key, '/api/v1/inbox');
        const item = inbox.find((m) => m.state === 'consigned' && m.ebmsMessageId === ebmsMessageId);
        if (item) {
          const response = await fetch(`${c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
            headers: { authorization: `Bearer ${recipient.key}` },
          });
          const body = Buffer.from(await response.arrayBuffer());
          if (!response.ok) throw new Error(`handover failed: HTTP ${response.status}`);
          if (peppol) {
            // Peppol delivers the SBD: the same invoice inside, under a header naming both parties.
            const { header, businessMessage } = parseSbd(body.toString('utf8'));
            const sent = readUblInvoice(
              parseXmlStrict(invoice.toString('utf8'), 'PEPPOL_SBDH_MALFORMED').documentElement!,
            );
            if (readUblInvoice(businessMessage)?.id !== sent?.id)
              throw new Error('handover failed: the SBD does not carry the invoice sent');
            say(
              `C3 → C4  recipient authenticated and downloaded the SBD (${body.length} bytes): ${header.sender.value} → ${header.receiver.value}, invoice ${sent?.id}`,
            );
          } else {
            if (!body.equals(invoice)) throw new Error('handover failed: the content differs');
            say(
              `C3 → C4  recipient authenticated and downloaded the invoice (${body.length} bytes, identical)`,
            );
          }
          handedOver = true;
        }
      }
      const chain = await api<
        Array<{ id: string; event: string; eventTime: string; issuedBy: string; href: string }>
      >(c2.url, sender.key, `/api/v1/messages/${messageId}/evidence`);
      for (const item of chain) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        const xml = await apiText(c2.url, sender.key, item.href);
        const file = join(evidenceDir, `${seen.size}-${item.event}.xml`);
        writeFileSync(file, xml);
        files.push(file);
        say(
          `evidence ${seen.size}  ${item.event.padEnd(21)} ${item.eventTime}  issuer ${item.issuedBy}  → ${file}`,
        );
      }
      if (CHAIN.every((event) => chain.some((e) => e.event === event))) break;
      const failure = chain.find((e) => /Failure|Rejection/.test(e.event));
      if (failure) throw new Error(`the message did not go through: ${failure.event} (see ${files.at(-1)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!CHAIN.every((event) => [...files].some((f) => f.endsWith(`-${event}.xml`)))) {
      throw new Error(
        `evidence chain incomplete after ${options.timeoutMs} ms: have ${files.map((f) => f.split('/').pop()).join(', ')}`,
      );
    }

    // The auditor's view: each file verified offline against the dev trust anchor only.
    const dev = devPkiLayout(options.pkiDir);
    const trust = loadTrustStore([dev.caCert, dev.caCrl]);
    let invalid = 0;
    say('');
    say('offline verification (qerds verify <file>):');
    for (const file of files) {
      const report = await verifyEvidence(readFileSync(file, 'utf8'), { trust });
      if (report.indication !== 'TOTAL-PASSED') invalid++;
      say(`  ${file}: ${formatReport(report).split('\n')[0]}`);
    }
    say('');
    say(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: npx qerds verify ${resolve(files[0]!)}`,
    );
    return invalid;
  } finally {
    await net.stop();
  }
}
