import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { createAccessPoint, type AccessPoint } from '../access-point.js';
import { loadConfig } from '../config/index.js';
import { formatReport, verifyEvidence } from '../evidence/index.js';
import { devPkiLayout, initDevPki, loadTrustStore } from '../pki/index.js';

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
}

const SENDER = { id: '0188:1234567890123', name: '株式会社サンプル商事 (Sample Trading Co., Ltd.)', key: 'demo-sender-key-0123456789abcdef' };
const RECIPIENT = { id: '0188:9876543210987', name: '合同会社テスト製作所 (Test Works LLC)', key: 'demo-recipient-key-0123456789abcd' };
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
  const pki = await initDevPki({ dir: options.pkiDir });
  say(pki.created ? `dev PKI created in ${options.pkiDir} (DEV/TEST ONLY)` : `dev PKI found in ${options.pkiDir}`);

  rmSync(options.outDir, { recursive: true, force: true });
  const evidenceDir = join(options.outDir, 'evidence');
  mkdirSync(evidenceDir, { recursive: true });
  const [c2Port, c3Port] = await Promise.all([freePort(), freePort()]);
  const endpoint = (port: number) => `http://127.0.0.1:${port}/as4`;
  const directory = [
    { id: SENDER.id, name: SENDER.name, endpoint: endpoint(c2Port) },
    { id: RECIPIENT.id, name: RECIPIENT.name, endpoint: endpoint(c3Port) },
  ];
  const logger = pino({ level: 'warn' });
  const makeAp = (name: 'c2' | 'c3', port: number, account: typeof SENDER) =>
    createAccessPoint(
      loadConfig({
        env: {},
        baseDir: process.cwd(),
        overrides: {
          ap: { name: `qerds-ap demo ${name.toUpperCase()}`, id: `urn:qerds-ap:demo:${name}` },
          http: { port },
          store: { sqliteFile: join(options.outDir, name, 'qerds.sqlite'), blobDir: join(options.outDir, name, 'blobs') },
          pki: { dir: options.pkiDir, apName: name },
          queue: { pollIntervalMs: 50 },
          relay: { baseDelayMs: 200, maxDelayMs: 2000 },
          directory: { participants: directory },
          apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
        },
      }),
      { logger },
    );
  const c2 = await makeAp('c2', c2Port, SENDER);
  const c3 = await makeAp('c3', c3Port, RECIPIENT);
  const aps: AccessPoint[] = [c2, c3];
  try {
    await Promise.all(aps.map((ap) => ap.start()));
    say(`C2 (sender's AP)    ${c2.url}   e-seal: ${c2.identity.certificate.subject.replace(/\n/g, ', ')}`);
    say(`C3 (recipient's AP) ${c3.url}   e-seal: ${c3.identity.certificate.subject.replace(/\n/g, ', ')}`);
    say(`embedded TSA        ${c2.url}/tsa`);

    // C1 → C2: the ERP submits the invoice.
    const invoice = readFileSync(options.invoice);
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'Invoice INV-2026-000123' }));
    form.append('payload', new Blob([invoice], { type: 'application/xml' }), 'INV-2026-000123.xml');
    const submitted = await api(c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    const messageId = String(submitted.id);
    say(`C1 → C2  submitted ${invoice.length} bytes as message ${messageId}`);

    // C4 waits for the message in its inbox at C3, then downloads it (handover after identification).
    const deadline = Date.now() + options.timeoutMs;
    let handedOver = false;
    const seen = new Set<string>();
    const files: string[] = [];
    while (Date.now() < deadline) {
      if (!handedOver) {
        const inbox = (await api(c3.url, RECIPIENT.key, '/api/v1/inbox')) as unknown as Array<{ id: string; state: string; parts: Array<{ partId: string }> }>;
        const item = inbox.find((m) => m.state === 'consigned');
        if (item) {
          const response = await fetch(`${c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, { headers: { authorization: `Bearer ${RECIPIENT.key}` } });
          const body = Buffer.from(await response.arrayBuffer());
          if (!response.ok || !body.equals(invoice)) throw new Error(`handover failed: HTTP ${response.status}`);
          say(`C3 → C4  recipient authenticated and downloaded the invoice (${body.length} bytes, identical)`);
          handedOver = true;
        }
      }
      const chain = (await api(c2.url, SENDER.key, `/api/v1/messages/${messageId}/evidence`)) as unknown as Array<{ id: string; event: string; eventTime: string; issuedBy: string; href: string }>;
      for (const item of chain) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        const xml = await apiText(c2.url, SENDER.key, item.href);
        const file = join(evidenceDir, `${seen.size}-${item.event}.xml`);
        writeFileSync(file, xml);
        files.push(file);
        say(`evidence ${seen.size}  ${item.event.padEnd(21)} ${item.eventTime}  issuer ${item.issuedBy}  → ${file}`);
      }
      if (CHAIN.every((event) => chain.some((e) => e.event === event))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!CHAIN.every((event) => [...files].some((f) => f.endsWith(`-${event}.xml`)))) {
      throw new Error(`evidence chain incomplete after ${options.timeoutMs} ms: have ${files.map((f) => f.split('/').pop()).join(', ')}`);
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
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: npx qerds verify ${resolve(files[0]!)}`);
    return invalid;
  } finally {
    await Promise.allSettled(aps.map((ap) => ap.stop()));
  }
}

async function api(base: string, key: string, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function apiText(base: string, key: string, path: string): Promise<string> {
  const response = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.text();
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
