import { execFile, execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import type { EvidenceData } from '../../src/core/index.js';
import { decryptCms, encryptCms } from '../../src/crypto/index.js';
import { parseEvidenceXml, verifyEvidence } from '../../src/evidence/index.js';
import { devPkiLayout, loadTrustStore } from '../../src/pki/index.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * REQ2 end to end on two APs over loopback: C2 encrypts for the recipient's certificate that its
 * directory names, so that C3 stores, logs and relays only ciphertext. The payload carries a random
 * 32-byte marker; every file C3 wrote (SQLite database, WAL, blobs) and every line C3 logged (at trace
 * level) is searched for it, raw, hex and base64, and for the plaintext's digest (which stays at C2).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'qerds-e2e-'));
const pkiDir = join(work, 'pki');
const execFileAsync = promisify(execFile);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

interface RecipientKeys {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * An EC P-256 key-agreement certificate made by the openssl CLI alone, issued by the dev CA (C2 encrypts
 * only for a certificate that chains to its trust store).
 */
function opensslEcRecipient(): RecipientKeys {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-e2e-ec-'));
  const keyFile = join(dir, 'ec.key.pem');
  const certFile = join(dir, 'ec.crt.pem');
  const ext = join(dir, 'ext.cnf');
  const pki = devPkiLayout(pkiDir);
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\n');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
  ssl(
    'req',
    '-new',
    '-key',
    keyFile,
    '-subj',
    '/O=qerds-ap TEST ONLY/CN=recipient ec',
    '-out',
    join(dir, 'ec.csr'),
  );
  ssl(
    'x509',
    '-req',
    '-in',
    join(dir, 'ec.csr'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-CAserial',
    join(dir, 'ca.srl'),
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    certFile,
  );
  return { certFile, keyFile };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The forms in which a secret could sit in a file or a log line. */
function forms(secret: Buffer): Buffer[] {
  return [
    secret,
    Buffer.from(secret.toString('hex')),
    Buffer.from(secret.toString('base64')),
    Buffer.from(secret.toString('base64url')),
  ];
}

function holders(haystacks: ReadonlyMap<string, Buffer>, secret: Buffer): string[] {
  return [...haystacks]
    .filter(([, bytes]) => forms(secret).some((form) => bytes.includes(form)))
    .map(([name]) => name);
}

const cases: { name: string; recipient: () => Promise<RecipientKeys> }[] = [
  {
    name: 'RSA-OAEP (dev PKI recipients/alice)',
    recipient: async () => {
      const { cert, key } = devPkiLayout(pkiDir).recipient('alice');
      return { certFile: cert, keyFile: key };
    },
  },
  {
    name: 'ECDH P-256 (certificate made with openssl, issued by the dev CA)',
    recipient: async () => opensslEcRecipient(),
  },
];

beforeAll(async () => {
  await devTestPki(pkiDir);
}, 60_000);

describe.each(cases)('end-to-end encryption C2 → C3 → C4: $name', ({ name, recipient: makeRecipient }) => {
  const outDir = join(work, name.replace(/\W+/g, '-'));
  const c3Log: Buffer[] = [];
  const marker = randomBytes(32);
  const senderMarker = randomBytes(32);
  const payload = Buffer.concat([
    Buffer.from('Invoice INV-2026-000123\nsecret marker: '),
    marker,
    Buffer.from('\nend\n'),
  ]);
  const senderPlaintext = Buffer.concat([Buffer.from('encrypted by C1 itself: '), senderMarker]);
  let keys: RecipientKeys;
  let certificate: X509Certificate;
  let senderCms: Buffer;
  let net: TwoAccessPoints;
  let messageId = '';
  let inboxItem: {
    id: string;
    parts: Array<{
      partId: string;
      contentType: string;
      originalContentType?: string;
      sha256: string;
      plaintextSha256?: string;
    }>;
  };
  const handedOver = new Map<string, Buffer>();

  beforeAll(async () => {
    keys = await makeRecipient();
    certificate = new X509Certificate(readFileSync(keys.certFile));
    senderCms = await encryptCms(senderPlaintext, [certificate]);
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        c3Log.push(Buffer.from(chunk));
        done();
      },
    });
    net = await startTwoAccessPoints({
      outDir,
      pkiDir,
      recipientEncryptionCertificate: keys.certFile,
      logger: (ap) => (ap === 'c3' ? pino({ level: 'trace' }, capture) : undefined),
    });

    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'Invoice INV-2026-000123' }));
    form.append('payload', new Blob([new Uint8Array(payload)], { type: 'text/plain' }), 'invoice.txt');
    form.append(
      'payload',
      new Blob([new Uint8Array(senderCms)], { type: 'application/octet-stream' }),
      'invoice.p7m',
    );
    const submitted = await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
    messageId = String(submitted.id);

    // C4 picks the message up at C3 (handover after authentication), then C2 gets the handover evidence.
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && handedOver.size === 0) {
      const inbox = await api<(typeof inboxItem)[]>(net.c3.url, RECIPIENT.key, '/api/v1/inbox');
      const item = inbox.find((m) => m.parts.length === 2);
      if (item) {
        inboxItem = item;
        for (const part of item.parts) {
          const response = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${part.partId}`, {
            headers: { authorization: `Bearer ${RECIPIENT.key}` },
          });
          if (!response.ok) throw new Error(`handover of ${part.partId}: HTTP ${response.status}`);
          handedOver.set(part.partId, Buffer.from(await response.arrayBuffer()));
        }
      } else await new Promise((r) => setTimeout(r, 100));
    }
    while (Date.now() < deadline) {
      const chain = await api<Array<{ event: string }>>(
        net.c2.url,
        SENDER.key,
        `/api/v1/messages/${messageId}/evidence`,
      );
      if (chain.some((e) => e.event === 'ContentHandover')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
  afterAll(() => net?.stop());

  /** C2's evidence of the message, parsed, by event name. */
  async function c2Evidence(): Promise<Map<string, { xml: string; data: EvidenceData }>> {
    const chain = await api<Array<{ event: string; href: string }>>(
      net.c2.url,
      SENDER.key,
      `/api/v1/messages/${messageId}/evidence`,
    );
    const out = new Map<string, { xml: string; data: EvidenceData }>();
    for (const item of chain) {
      const xml = await apiText(net.c2.url, SENDER.key, item.href);
      out.set(item.event, { xml, data: parseEvidenceXml(xml) });
    }
    return out;
  }

  /** Every file C3 wrote (database, WAL, blobs) and its captured log. */
  function c3Artefacts(): Map<string, Buffer> {
    const files = filesUnder(join(outDir, 'c3'));
    expect(files.some((f) => f.endsWith('qerds.sqlite'))).toBe(true);
    const artefacts = new Map(files.map((f) => [f, readFileSync(f)]));
    // The search covers where C3 keeps payloads: the ciphertext C4 was handed is found there (a small payload is
    // in the database since store.inlineBlobMaxBytes, a large one a file under blobs/).
    expect(holders(artefacts, handedOver.get('part-1')!).length).toBeGreaterThan(0);
    artefacts.set('C3 log', Buffer.concat(c3Log));
    return artefacts;
  }

  it('hands C4 ciphertext that decrypts to the payload with decryptCms and with openssl cms', () => {
    expect(handedOver.size).toBe(2);
    const [first] = inboxItem.parts;
    expect(first).toMatchObject({
      contentType: 'application/pkcs7-mime; smime-type=authEnveloped-data',
      originalContentType: 'text/plain',
    });
    expect(first).not.toHaveProperty('plaintextSha256');
    const ciphertext = handedOver.get(first!.partId)!;
    expect(ciphertext.includes(marker)).toBe(false);
    const privateKey = createPrivateKey(readFileSync(keys.keyFile));
    expect(decryptCms(ciphertext, { privateKey, certificate }).equals(payload)).toBe(true);
    const file = join(outDir, 'part-1.p7m');
    writeFileSync(file, ciphertext);
    const opensslPlaintext = ssl(
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      file,
      '-recip',
      keys.certFile,
      '-inkey',
      keys.keyFile,
    );
    expect(opensslPlaintext.equals(payload)).toBe(true);
  });

  it('C4 decrypts the handed-over part with `qerds decrypt`, which writes the plaintext for the recipient only', async () => {
    const input = join(outDir, 'handed-over.p7m');
    const output = join(outDir, 'decrypted.txt');
    writeFileSync(input, handedOver.get('part-1')!);
    // Asynchronously: a blocked event loop would keep fetch from retiring keep-alive sockets the APs closed.
    const result = await execFileAsync(process.execPath, [
      join(root, 'bin/qerds.js'),
      'decrypt',
      input,
      output,
      '--key',
      keys.keyFile,
      '--cert',
      keys.certFile,
    ]);
    expect(result.stderr).toMatch(/decrypted \d+ octets/);
    expect(readFileSync(output).equals(payload)).toBe(true);
    expect(statSync(output).mode & 0o777).toBe(0o600);
  });

  it('passes a part C1 encrypted already (CMS) through untouched', async () => {
    const second = inboxItem.parts[1]!;
    expect(second.contentType).toBe('application/octet-stream');
    expect(second).not.toHaveProperty('originalContentType');
    expect(handedOver.get(second.partId)!.equals(senderCms)).toBe(true);
    const stored = await accessPointInternals(net.c2).context.store.getMessage(messageId);
    expect(stored?.parts[1]).toEqual({
      partId: second.partId,
      contentType: 'application/octet-stream',
      filename: 'invoice.p7m',
      sha256: sha256(senderCms),
      size: senderCms.length,
    });
    const privateKey = createPrivateKey(readFileSync(keys.keyFile));
    expect(
      decryptCms(handedOver.get(second.partId)!, { privateKey, certificate }).equals(senderPlaintext),
    ).toBe(true);
  });

  it("binds plaintext and ciphertext digests in C2's sealed SubmissionAcceptance; C3's evidence only the ciphertext's", async () => {
    const evidence = await c2Evidence();
    expect([...evidence.keys()]).toEqual(
      expect.arrayContaining([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]),
    );
    const acceptance = evidence.get('SubmissionAcceptance')!;
    const cipherDigest = sha256(handedOver.get('part-1')!);
    expect(acceptance.data.parts).toEqual([
      {
        partId: 'part-1',
        contentType: 'application/pkcs7-mime; smime-type=authEnveloped-data',
        sha256: cipherDigest,
        plaintextSha256: sha256(payload),
      },
      { partId: 'part-2', contentType: 'application/octet-stream', sha256: sha256(senderCms) },
    ]);
    const trust = loadTrustStore([devPkiLayout(pkiDir).caCert, devPkiLayout(pkiDir).caCrl]);
    expect((await verifyEvidence(acceptance.xml, { trust })).indication).toBe('TOTAL-PASSED');
    const stored = await accessPointInternals(net.c2).context.store.getMessage(messageId);
    expect(stored?.parts[0]).toMatchObject({
      sha256: cipherDigest,
      plaintextSha256: sha256(payload),
      plaintextSize: payload.length,
      originalContentType: 'text/plain',
    });
    for (const event of ['RelayAcceptance', 'ContentHandover']) {
      const parts = evidence.get(event)!.data.parts;
      expect(parts.map((p) => p.sha256)).toEqual([cipherDigest, sha256(senderCms)]);
      expect(parts.every((p) => p.plaintextSha256 === undefined)).toBe(true);
    }
  });

  it("never puts the plaintext in C3's blobs, SQLite database and WAL, or log", async () => {
    const artefacts = c3Artefacts();
    expect(Buffer.concat(c3Log).toString()).toMatch(/relayed message recorded/);
    expect(holders(artefacts, marker)).toEqual([]);
    expect(holders(artefacts, senderMarker)).toEqual([]);
    // Nor the plaintext's digest: with it C3 could confirm a guessed plaintext.
    expect(holders(artefacts, Buffer.from(sha256(payload), 'hex'))).toEqual([]);
    // The search finds what is there: the ciphertext's digest is in C3's database.
    expect(holders(artefacts, Buffer.from(sha256(handedOver.get('part-1')!), 'hex')).length).toBeGreaterThan(
      0,
    );
    // C2, the sender's AP, received the plaintext from C1 and keeps it (see e2e-encryption.ts): a small payload in
    // its database (the database file or its WAL, or both).
    const c2Files = new Map(filesUnder(join(outDir, 'c2')).map((f) => [f, readFileSync(f)]));
    expect(holders(c2Files, marker).length).toBeGreaterThan(0);
    expect(holders(c2Files, senderMarker)).toEqual([]);
  });

  it('leaves nothing in C3 after the APs stop either (the WAL checkpointed into the database)', async () => {
    await net.stop();
    expect(holders(c3Artefacts(), marker)).toEqual([]);
  });
});
