import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { sequentialIdGenerator, systemClock } from '../../src/core/index.js';
import { parseEvidenceXml } from '../../src/evidence/index.js';
import { devPkiLayout, loadSigningIdentity } from '../../src/pki/index.js';
import { sealXml } from '../../src/seal/index.js';
import { makeCertificate } from '../helpers/identification.js';
import { sharedTestPki, devTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * Forwarded use: the sender (C1) seals its own content — a UBL invoice with XAdES made with its
 * own certificate, a PDF with a detached CAdES made by `openssl cms -sign` — and submits it to C2 with
 * end-to-end encryption on. C2 verifies the seal at intake, encrypts for C4, relays; C4 picks it up at
 * C3, decrypts with `openssl cms -decrypt`, and the seal verifies with `xmlsec1 --verify` or `openssl cms
 * -verify` alone, over bytes identical to those C1 sealed. A seal that does not verify is refused at
 * intake: SubmissionRejection with its reason, 422 problem+json, and nothing relayed.
 *
 * C1's certificate comes from the openssl-made test PKI (another CA than the APs' dev PKI); C2 trusts both.
 */

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'qerds-forwarded-'));
const pkiDir = join(work, 'pki');
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
const invoiceTemplate = readFileSync(resolve(here, '../fixtures/seal/ubl-invoice.xml'), 'utf8');
let net: TwoAccessPoints;

/** C1's own seal: the shared openssl PKI's e-seal certificate and key stand for the sender company's. */
const c1 = () => sharedTestPki().ap('c2');

function c1XadesSeal(xml: string): Promise<string> {
  const identity = loadSigningIdentity(c1().sealCert, c1().sealKey);
  return sealXml(xml, { identity, clock: systemClock, idGenerator: sequentialIdGenerator() });
}

/** `openssl cms -sign -binary -cades`: a detached CAdES-B-B (DER) made by an independent tool. */
function opensslCades(content: Buffer, cert: string, key: string): Buffer {
  const dir = mkdtempSync(join(work, 'cades-'));
  writeFileSync(join(dir, 'content.bin'), content);
  ssl(
    'cms',
    '-sign',
    '-binary',
    '-cades',
    '-md',
    'sha256',
    '-in',
    join(dir, 'content.bin'),
    '-signer',
    cert,
    '-inkey',
    key,
    '-outform',
    'DER',
    '-out',
    join(dir, 'sig.p7s'),
  );
  return readFileSync(join(dir, 'sig.p7s'));
}

async function submit(
  metadata: Record<string, unknown>,
  parts: { bytes: Buffer; type: string; name: string }[],
) {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, ...metadata }));
  for (const p of parts)
    form.append('payload', new Blob([new Uint8Array(p.bytes)], { type: p.type }), p.name);
  const response = await fetch(`${net.c2.url}/api/v1/messages`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${SENDER.key}` },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    body: (await response.json()) as Record<string, any>,
  };
}

/** C4 at C3: waits for the message with `subject` in the inbox, downloads (hands over) every part. */
async function pickUp(subject: string): Promise<Buffer[]> {
  const item = await waitFor(
    async () =>
      (
        await api<Array<{ id: string; subject?: string; parts: { partId: string }[] }>>(
          net.c3.url,
          RECIPIENT.key,
          '/api/v1/inbox',
        )
      ).find((m) => m.subject === subject),
    { timeoutMs: 40_000, what: `"${subject}" in C4's inbox` },
  );
  const out: Buffer[] = [];
  for (const part of item.parts) {
    const response = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${part.partId}`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(response.status).toBe(200);
    out.push(Buffer.from(await response.arrayBuffer()));
  }
  return out;
}

/** C4 decrypts with the independent tool and its own key (dev PKI recipient alice). */
function opensslDecrypt(ciphertext: Buffer): Buffer {
  const alice = devPkiLayout(pkiDir).recipient('alice');
  const file = join(mkdtempSync(join(work, 'dec-')), 'part.p7m');
  writeFileSync(file, ciphertext);
  return ssl('cms', '-decrypt', '-inform', 'DER', '-in', file, '-recip', alice.cert, '-inkey', alice.key);
}

beforeAll(async () => {
  await devTestPki(pkiDir);
  const dev = devPkiLayout(pkiDir);
  net = await startTwoAccessPoints({
    outDir: join(work, 'aps'),
    pkiDir,
    recipientEncryptionCertificate: dev.recipient('alice').cert,
    // C2 trusts its dev CA (APs, recipient) and the CA that issued C1's own seal certificate.
    overrides: (name) =>
      name === 'c2'
        ? { pki: { trust: [dev.caCert, dev.caCrl, sharedTestPki().caCert, sharedTestPki().caCrl] } }
        : {},
  });
}, 90_000);
afterAll(() => net?.stop());

describe('forwarded use: the sender seal holds from C1 to C4 (E2E encryption on)', () => {
  it('a UBL invoice XAdES-sealed by C1 reaches C4 byte for byte and verifies with xmlsec1 --verify alone', async () => {
    const sealed = Buffer.from(await c1XadesSeal(invoiceTemplate), 'utf8');
    const answer = await submit({ subject: 'forwarded XAdES', senderSeal: 'xades' }, [
      { bytes: sealed, type: 'application/xml', name: 'invoice.xml' },
    ]);
    expect(answer.status).toBe(201);
    const acceptance = await apiText(net.c2.url, SENDER.key, answer.body.evidence[0].href);
    const data = parseEvidenceXml(acceptance);
    expect(data.event).toBe('SubmissionAcceptance');
    expect(data.reason?.details).toMatch(
      /sender XAdES seal \(B-B\) on part-1 by .*Shared AP c2 e-seal verified at intake/,
    );

    const [delivered] = await pickUp('forwarded XAdES');
    // E2E: C4 received ciphertext, not the sealed XML.
    expect(delivered!.includes(Buffer.from('INV-2026-000777'))).toBe(false);
    const plaintext = opensslDecrypt(delivered!);
    expect(plaintext.equals(sealed)).toBe(true);
    const check = xmlsecVerify(plaintext.toString('utf8'), sharedTestPki().caCert);
    expect(check.output).toMatch(/OK/);
    expect(check.ok).toBe(true);
    // And xmlsec1 is a real check: one changed byte fails it.
    const tampered = plaintext
      .toString('utf8')
      .replace('110000</cbc:PayableAmount>', '910000</cbc:PayableAmount>');
    expect(xmlsecVerify(tampered, sharedTestPki().caCert).ok).toBe(false);
  });

  it('a PDF with a detached CAdES made by openssl cms -sign reaches C4 and verifies with openssl cms -verify alone', async () => {
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.7\n% expense claim scan\n'),
      randomBytes(4096),
      Buffer.from('\n%%EOF\n'),
    ]);
    const signature = opensslCades(pdf, c1().sealCert, c1().sealKey);
    const answer = await submit({ subject: 'forwarded CAdES', senderSeal: 'cades' }, [
      { bytes: pdf, type: 'application/pdf', name: 'claim.pdf' },
      { bytes: signature, type: 'application/pkcs7-signature', name: 'claim.pdf.p7s' },
    ]);
    expect(answer.status).toBe(201);
    const data = parseEvidenceXml(await apiText(net.c2.url, SENDER.key, answer.body.evidence[0].href));
    expect(data.reason?.details).toMatch(
      /sender CAdES seal \(B-B\) in part-2 over part-1 by .*verified at intake/,
    );

    const delivered = await pickUp('forwarded CAdES');
    expect(delivered).toHaveLength(2);
    const [content, sig] = delivered.map(opensslDecrypt);
    expect(content!.equals(pdf)).toBe(true);
    expect(sig!.equals(signature)).toBe(true);
    const dir = mkdtempSync(join(work, 'verify-'));
    writeFileSync(join(dir, 'claim.pdf'), content!);
    writeFileSync(join(dir, 'claim.p7s'), sig!);
    const verify = (file: string) =>
      spawnSync(
        'openssl',
        [
          'cms',
          '-verify',
          '-binary',
          '-inform',
          'DER',
          '-in',
          join(dir, 'claim.p7s'),
          '-content',
          file,
          '-CAfile',
          sharedTestPki().caCert,
          '-out',
          '/dev/null',
        ],
        { encoding: 'utf8' },
      );
    const ok = verify(join(dir, 'claim.pdf'));
    expect(ok.stderr).toMatch(/Verification successful/);
    expect(ok.status).toBe(0);
    const altered = Buffer.from(content!);
    altered[100] = altered[100]! ^ 0x01;
    writeFileSync(join(dir, 'altered.pdf'), altered);
    expect(verify(join(dir, 'altered.pdf')).status).not.toBe(0);
  });
});

describe('forwarded use: a C1 seal that does not verify is refused at intake', () => {
  const certs = join(work, 'bad-certs');
  beforeAll(() => mkdirSync(certs, { recursive: true }));

  async function expectRefused(answer: Awaited<ReturnType<typeof submit>>, reason: string, detail: RegExp) {
    expect(answer.status).toBe(422);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ code: 'SUBMISSION_REJECTED', reason });
    expect(answer.body.detail).toMatch(detail);
    const messageId = answer.body.message.id as string;
    const stored = await accessPointInternals(net.c2).context.store.getMessage(messageId);
    expect(stored?.state).toBe('rejected');
    // Nothing went further: not encrypted, never relayed, one SubmissionRejection with the reason.
    expect(stored?.parts.every((p) => p.plaintextSha256 === undefined)).toBe(true);
    const chain = await accessPointInternals(net.c2).context.store.listEvidence(messageId);
    expect(chain.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(parseEvidenceXml(chain[0]!.xml).reason).toMatchObject({
      code: reason,
      details: expect.stringMatching(detail),
    });
    const inbox = await api<Array<{ ebmsMessageId: string }>>(net.c3.url, RECIPIENT.key, '/api/v1/inbox');
    expect(inbox.some((m) => m.ebmsMessageId === stored!.ebmsMessageId)).toBe(false);
  }

  it('one byte changed in an XAdES-sealed invoice: RA02, digest mismatch', async () => {
    const sealed = await c1XadesSeal(invoiceTemplate);
    const tampered = Buffer.from(
      sealed.replace('<cbc:InvoicedQuantity unitCode="EA">10<', '<cbc:InvoicedQuantity unitCode="EA">19<'),
      'utf8',
    );
    expect(tampered.length).toBe(Buffer.byteLength(sealed));
    await expectRefused(
      await submit({ senderSeal: 'xades' }, [
        { bytes: tampered, type: 'application/xml', name: 'invoice.xml' },
      ]),
      'RA02',
      /sender XAdES seal not valid: SEAL_/,
    );
  });

  it('one byte changed in CAdES-sealed content: RA02, SEAL_DIGEST_MISMATCH', async () => {
    const pdf = Buffer.from('%PDF-1.7\nclaim 12345 JPY\n%%EOF\n');
    const signature = opensslCades(pdf, c1().sealCert, c1().sealKey);
    const altered = Buffer.from(pdf);
    altered[15] = '9'.charCodeAt(0);
    const answer = await submit({ senderSeal: 'cades' }, [
      { bytes: altered, type: 'application/pdf', name: 'claim.pdf' },
      { bytes: signature, type: 'application/pkcs7-signature', name: 'claim.pdf.p7s' },
    ]);
    await expectRefused(answer, 'RA02', /SEAL_DIGEST_MISMATCH/);
  });

  it('a CAdES seal by a certificate no trusted CA issued: RA02, no path to a trust anchor', async () => {
    const rogue = makeCertificate(
      sharedTestPki(),
      certs,
      'rogue',
      '/C=JP/O=Sample Trading/CN=self-made e-seal',
      { usage: 'seal', selfSigned: true },
    );
    const pdf = Buffer.from('%PDF-1.7\nclaim\n%%EOF\n');
    const answer = await submit({ senderSeal: 'cades' }, [
      { bytes: pdf, type: 'application/pdf', name: 'claim.pdf' },
      {
        bytes: opensslCades(pdf, rogue.cert, rogue.key),
        type: 'application/pkcs7-signature',
        name: 'claim.pdf.p7s',
      },
    ]);
    await expectRefused(answer, 'RA02', /PKI_PATH_NOT_FOUND/);
  });

  it('an XAdES seal by an expired certificate: RA04 (sender signing certificate expired or revoked)', async () => {
    const expired = makeCertificate(
      sharedTestPki(),
      certs,
      'expired',
      '/C=JP/O=Sample Trading/CN=expired e-seal',
      { usage: 'seal', expired: true },
    );
    const sealed = await sealXml(invoiceTemplate, {
      identity: loadSigningIdentity(expired.cert, expired.key),
      clock: systemClock,
      idGenerator: sequentialIdGenerator(),
    });
    await expectRefused(
      await submit({ senderSeal: 'xades' }, [
        { bytes: Buffer.from(sealed), type: 'application/xml', name: 'invoice.xml' },
      ]),
      'RA04',
      /PKI_CERT_EXPIRED/,
    );
  });
});
